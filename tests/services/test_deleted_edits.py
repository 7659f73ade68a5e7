"""Deleting a message forgets every version of it (docs/protocol.md, Delete):
the group commit empties the bodies of the message's `edit` entries in the
deleting transaction, so no earlier text is served by a backfill, a history
page, the API, an export, the search or what retention leaves behind."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.models import Message
from rooms.services.commit import EntryRequest

pytestmark = pytest.mark.django_db

SECRET = "v2 contains hunter2-secret"


def edit(room, author, seq, body):
    return services.entry_post(room=room, author=author, kind="edit", target=seq, body=body)


def delete(room, author, seq):
    return services.entry_post(room=room, author=author, kind="delete", target=seq)


@pytest.fixture
def deleted(alice, lobby):
    """alice posts, edits in a secret, then deletes the message: its seq."""
    seq = services.message_post(room=lobby, author=alice, body="v1").seq
    edit(lobby, alice, seq, SECRET)
    delete(lobby, alice, seq)
    return seq


def everything(room) -> str:
    """Every entry of the room, as a backfill and an export read them."""
    return "\n".join(selectors.iter_entries(room=room, since=0))


def test_deleting_a_message_empties_the_bodies_of_its_edits(lobby, deleted):
    edits = Message.objects.filter(room=lobby, kind="edit", target=deleted)
    assert list(edits.values_list("body", flat=True)) == [""]
    assert "hunter2" not in everything(lobby)


def test_no_read_of_the_log_serves_a_deleted_messages_edit(bob, lobby, deleted):
    after = selectors.entries_after(room_id=lobby.id, slug=lobby.slug, after=0, limit=100)
    assert [json.loads(text)["kind"] for _, text in after] == ["text", "edit", "delete"]
    assert all("hunter2" not in text for _, text in after)
    access = selectors.join_start(user=bob, slug=lobby.slug, since=0, limit=None)[0]
    pages, _ = selectors.backfill_pages(room=access, after=0)
    assert all("hunter2" not in text for page in pages for text in page)
    history, _ = selectors.messages_before(room_id=lobby.id, slug=lobby.slug, before=None, limit=50)
    assert all("hunter2" not in text for _, text in history)


def test_the_api_serves_bob_no_body_of_a_deleted_messages_edit(bob, lobby, deleted):
    client = Client()
    client.force_login(bob)
    response = client.get(f"/api/rooms/{lobby.slug}/messages?after=0")
    assert response.status_code == 200
    assert b"hunter2" not in response.content


def test_an_edit_and_a_delete_in_one_batch_publish_no_body(alice, lobby):
    seq = services.message_post(room=lobby, author=alice, body="v1").seq
    results = services.entry_post_many(
        [
            EntryRequest(room=lobby, author=alice, kind="edit", target=seq, body=SECRET),
            EntryRequest(room=lobby, author=alice, kind="delete", target=seq),
        ]
    )
    assert all("hunter2" not in result.entry for result in results)
    assert "hunter2" not in everything(lobby)


def test_a_moderators_deletion_empties_the_authors_edits_too(alice, bob, lobby):
    services.membership_set_role(room=lobby, user=bob, role="moderator")
    seq = services.message_post(room=lobby, author=alice, body="v1").seq
    edit(lobby, alice, seq, SECRET)
    delete(lobby, bob, seq)
    assert "hunter2" not in everything(lobby)


def test_other_messages_edits_keep_their_bodies(alice, lobby, deleted):
    kept = services.message_post(room=lobby, author=alice, body="v1").seq
    edit(lobby, alice, kept, "still here")
    assert "still here" in everything(lobby)


def test_search_finds_no_version_of_a_deleted_message(bob, lobby, deleted):
    assert selectors.search_messages(user=bob, query="hunter2").hits == []


def test_retention_keeps_no_body_of_a_deleted_message(alice, lobby, deleted):
    services.message_post(room=lobby, author=alice, body="later")
    services.messages_prune(older_than=timedelta(days=1))  # prunes nothing: all new
    assert "hunter2" not in everything(lobby)
    services.messages_prune(older_than=timedelta(seconds=-60))  # all but the newest
    assert "hunter2" not in everything(lobby)
