"""@mentions: the parser (the browser's syntax, rooms/mentions.py) and what the
group commit records (rooms/services/commit.py → mentions.record): one bulk insert per
batch, only users who may see the room, edits that add or drop a mention,
and the room list's `mentions` count."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import selectors, services
from rooms.access import room_access
from rooms.mentions import mentioned_names
from rooms.models import Mention, Message
from rooms.services import EntryRequest

Kind = Message.Kind


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("hi @bob", {"bob"}),
        ("@alice and @bob.", {"alice", "bob"}),
        ("@carol: look", {"carol"}),
        ("(@dave) @e.f.g", {"dave", "e.f.g"}),
        ("mail bob@example.com", set()),
        ("https://example.com/@bob", set()),
        ("`@bob` in code", set()),
        ("``code with ` and @bob``", set()),
        ("```\n@bob in a fence\n```\nbut @carol", {"carol"}),
        ("```\nunclosed fence @bob", set()),
        ("[@bob](https://example.com) is a link's text", set()),
        ("> quoted @bob", {"bob"}),
        ("- listed @bob", {"bob"}),
        ("@ alone, @@double", set()),
        ("no mention", set()),
    ],
)
def test_mentioned_names_follow_the_renderers_syntax(body, names):
    assert mentioned_names(body) == names


@pytest.mark.parametrize(
    "body",
    ["`" * 4000, "`a" * 2000, "@" * 4000, "@a" * 2000, "```\n" * 1000, "[" * 2000 + "](" * 1000],
)
def test_mentioned_names_takes_bounded_time_on_hostile_bodies(body):
    started = time.perf_counter()
    mentioned_names(body)
    assert time.perf_counter() - started < 0.5


# --- storing -----------------------------------------------------------------------------


def mentioned(room, seq) -> set[str]:
    rows = Mention.objects.filter(room=room, seq=seq).values_list("user__username", flat=True)
    return set(rows)


def test_a_message_records_the_users_it_mentions(room_factory, alice, bob, user_factory):
    carol = user_factory("carol")
    lobby = room_factory("lobby")
    result = services.message_post(room=lobby, author=alice, body="@bob @carol @nobody @alice")
    assert mentioned(lobby, result.seq) == {"bob", "carol"}  # not the author, not unknown names
    mention = Mention.objects.get(user=carol)
    assert (mention.message.seq, mention.room_id) == (result.seq, lobby.id)


def test_a_mention_of_someone_who_cannot_see_the_room_is_not_recorded(
    room_factory, alice, bob, user_factory
):
    user_factory("carol")
    user_factory("gone", is_active=False)
    secret = room_factory("secret", is_private=True, members=[alice, bob])
    result = services.message_post(room=secret, author=alice, body="@bob @carol @gone")
    assert mentioned(secret, result.seq) == {"bob"}


def test_a_batch_records_its_mentions_in_one_insert(room_factory, alice, bob, user_factory):
    user_factory("carol")
    lobby, attic = room_factory("lobby"), room_factory("attic")
    requests = [
        EntryRequest(room=lobby, author=alice, body="@bob one"),
        EntryRequest(room=lobby, author=alice, body="@carol two"),
        EntryRequest(room=attic, author=bob, body="@alice @carol three"),
    ]
    with CaptureQueriesContext(connection) as queries:
        services.entry_post_many(requests)
    inserts = [q["sql"] for q in queries if '"rooms_mention"' in q["sql"] and "INSERT" in q["sql"]]
    assert len(inserts) == 1
    assert Mention.objects.count() == 4


def test_an_edit_that_adds_a_mention_records_it_and_one_that_drops_it_removes_it(
    room_factory, alice, bob, user_factory
):
    user_factory("carol")
    lobby = room_factory("lobby")
    seq = services.message_post(room=lobby, author=alice, body="hello @bob").seq
    services.entry_post(room=lobby, author=alice, kind=Kind.EDIT, target=seq, body="@bob @carol")
    assert mentioned(lobby, seq) == {"bob", "carol"}
    services.entry_post(room=lobby, author=alice, kind=Kind.EDIT, target=seq, body="hi @carol")
    assert mentioned(lobby, seq) == {"carol"}
    # The edit entry itself is not a message: the mentions stay on the message's seq.
    assert set(Mention.objects.values_list("seq", flat=True)) == {seq}


def test_reactions_and_deletions_record_nothing(room_factory, alice, bob):
    lobby = room_factory("lobby")
    seq = services.message_post(room=lobby, author=alice, body="plain").seq
    services.entry_post(room=lobby, author=bob, kind=Kind.REACTION, target=seq, emoji="👍")
    services.entry_post(room=lobby, author=alice, kind=Kind.DELETE, target=seq)
    assert not Mention.objects.exists()


def test_room_list_counts_unread_mentions_by_others_not_deleted(room_factory, alice, bob):
    lobby = room_factory("lobby")
    first = services.message_post(room=lobby, author=bob, body="@alice early").seq
    services.message_post(room=lobby, author=bob, body="@alice one")
    gone = services.message_post(room=lobby, author=bob, body="@alice deleted").seq
    services.message_post(room=lobby, author=bob, body="no mention")
    services.message_post(room=lobby, author=alice, body="@alice myself")
    services.entry_post(room=lobby, author=bob, kind=Kind.DELETE, target=gone)
    access = room_access(user=alice, slug="lobby")
    services.read_cursor_advance(user=alice, room=access, seq=first)
    rooms = {room["slug"]: room for room in selectors.rooms_for_user(user=alice)}
    assert (rooms["lobby"]["unread"], rooms["lobby"]["mentions"]) == (3, 1)
    bob_rooms = {room["slug"]: room for room in selectors.rooms_for_user(user=bob)}
    assert bob_rooms["lobby"]["mentions"] == 0


def test_api_room_list_returns_mentions(client, room_factory, alice, bob):
    lobby = room_factory("lobby")
    services.message_post(room=lobby, author=bob, body="hey @alice")
    client.force_login(alice)
    rooms = client.get("/api/rooms").json()["rooms"]
    assert [(room["slug"], room["unread"], room["mentions"]) for room in rooms] == [("lobby", 1, 1)]
