"""What the hub hands its feeds and sockets for each kind of event
(rooms/realtime/dispatch.py), as another process's events come in from the
layer; and what it drops. Fake sockets and layer, a clock the test moves;
rows through the services."""

import pytest
from channels.db import database_sync_to_async

from rooms import events
from rooms.models import Room

from .fakes import OTHER_PROCESS, FakeSocket, entry, from_other_process, join

pytestmark = pytest.mark.django_db(transaction=True)


# --- events about a room ------------------------------------------------------


async def test_entries_from_another_process_reach_the_rooms_sockets(hub, clock, alice, lobby):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    items = ((1, entry(1)), (2, entry(2)))
    hub.ingest(from_other_process(events.Entries(room_id=lobby.id, items=items)))
    await clock.idle()
    assert socket.stream() == [("message", [1]), ("message", [2])]


async def test_typing_reaches_the_rooms_sockets_but_the_typists_own(hub, clock, alice, bob, lobby):
    alices, bobs = FakeSocket("alice"), FakeSocket("bob")
    await join(hub, alices, alice, lobby)
    await join(hub, bobs, bob, lobby)
    hub.ingest(from_other_process(events.Typing(room_id=lobby.id, user="bob")))
    await clock.idle()
    assert alices.of_type("typing") == [{"type": "typing", "room": "lobby", "user": "bob"}]
    assert bobs.of_type("typing") == []


async def test_a_room_changed_elsewhere_sends_the_room_frame(hub, clock, alice, lobby):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    # Another process renamed the room (its service told its own hub); this
    # hub hears only the layer's event, and reads the room again.
    await database_sync_to_async(Room.objects.filter(pk=lobby.pk).update)(title="Renamed")
    hub.ingest(from_other_process(events.RoomChanged(room_id=lobby.id)))
    await clock.idle()
    assert socket.of_type("room") == [
        {"type": "room", "room": "lobby", "title": "Renamed", "read_only": False}
    ]


async def test_a_room_deleted_elsewhere_is_lost_by_every_socket(hub, clock, alice, bob, lobby):
    sockets = [FakeSocket("alice"), FakeSocket("bob")]
    subscriptions = [
        await join(hub, socket, user, lobby)
        for socket, user in zip(sockets, (alice, bob), strict=True)
    ]
    await database_sync_to_async(Room.objects.filter(pk=lobby.pk).delete)()
    hub.ingest(from_other_process(events.RoomChanged(room_id=lobby.id)))
    await clock.idle()
    assert [socket.lost for socket in sockets] == [[subscription] for subscription in subscriptions]


# --- events about a user ------------------------------------------------------


async def test_an_access_change_makes_that_users_sockets_recheck_the_room(
    hub, clock, alice, bob, lobby
):
    alices, bobs = FakeSocket("alice"), FakeSocket("bob")
    await hub.attach_user(alice.pk, alices)
    await hub.attach_user(bob.pk, bobs)
    hub.ingest(from_other_process(events.AccessChanged(user_id=alice.pk, room_id=lobby.id)))
    await clock.idle()
    assert alices.rechecked == [lobby.id]
    assert bobs.rechecked == []


async def test_a_moved_read_cursor_reaches_the_users_other_sockets(hub, clock, alice, bob):
    mover, other = FakeSocket("alice", socket_id="s1"), FakeSocket("alice", socket_id="s2")
    stranger = FakeSocket("bob")
    for user, socket in ((alice, mover), (alice, other), (bob, stranger)):
        await hub.attach_user(user.pk, socket)
    moved = events.ReadMoved(user_id=alice.pk, room="lobby", seq=3, socket_id="s1")
    hub.ingest(from_other_process(moved))
    await clock.idle()
    assert other.frames == [{"type": "read", "room": "lobby", "seq": 3}]
    assert mover.frames == []
    assert stranger.frames == []


# --- events dropped -----------------------------------------------------------


IGNORED = {
    "unknown kind": lambda room_id: {
        "type": events.LAYER_TYPE,
        "kind": "poll",  # a newer worker's, during a rolling upgrade
        "origin": OTHER_PROCESS,
        "room_id": room_id,
        "question": "Lunch?",
    },
    "known kind, field missing": lambda room_id: {
        "type": events.LAYER_TYPE,
        "kind": events.Typing.kind,
        "origin": OTHER_PROCESS,
        "room_id": room_id,
    },
    "room not joined here": lambda room_id: from_other_process(
        events.Typing(room_id=room_id + 1, user="bob")
    ),
}


@pytest.mark.parametrize("message", IGNORED.values(), ids=IGNORED.keys())
async def test_an_event_the_hub_cannot_use_is_ignored(hub, clock, layer, alice, lobby, message):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    await clock.idle()
    layer_calls = len(layer.calls)
    hub.ingest(message(lobby.id))
    await clock.idle()
    assert socket.frames == []
    assert layer.calls[layer_calls:] == []
