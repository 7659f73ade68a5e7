"""The reads of rooms/selectors.py: who may see a room, heads, keyset pages
of messages by seq, and the per-user room list.
"""

import json
from datetime import timedelta

import pytest

from rooms import selectors, services
from rooms.access import room_access
from rooms.models import Membership

pytestmark = pytest.mark.django_db


def fill(room, count: int, author=None) -> None:
    for n in range(count):
        services.message_post(room=room, author=author, body=f"m{n + 1}", check_rate=False)


def seqs(rows) -> list[int]:
    return [seq for seq, _ in rows]


# --- room_access --------------------------------------------------------------------


def test_public_room_is_visible_to_everyone(room_factory, alice):
    room = room_factory("lobby", title="The Lobby")
    fill(room, 2)
    access = room_access(user=alice, slug="lobby")
    assert (access.id, access.slug, access.title, access.head) == (room.id, "lobby", "The Lobby", 2)
    assert (access.role, access.last_read_seq, access.read_only) == (None, None, False)


def test_title_defaults_to_the_slug(room_factory, alice):
    room_factory("untitled")
    assert room_access(user=alice, slug="untitled").title == "untitled"


def test_private_room_is_hidden_from_non_members(room_factory, alice, bob):
    room_factory("secret", is_private=True, members=[alice])
    assert room_access(user=alice, slug="secret").role == Membership.Role.MEMBER
    assert room_access(user=bob, slug="secret") is None


def test_private_room_is_hidden_from_staff_who_are_not_members(room_factory, user_factory):
    staff = user_factory("mod", is_staff=True)
    room_factory("secret", is_private=True)
    assert room_access(user=staff, slug="secret") is None
    room_factory("secret", members=[staff])
    assert room_access(user=staff, slug="secret") is not None


@pytest.mark.parametrize("slug", ["nope", "has space", "", "x" * 65, "../etc", "é"])
def test_unknown_or_impossible_slugs_are_not_found(room_factory, alice, slug):
    room_factory("lobby")
    assert room_access(user=alice, slug=slug) is None


def test_read_only_member_and_archived_room_are_read_only(room_factory, alice, bob):
    room = room_factory("lobby")
    services.membership_set_role(user=alice, room=room, role=Membership.Role.READ_ONLY)
    alice_view = room_access(user=alice, slug="lobby")
    access = selectors.post_access(room_id=room.id, author_ids=[alice.pk, bob.pk])
    assert alice_view.read_only
    assert (access.roles[alice.pk], access.hidden(alice), access.hidden(bob)) == (
        Membership.Role.READ_ONLY,
        None,
        None,
    )
    services.room_update(room=room, is_archived=True)
    bob_view = room_access(user=bob, slug="lobby")
    access = selectors.post_access(room_id=room.id, author_ids=[bob.pk])
    assert (bob_view.read_only, bob_view.is_archived, access.is_archived) == (True, True, True)


def test_room_access_carries_the_read_cursor(room_factory, alice):
    room = room_factory("lobby")
    fill(room, 4)
    services.read_cursor_advance(user=alice, room=room_access(user=alice, slug="lobby"), seq=3)
    assert room_access(user=alice, slug="lobby").last_read_seq == 3


# --- heads and pages -------------------------------------------------------------------


def test_heads_of_many_rooms_in_one_call(room_factory):
    first, second, empty = room_factory("a"), room_factory("b"), room_factory("c")
    fill(first, 3)
    fill(second, 1)
    heads = selectors.room_heads(room_ids=[first.id, second.id, empty.id])
    assert heads == {first.id: 3, second.id: 1, empty.id: 0}
    assert selectors.room_head(room_id=first.id) == 3
    assert selectors.room_head(room_id=10**9) == 0


def test_messages_after_is_ascending_limited_and_bounded(room_factory):
    room = room_factory("lobby")
    fill(room, 10)
    page = selectors.entries_after(room_id=room.id, slug="lobby", after=3, limit=4)
    assert seqs(page) == [4, 5, 6, 7]
    assert json.loads(page[0][1])["body"] == "m4"
    bounded = selectors.entries_after(room_id=room.id, slug="lobby", after=3, limit=50, up_to=5)
    assert seqs(bounded) == [4, 5]
    assert selectors.entries_after(room_id=room.id, slug="lobby", after=10, limit=5) == []


def test_messages_before_pages_backwards_with_has_more(room_factory):
    room = room_factory("lobby")
    fill(room, 7)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=8, limit=3)
    assert (seqs(page), has_more) == ([5, 6, 7], True)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=5, limit=4)
    assert (seqs(page), has_more) == ([1, 2, 3, 4], False)
    page, has_more = selectors.messages_before(room_id=room.id, slug="lobby", before=1, limit=4)
    assert (page, has_more) == ([], False)


def test_pages_render_deleted_messages_with_empty_body(room_factory, alice):
    room = room_factory("lobby")
    fill(room, 2, author=alice)
    services.entry_post(room=room, author=alice, kind="delete", target=1)
    page = selectors.entries_after(room_id=room.id, slug="lobby", after=0, limit=5)
    first, second, change = (json.loads(text) for _, text in page)
    assert (first["seq"], first["body"], first["deleted"], first["author"]) == (
        1,
        "",
        True,
        "alice",
    )
    assert (change["kind"], change["target"]) == ("delete", 1)
    assert (second["body"], second["deleted"]) == ("m2", False)


def test_oldest_seq_follows_retention(room_factory):
    room = room_factory("lobby")
    assert selectors.oldest_seq(room_id=room.id) is None
    fill(room, 3)
    assert selectors.oldest_seq(room_id=room.id) == 1
    services.messages_prune(older_than=timedelta(0))
    assert selectors.oldest_seq(room_id=room.id) == 3


def test_iter_messages_streams_every_message_in_batches(room_factory):
    room = room_factory("lobby")
    fill(room, 7)
    texts = list(selectors.iter_entries(room=room, since=2, batch=2))
    assert [json.loads(text)["seq"] for text in texts] == [3, 4, 5, 6, 7]


def test_seqs_by_client_id_separates_users_and_system(room_factory, alice):
    room = room_factory("lobby")
    services.message_post(room=room, author=alice, body="mine", client_id="c")
    services.message_post(room=room, author=None, body="system", client_id="c")
    keys = [(room.id, alice.pk, "c"), (room.id, None, "c"), (room.id, None, "d")]
    assert selectors.seqs_by_client_id(keys=keys) == {keys[0]: 1, keys[1]: 2}


# --- lists and stats ---------------------------------------------------------------------


def test_rooms_for_user_lists_visible_rooms_with_unread_counts(room_factory, alice, bob):
    lobby = room_factory("lobby")
    room_factory("secret", is_private=True, members=[bob])
    room_factory("attic", is_archived=True)
    fill(lobby, 5)
    access = room_access(user=alice, slug="lobby")
    services.read_cursor_advance(user=alice, room=access, seq=2)
    rooms = {room["slug"]: room for room in selectors.rooms_for_user(user=alice)}
    assert sorted(rooms) == ["attic", "lobby"]
    assert (rooms["lobby"]["head"], rooms["lobby"]["unread"]) == (5, 3)
    assert rooms["lobby"]["last_activity"].endswith("Z")
    assert (rooms["attic"]["archived"], rooms["attic"]["last_activity"]) == (True, None)
    bob_rooms = [room["slug"] for room in selectors.rooms_for_user(user=bob)]
    assert bob_rooms == ["attic", "lobby", "secret"]


def test_room_stats_count_messages_and_members(room_factory, alice, bob):
    room = room_factory("lobby", members=[alice, bob])
    fill(room, 3)
    (stats,) = selectors.room_stats(slug="lobby")
    assert (stats.message_count, stats.member_count) == (3, 2)
    assert stats.last_activity is not None
