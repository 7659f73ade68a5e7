"""Reading attachments (rooms/selectors/attachments.py): the objects a page
of messages carries (one query for the page, none of it for a message
without files), and who may have a file: whoever may see its room, asked
on each call; an upload not yet sent only its uploader; nobody anonymous."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import selectors, services
from rooms.models import Attachment, Message
from tests.files.samples import HTML, SVG, png, stored_upload

pytestmark = pytest.mark.django_db


def send(room, author, *ids, body=""):
    return services.message_post(room=room, author=author, body=body, attachments=ids)


def test_backfill_history_and_the_log_carry_the_files_of_each_message(room_factory, alice):
    lobby = room_factory("lobby")
    first, second = stored_upload(alice, lobby, png(), "a.png"), stored_upload(alice, lobby)
    send(lobby, alice, first.id, second.id)
    send(lobby, alice, body="no files")
    pages = [
        selectors.entries_after(room_id=lobby.id, slug="lobby", after=0, limit=10),
        selectors.messages_before(room_id=lobby.id, slug="lobby", before=None, limit=10)[0],
    ]
    for page in pages:
        with_files, without = (json.loads(text) for _, text in page)
        assert [item["id"] for item in with_files["attachments"]] == [first.id, second.id]
        assert "attachments" not in without
    live = json.loads(send(lobby, alice, stored_upload(alice, lobby).id).entry)
    (_, read_back), *_ = selectors.entries_after(room_id=lobby.id, slug="lobby", after=2, limit=1)
    assert json.loads(read_back) == live  # the same object, live or read back


def test_a_page_reads_its_files_in_one_query_or_none_when_its_json_is_stored(room_factory, alice):
    lobby = room_factory("lobby")
    for _ in range(3):
        send(lobby, alice, stored_upload(alice, lobby).id)

    def file_reads():
        with CaptureQueriesContext(connection) as queries:
            selectors.entries_after(room_id=lobby.id, slug="lobby", after=0, limit=10)
        return [q["sql"] for q in queries if Attachment._meta.db_table in q["sql"]]

    assert file_reads() == []  # the stored JSON carries them
    Message.objects.filter(room=lobby).update(json="")  # as rows stored before it
    assert len(file_reads()) == 1


@pytest.fixture
def private_room(room_factory, alice):
    return room_factory("secret", is_private=True, members=[alice])


def test_a_sent_file_is_served_to_whoever_sees_its_room_only(
    private_room, room_factory, alice, bob, user_factory
):
    attachment = stored_upload(alice, private_room, png(), "a.png")
    send(private_room, alice, attachment.id)
    served = selectors.attachment_to_serve(user=alice, attachment_id=attachment.id)
    assert (served.key, served.name, served.content_type, served.inline) == (
        attachment.key,
        "a.png",
        "image/png",
        True,
    )
    assert selectors.attachment_to_serve(user=bob, attachment_id=attachment.id) is None
    anonymous = AnonymousUser()
    assert selectors.attachment_to_serve(user=anonymous, attachment_id=attachment.id) is None
    services.membership_set_role(room=private_room, user=bob, role="member")
    assert selectors.attachment_to_serve(user=bob, attachment_id=attachment.id) is not None
    services.membership_remove(room=private_room, user=bob)
    assert selectors.attachment_to_serve(user=bob, attachment_id=attachment.id) is None


def test_an_upload_not_yet_sent_is_its_uploaders_alone(room_factory, alice, bob):
    lobby = room_factory("lobby")
    attachment = stored_upload(alice, lobby)
    assert selectors.attachment_to_serve(user=alice, attachment_id=attachment.id) is not None
    assert selectors.attachment_to_serve(user=bob, attachment_id=attachment.id) is None
    send(lobby, alice, attachment.id)
    assert selectors.attachment_to_serve(user=bob, attachment_id=attachment.id) is not None


@pytest.mark.parametrize(("content", "name"), [(HTML, "page.html"), (SVG, "logo.svg")])
def test_html_and_svg_are_never_served_in_place(room_factory, alice, content, name):
    attachment = stored_upload(alice, room_factory("lobby"), content, name)
    served = selectors.attachment_to_serve(user=alice, attachment_id=attachment.id)
    assert (served.inline, served.content_type) == (False, "text/plain; charset=utf-8")


def test_the_thumbnail_is_an_images_only(room_factory, alice):
    lobby = room_factory("lobby")
    image, text = stored_upload(alice, lobby, png(), "a.png"), stored_upload(alice, lobby)
    thumbnail = selectors.attachment_to_serve(user=alice, attachment_id=image.id, thumbnail=True)
    assert (thumbnail.key, thumbnail.name, thumbnail.content_type) == (
        image.thumbnail_key,
        "a.webp",
        "image/webp",
    )
    assert selectors.attachment_to_serve(user=alice, attachment_id=text.id, thumbnail=True) is None


@pytest.mark.parametrize("attachment_id", ["0" * 32, "nope", "A" * 32, ""])
def test_an_unknown_or_malformed_id_is_nothing(alice, attachment_id):
    assert selectors.attachment_to_serve(user=alice, attachment_id=attachment_id) is None
