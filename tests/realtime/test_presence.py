"""Presence across processes (rooms/realtime/presence.py): what this hub
tells the other processes and when, what it makes of theirs, and its row of
the presence snapshot that `roomstats` reads. Fake sockets and layer, a clock
the test moves; rows through the services."""

import pytest
from channels.db import database_sync_to_async

from rooms import events, selectors
from rooms.broadcast import PROCESS_ID
from rooms.realtime.feed import PRESENCE_INTERVAL
from rooms.realtime.presence import PRESENCE_HEARTBEAT

from .fakes import OTHER_PROCESS, FakeSocket, from_other_process, join

pytestmark = pytest.mark.django_db(transaction=True)


def announced(layer, room) -> list[events.Presence]:
    """The presence events this process sent on the room's group."""
    return [
        event
        for event in map(events.decode, layer.sent(events.room_group(room.id)))
        if isinstance(event, events.Presence)
    ]


@database_sync_to_async
def online(room) -> set[str]:
    return selectors.online_users().get(room.id, set())


# --- this process's users -----------------------------------------------------


async def test_a_users_first_join_and_last_leave_are_told_to_the_other_processes(
    hub, clock, layer, alice, bob, lobby
):
    await join(hub, FakeSocket("alice"), alice, lobby)
    leaving = await join(hub, FakeSocket("bob"), bob, lobby)
    await clock.idle()
    assert announced(layer, lobby)[-1].users == ("alice", "bob")
    await hub.unsubscribe(leaving)
    await clock.idle()
    assert announced(layer, lobby)[-1] == events.Presence(
        room_id=lobby.id, process=PROCESS_ID, users=("alice",)
    )


async def test_every_heartbeat_this_processs_users_are_told_again(hub, clock, layer, alice, lobby):
    await join(hub, FakeSocket("alice"), alice, lobby)
    await clock.idle()
    before = len(announced(layer, lobby))
    await clock.advance(PRESENCE_HEARTBEAT)
    beats = announced(layer, lobby)[before:]
    assert beats == [events.Presence(room_id=lobby.id, process=PROCESS_ID, users=("alice",))]


async def test_joined_users_are_saved_to_the_snapshot_within_a_second_and_removed_at_the_end(
    hub, clock, alice, lobby
):
    subscription = await join(hub, FakeSocket("alice"), alice, lobby)
    assert await online(lobby) == set()
    await clock.advance(1.0)
    assert await online(lobby) == {"alice"}
    await hub.unsubscribe(subscription)
    await clock.idle()  # the last socket gone, the hub stops and clears its row
    assert not hub.running
    assert await online(lobby) == set()


# --- other processes' users ---------------------------------------------------


async def test_presence_from_another_process_is_shown_with_this_ones(
    hub, clock, layer, alice, lobby
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    await clock.idle()
    group = events.room_group(lobby.id)
    before = len(layer.sent(group))
    presence = events.Presence(room_id=lobby.id, process=OTHER_PROCESS, users=("zed",))
    hub.ingest(from_other_process(presence))
    await clock.idle()
    # Presence frames of a room are at least PRESENCE_INTERVAL apart: alice's
    # own join showed one just now, so zed's arrival waits for the interval.
    assert socket.of_type("presence") == []
    await clock.advance(PRESENCE_INTERVAL)
    assert socket.of_type("presence") == [
        {"type": "presence", "room": "lobby", "users": ["alice", "zed"]}
    ]
    assert layer.sent(group)[before:] == []  # not asked


async def test_a_presence_ask_from_another_process_is_answered_with_this_ones_users(
    hub, clock, layer, alice, lobby
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    await clock.idle()
    group = events.room_group(lobby.id)
    before = len(layer.sent(group))
    presence = events.Presence(room_id=lobby.id, process=OTHER_PROCESS, users=(), ask=True)
    hub.ingest(from_other_process(presence))
    await clock.idle()
    answer = events.Presence(room_id=lobby.id, process=PROCESS_ID, users=("alice",))
    assert [events.decode(message) for message in layer.sent(group)[before:]] == [answer]
