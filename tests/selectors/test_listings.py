"""Rooms as lists show them (rooms/selectors/listings.py): the rooms a user
may see with their counts, one room's detail, and the operators' counts."""

import pytest

from rooms import selectors, services
from rooms.access import room_access
from rooms.models import Membership

pytestmark = pytest.mark.django_db


def fill(room, count: int, author=None) -> None:
    for n in range(count):
        services.message_post(room=room, author=author, body=f"m{n + 1}", check_rate=False)


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


def test_rooms_for_user_hides_private_rooms_from_staff_who_are_not_members(
    room_factory, user_factory
):
    staff = user_factory("boss", is_staff=True, is_superuser=True)
    room_factory("lobby")
    room_factory("secret", is_private=True)
    assert [room["slug"] for room in selectors.rooms_for_user(user=staff)] == ["lobby"]


def test_room_detail_says_the_callers_role_and_whether_they_manage(room_factory, alice, bob):
    room = room_factory("lobby", members=[bob])
    services.membership_set_role(user=alice, room=room, role=Membership.Role.MODERATOR)
    mine = selectors.room_detail(room=room, user=alice)
    theirs = selectors.room_detail(room=room, user=bob)
    assert (mine["slug"], mine["role"], mine["can_manage"]) == ("lobby", "moderator", True)
    assert (theirs["role"], theirs["can_manage"]) == ("member", False)


def test_room_stats_count_messages_and_members(room_factory, alice, bob):
    room = room_factory("lobby", members=[alice, bob])
    fill(room, 3)
    (stats,) = selectors.room_stats(slug="lobby")
    assert (stats.message_count, stats.member_count) == (3, 2)
    assert stats.last_activity is not None
