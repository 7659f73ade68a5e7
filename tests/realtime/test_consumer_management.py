"""What open sockets see of a room's management (docs/room-management.md),
through the real ASGI application: a member removed by a moderator stops
receiving the room at once and cannot join it again, an invited user's
socket hears of it and may join, and a role change or a rename arrives as a
`room` frame. The rules themselves: tests/services/test_management.py.
"""

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Membership
from tests.harness.inprocess import post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plans(alice, bob):
    """A private room alice made (its moderator) and bob belongs to."""
    room = services.room_create_by(by=alice, slug="plans", title="Plans", is_private=True)
    services.membership_invite(room=room, by=alice, username="bob")
    return room


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


async def frames_until_pong(client) -> list[dict]:
    """Every frame the socket gets before the answer to a ping sent now: what
    the server had queued for it."""
    await client.send({"type": "ping", "ref": "until"})
    frames = []
    while (frame := await client.recv())["type"] != "pong":
        frames.append(frame)
    return frames


async def test_a_removed_member_stops_receiving_the_room_and_cannot_rejoin(
    clients, alice, bob, plans
):
    moderator, member = await clients.connect(alice), await clients.connect(bob)
    await moderator.join("plans")
    await member.join("plans")
    await database_sync_to_async(services.membership_revoke)(room=plans, by=alice, username="bob")
    assert await member.next_of("left", skip=("backfill",)) == {
        "type": "left",
        "room": "plans",
        "reason": "removed",
    }
    # A message posted after the removal reaches the moderator's socket; by
    # the time the removed member's ping is answered, it has not reached his.
    seq = await post("plans", "after bob left", author=alice)
    assert (await moderator.stream("plans", seq))[-1]["body"] == "after bob left"
    missed = await frames_until_pong(member)
    assert not [
        frame for frame in missed if frame.get("room") == "plans" and frame["type"] != "rooms"
    ]
    await member.error({"type": "join", "room": "plans"}, "not_found")
    await member.error({"type": "history", "room": "plans"}, "not_found")


async def test_the_removed_member_hears_that_their_rooms_changed(clients, alice, bob, plans):
    member = await clients.connect(bob)  # the room list: not joined to the room
    await database_sync_to_async(services.membership_revoke)(room=plans, by=alice, username="bob")
    assert await member.next_of("rooms") == {"type": "rooms"}


async def test_an_invited_users_open_socket_hears_of_it_and_may_join(clients, alice, carol, plans):
    invitee = await clients.connect(carol)
    await invitee.error({"type": "join", "room": "plans"}, "not_found")
    await database_sync_to_async(services.membership_invite)(room=plans, by=alice, username="carol")
    assert await invitee.next_of("rooms") == {"type": "rooms"}
    joined = await invitee.join("plans")
    assert (joined["room"], joined["read_only"]) == ("plans", False)
    seq = await post("plans", "welcome", author=alice)
    assert (await invitee.stream("plans", seq))[-1]["body"] == "welcome"


async def test_a_role_change_to_read_only_reaches_the_members_socket(clients, alice, bob, plans):
    member = await clients.connect(bob)
    await member.join("plans")
    await database_sync_to_async(services.membership_change_role)(
        room=plans, by=alice, username="bob", role=Membership.Role.READ_ONLY
    )
    frame = await member.next_of("room", skip=("backfill",))
    assert (frame["room"], frame["read_only"]) == ("plans", True)
    await member.error({"type": "send", "room": "plans", "body": "hi"}, "forbidden")
    await database_sync_to_async(services.membership_change_role)(
        room=plans, by=alice, username="bob", role=Membership.Role.MEMBER
    )
    assert (await member.next_of("room"))["read_only"] is False


async def test_a_rename_and_an_archive_reach_joined_sockets(clients, alice, bob, plans):
    member = await clients.connect(bob)
    await member.join("plans")
    await database_sync_to_async(services.room_edit)(room=plans, by=alice, title="Roadmap")
    frame = await member.next_of("room", skip=("backfill",))
    assert (frame["title"], frame["read_only"]) == ("Roadmap", False)
    await database_sync_to_async(services.room_edit)(room=plans, by=alice, is_archived=True)
    assert (await member.next_of("room"))["read_only"] is True
