"""Uploads and the messages that carry them (rooms/services/attachments.py,
through the group commit): who may upload, what is stored, the upload
limit and rate, and the claim: an upload goes into at most one message, of
its uploader, in its room, whatever way the send comes in. Deleting or
pruning a message deletes its files once that has committed."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from rooms import selectors, services
from rooms.errors import RoomsError
from rooms.files import storage
from rooms.models import Attachment, Message
from rooms.services import EntryRequest
from tests.files.samples import HTML, in_storage, png, stored_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(room_factory):
    return room_factory("lobby")


def send(room, author, *ids, body="", client_id=None):
    return services.message_post(
        room=room, author=author, body=body, client_id=client_id, attachments=ids
    )


def refusal(call) -> RoomsError:
    with pytest.raises(RoomsError) as refused:
        call()
    return refused.value


# --- Uploading -------------------------------------------------------------------


def test_an_image_is_stored_re_encoded_with_a_thumbnail_and_its_size(lobby, alice):
    attachment = stored_upload(alice, lobby, png((900, 300)), "chart.png")
    assert (attachment.name, attachment.content_type) == ("chart.png", "image/png")
    assert (attachment.width, attachment.height, attachment.message_id) == (900, 300, None)
    assert in_storage(attachment.key) and in_storage(attachment.thumbnail_key)
    assert attachment.size == storage.attachments_storage().size(attachment.key)
    with storage.open_file(attachment.thumbnail_key) as thumbnail:
        assert Image.open(thumbnail).size == (400, 133)


def test_another_file_is_stored_as_it_came_typed_by_its_bytes(lobby, alice):
    attachment = stored_upload(alice, lobby, HTML, "cute-cat.png")
    assert (attachment.content_type, attachment.width, attachment.thumbnail_key) == (
        "text/plain; charset=utf-8",
        None,
        "",
    )
    with storage.open_file(attachment.key) as stored:
        assert stored.read() == HTML
    assert len(attachment.id) == 32 and attachment.id in attachment.key


def test_a_name_is_stored_clean_and_quoted_in_its_address(lobby, alice):
    attachment = stored_upload(alice, lobby, b"x", "../../a b\u202e.txt")
    assert attachment.name == "a b.txt"
    url = selectors.attachment_json(attachment=attachment)["url"]
    assert url == f"/attachments/{attachment.id}/a%20b.txt"


def test_a_read_only_member_may_not_upload_and_an_archived_room_takes_nothing(
    room_factory, alice, bob
):
    room = room_factory("announcements", members=[alice])
    services.membership_set_role(room=room, user=bob, role="read_only")
    assert refusal(lambda: stored_upload(bob, room)).code == "forbidden"
    services.room_update(room=room, is_archived=True)
    assert refusal(lambda: stored_upload(alice, room)).code == "read_only"
    assert not Attachment.objects.exists()


def test_a_room_the_uploader_cannot_see_is_not_found(room_factory, alice, bob):
    private = room_factory("secret", is_private=True, members=[alice])
    assert refusal(lambda: stored_upload(bob, private)).code == "not_found"


def test_an_empty_file_is_invalid_and_one_past_the_limit_too_large(lobby, alice, settings):
    assert refusal(lambda: stored_upload(alice, lobby, b"")).field == "file"
    settings.ROOMS_MAX_UPLOAD_BYTES = 10
    assert refusal(lambda: stored_upload(alice, lobby, b"x" * 11)).code == "too_large"


def test_uploads_past_the_rate_are_refused_apart_from_room_starts(lobby, alice, settings):
    settings.ROOMS_UPLOAD_RATE = (2, 3600)
    settings.ROOMS_CREATE_RATE = (1, 3600)
    stored_upload(alice, lobby)
    stored_upload(alice, lobby)
    refused = refusal(lambda: stored_upload(alice, lobby))
    assert refused.code == "rate_limited" and 3590 < refused.retry_after <= 3600
    services.room_create_by(by=alice, slug="still-allowed", title="")  # its own budget


def test_an_upload_queues_its_own_clean_up_a_day_later(
    lobby, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = stored_upload(alice, lobby)
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["args"] == [attachment.id]
    assert job.run_after - attachment.created_at == timedelta(days=1)


# --- Claiming ----------------------------------------------------------------------


def test_a_message_carries_its_uploads_in_the_order_sent_and_needs_no_text(lobby, alice):
    first = stored_upload(alice, lobby, png(), "a.png")
    second = stored_upload(alice, lobby, b"words", "b.txt")
    entry = json.loads(send(lobby, alice, second.id, first.id).entry)
    assert entry["body"] == ""
    assert [(item["id"], item["name"]) for item in entry["attachments"]] == [
        (second.id, "b.txt"),
        (first.id, "a.png"),
    ]
    assert entry["attachments"][1] == {
        "id": first.id,
        "name": "a.png",
        "size": first.size,
        "content_type": "image/png",
        "url": f"/attachments/{first.id}/a.png",
        "thumbnail_url": f"/attachments/thumbnails/{first.id}.webp",
        "width": 40,
        "height": 30,
    }
    message = Message.objects.get(room=lobby, seq=entry["seq"])
    assert list(message.attachments.values_list("id", "position")) == [
        (second.id, 0),
        (first.id, 1),
    ]


def test_without_attachments_the_body_is_required_and_no_key_is_added(lobby, alice):
    assert refusal(lambda: send(lobby, alice)).field == "body"
    assert "attachments" not in json.loads(send(lobby, alice, body="hi").entry)


@pytest.mark.parametrize(
    "whose",
    ["someone else's", "another room's", "already sent", "unknown", "malformed"],
)
def test_an_upload_that_is_not_the_senders_to_send_here_is_invalid(
    whose, room_factory, lobby, alice, bob
):
    if whose == "someone else's":
        upload_id = stored_upload(bob, lobby).id
    elif whose == "another room's":
        upload_id = stored_upload(alice, room_factory("elsewhere")).id
    elif whose == "already sent":
        upload_id = stored_upload(alice, lobby).id
        send(lobby, alice, upload_id)
    else:
        upload_id = "0" * 32 if whose == "unknown" else "../etc"
    refused = refusal(lambda: send(lobby, alice, upload_id, body="look"))
    assert (refused.code, refused.field) == ("invalid", "attachments")
    assert Message.objects.filter(room=lobby, body="look").count() == 0


def test_at_most_ten_attachments_each_named_once(lobby, alice):
    ids = [stored_upload(alice, lobby).id for _ in range(11)]
    assert refusal(lambda: send(lobby, alice, *ids)).field == "attachments"
    assert refusal(lambda: send(lobby, alice, ids[0], ids[0])).field == "attachments"
    assert len(json.loads(send(lobby, alice, *ids[:10]).entry)["attachments"]) == 10


def test_one_upload_named_by_two_sends_of_one_batch_goes_to_the_first_only(lobby, alice):
    upload_id = stored_upload(alice, lobby).id
    requests = [
        EntryRequest(room=lobby, author=alice, body="", attachments=(upload_id,)),
        EntryRequest(room=lobby, author=alice, body="", attachments=(upload_id,)),
    ]
    first, second = services.entry_post_many(requests)
    assert json.loads(first.entry)["attachments"][0]["id"] == upload_id
    assert (second.code, second.field) == ("invalid", "attachments")


def test_a_refused_or_repeated_send_claims_nothing(lobby, alice, settings):
    kept, other = stored_upload(alice, lobby).id, stored_upload(alice, lobby).id
    assert send(lobby, alice, kept, client_id="c-1").duplicate is False
    repeat = send(lobby, alice, other, client_id="c-1")  # the same send again (G4)
    assert repeat.duplicate is True
    settings.ROOMS_RATE_LIMIT = (1, 3600)
    assert refusal(lambda: send(lobby, alice, other)).code == "rate_limited"
    assert Attachment.objects.get(pk=other).message_id is None


def test_only_a_users_message_carries_files(lobby, alice):
    upload_id = stored_upload(alice, lobby).id
    system = refusal(lambda: send(lobby, None, upload_id, body="x"))
    assert system.field == "attachments"
    seq = send(lobby, alice, body="hi").seq
    edit = refusal(
        lambda: services.entry_post(
            room=lobby, author=alice, kind="edit", target=seq, body="x", attachments=(upload_id,)
        )
    )
    assert edit.field == "attachments"


# --- Deleting ----------------------------------------------------------------------


def test_deleting_a_message_deletes_its_files_after_the_commit(
    lobby, alice, django_capture_on_commit_callbacks
):
    attachment = stored_upload(alice, lobby, png(), "a.png")
    seq = send(lobby, alice, attachment.id).seq
    with django_capture_on_commit_callbacks() as pending:
        services.entry_post(room=lobby, author=alice, kind="delete", target=seq)
        assert not Attachment.objects.exists()
        assert in_storage(attachment.key)  # not before the commit
    for callback in pending:
        callback()
    assert not in_storage(attachment.key) and not in_storage(attachment.thumbnail_key)
    page, _ = selectors.messages_before(room_id=lobby.id, slug="lobby", before=None, limit=10)
    assert "attachments" not in json.loads(page[0][1])


def test_pruning_a_message_deletes_its_files(lobby, alice, django_capture_on_commit_callbacks):
    attachment = stored_upload(alice, lobby)
    send(lobby, alice, attachment.id)
    send(lobby, alice, body="newest")
    Message.objects.filter(room=lobby, seq=1).update(created_at=timezone.now() - timedelta(days=9))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.messages_prune(older_than=timedelta(days=1)) == 1
    assert not Attachment.objects.exists() and not in_storage(attachment.key)


def test_a_batch_claims_in_one_update_and_a_send_without_files_asks_nothing(lobby, alice):
    ids = [stored_upload(alice, lobby).id for _ in range(5)]
    requests = [EntryRequest(room=lobby, author=alice, body="", attachments=(i,)) for i in ids]
    table = Attachment._meta.db_table
    with CaptureQueriesContext(connection) as batch:
        services.entry_post_many(requests)
    touching = [query["sql"] for query in batch if table in query["sql"]]
    # The SELECT that locks, then one UPDATE statement executed per upload
    # (Django names an executemany "5 times: UPDATE …").
    assert len(touching) == 2
    assert touching[0].startswith("SELECT") and touching[1].split(": ", 1)[1].startswith("UPDATE")
    with CaptureQueriesContext(connection) as plain:
        send(lobby, alice, body="no files")
    assert not [query for query in plain if table in query["sql"]]
