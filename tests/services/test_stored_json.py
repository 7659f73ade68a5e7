"""The entry JSON stored with each entry (rooms/services/stored_json.py and
the group commit): after every change it equals a fresh rendering of the
entry's columns (what a read renders for a row without it), or it is
cleared, so no read serves a stale entry."""

import json

import pytest
from django.db.models import Q

from rooms import selectors, services
from rooms.models import Message
from tests.files.samples import png, stored_upload

pytestmark = pytest.mark.django_db


def post(room, author, body="hi", **extra):
    return services.message_post(room=room, author=author, body=body, **extra)


def change(room, author, kind, seq, **extra):
    return services.entry_post(room=room, author=author, kind=kind, target=seq, **extra)


def stored(room) -> dict[int, str]:
    return dict(Message.objects.filter(room=room).values_list("seq", "json"))


def fresh(room) -> dict[int, str]:
    """Every entry of the room rendered afresh from its columns."""
    by_pk = dict(selectors.entries_rendered(room_id=room.id, slug=room.slug, which=Q()))
    seq_of = dict(Message.objects.filter(room=room).values_list("pk", "seq"))
    return {seq_of[pk]: text for pk, text in by_pk.items()}


def assert_current(room) -> None:
    assert stored(room) == fresh(room)


def entry(room, seq) -> dict:
    ((_, text),) = selectors.entries_at(room_id=room.id, slug=room.slug, seqs=[seq])
    return json.loads(text)


def test_a_sent_entry_stores_the_json_it_was_published_with(lobby, alice):
    sent = post(lobby, alice, "hello", client_id="c-1")
    system = services.message_post(room=lobby, author=None, body="welcome")
    assert stored(lobby) == {sent.seq: sent.entry, system.seq: system.entry}
    assert_current(lobby)


def test_an_edit_stores_the_message_in_its_new_state(lobby, alice):
    sent = post(lobby, alice, "first")
    edit = change(lobby, alice, "edit", sent.seq, body="second")
    assert_current(lobby)
    assert entry(lobby, sent.seq)["body"] == "second"
    assert json.loads(stored(lobby)[edit.seq]) == json.loads(edit.entry)


def test_a_delete_stores_the_message_and_its_edits_emptied(lobby, alice):
    sent = post(lobby, alice, "first")
    first_edit = change(lobby, alice, "edit", sent.seq, body="secret")
    post(lobby, alice, "another")
    # An edit and the delete in one group commit: the edit's published JSON
    # is the emptied one too.
    edit, deleted = services.entry_post_many(
        [
            services.EntryRequest(lobby, alice, kind="edit", target=sent.seq, body="more"),
            services.EntryRequest(lobby, alice, kind="delete", target=sent.seq),
        ]
    )
    assert_current(lobby)
    assert entry(lobby, sent.seq)["deleted"] is True
    assert json.loads(edit.entry)["body"] == ""
    assert "secret" not in stored(lobby)[first_edit.seq]
    assert json.loads(stored(lobby)[deleted.seq])["kind"] == "delete"


def test_reactions_given_and_taken_back_are_stored(lobby, alice, bob):
    sent = post(lobby, alice)
    change(lobby, bob, "reaction", sent.seq, emoji="👍")
    change(lobby, alice, "reaction", sent.seq, emoji="👍")
    assert_current(lobby)
    assert entry(lobby, sent.seq)["reactions"] == {"👍": ["alice", "bob"]}
    change(lobby, bob, "reaction", sent.seq, emoji="👍", on=False)
    assert_current(lobby)
    assert entry(lobby, sent.seq)["reactions"] == {"👍": ["alice"]}


def test_a_message_with_files_stores_them(lobby, alice):
    upload = stored_upload(alice, lobby, png(), "a.png")
    sent = services.message_post(room=lobby, author=alice, body="", attachments=[upload.id])
    assert_current(lobby)
    assert [item["id"] for item in json.loads(stored(lobby)[sent.seq])["attachments"]] == [
        upload.id
    ]
    change(lobby, alice, "delete", sent.seq)
    assert_current(lobby)
    assert "attachments" not in entry(lobby, sent.seq)


def test_deleting_a_user_clears_the_json_that_shows_them(lobby, alice, bob, user_factory):
    theirs = post(lobby, bob, "by bob")
    liked = post(lobby, alice, "liked by bob")
    change(lobby, bob, "reaction", liked.seq, emoji="🎉")
    untouched = post(lobby, alice, "nothing of bob")
    bob.delete()
    assert stored(lobby)[theirs.seq] == stored(lobby)[liked.seq] == ""
    assert stored(lobby)[untouched.seq] != ""
    assert entry(lobby, theirs.seq)["author"] is None
    assert entry(lobby, liked.seq)["reactions"] == {}
    # A cleared row is current again once a change re-renders it.
    change(lobby, alice, "edit", liked.seq, body="edited")
    assert stored(lobby)[liked.seq] == fresh(lobby)[liked.seq]


def test_renaming_a_user_clears_the_json_that_shows_them(lobby, alice, bob):
    theirs = post(lobby, bob, "by bob")
    liked = post(lobby, alice, "liked by bob")
    change(lobby, bob, "reaction", liked.seq, emoji="🎉")
    untouched = post(lobby, alice, "nothing of bob")
    bob.last_name = "Builder"
    bob.save()  # not a rename: nothing cleared
    bob.save(update_fields=["last_login"])
    assert "" not in stored(lobby).values()
    bob.username = "robert"
    bob.save()
    assert stored(lobby)[theirs.seq] == stored(lobby)[liked.seq] == ""
    assert stored(lobby)[untouched.seq] != ""
    assert entry(lobby, theirs.seq)["author"] == "robert"
    assert entry(lobby, liked.seq)["reactions"] == {"🎉": ["robert"]}


def test_filling_stores_the_json_of_entries_without_it(lobby, room_factory, alice, bob):
    other = room_factory("other")
    for n in range(5):
        post(lobby, alice, f"m{n}")
    change(lobby, bob, "reaction", 2, emoji="👍")
    post(other, alice, "elsewhere")
    Message.objects.filter(room=lobby, seq__in=[1, 2, 3, 6]).update(json="")
    Message.objects.filter(room=other).update(json="")
    assert services.entries_json_fill(room=lobby, batch=2) == 4
    assert_current(lobby)
    assert stored(other) == {1: ""}  # another room's, when one room is named
    assert services.entries_json_fill() == 1
    assert_current(other)
    assert services.entries_json_fill() == 0
