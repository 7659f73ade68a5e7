"""The per-process hub (rooms/realtime/hub.py) on its own: what it does with
each kind of event (rooms/events.py), and its layer subscriptions when a
room's last socket leaves as another joins. Fake sockets, a recording fake
of a shared channel layer, a clock the test moves; rows through the services."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms import events
from rooms.access import RoomAccess, room_access
from rooms.broadcast import PROCESS_ID
from rooms.models import Room
from rooms.realtime.feed import PRESENCE_INTERVAL, Subscription
from rooms.realtime.hub import Hub
from tests.harness.inprocess import post

from .fakes import FakeLayer, FakeSocket, entry

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_PROCESS = "other-process"


@pytest.fixture
def layer() -> FakeLayer:
    return FakeLayer()


@pytest.fixture
async def hub(clock, layer):
    """A hub on the test's loop and the fake shared layer. Afterwards every
    socket leaves, and the hub must stop as a server's does."""
    hub = Hub(asyncio.get_running_loop(), layer=layer)
    yield hub
    layer.release_all()
    for feed in list(hub.feeds.values()):
        for subscription in list(feed.subscriptions):
            await hub.unsubscribe(subscription)
    for user_id, sockets in list(hub.user_sockets.items()):
        for socket in list(sockets):
            await hub.detach_user(user_id, socket)
    await clock.idle()
    assert not hub.running


@database_sync_to_async
def seen_by(user, room) -> RoomAccess:
    return room_access(user=user, slug=room.slug)


async def join(hub: Hub, socket: FakeSocket, user, room) -> Subscription:
    """What the consumer does for a `join` at the room's head: subscribe,
    send `joined`, catch up (nothing to read), live."""
    seen = await seen_by(user, room)
    subscription = Subscription(socket=socket, room=seen, since=seen.head)
    feed = await hub.subscribe(subscription)
    subscription.started = True
    await subscription.catch_up(feed, socket.backfill_sender(room.slug))
    return subscription


def from_other_process(event) -> dict:
    """`event` as the layer brings it from another process."""
    return events.encode(event, origin=OTHER_PROCESS)


# --- events ------------------------------------------------------------------


async def test_entries_from_another_process_reach_the_rooms_sockets(hub, clock, alice, lobby):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    items = ((1, entry(1)), (2, entry(2)))
    hub.ingest(from_other_process(events.Entries(room_id=lobby.id, items=items)))
    await clock.idle()
    assert socket.stream() == [("message", [1]), ("message", [2])]


async def test_a_local_entry_is_delivered_here_and_forwarded_to_the_layer(
    hub, clock, layer, alice, lobby
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    group = events.room_group(lobby.id)
    seq = await post("lobby", "hello")  # the service publishes to this process's hub
    await clock.idle()
    assert socket.seqs() == [seq]
    forwarded = [
        events.decode(message)
        for message in layer.sent(group)
        if message["kind"] == events.Entries.kind
    ]
    assert [[s for s, _ in event.items] for event in forwarded] == [[seq]]
    assert {message["origin"] for message in layer.sent(group)} == {PROCESS_ID}


async def test_an_event_of_this_process_coming_back_from_the_layer_is_skipped(
    hub, clock, alice, lobby
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    # This process delivered it when it published it; its echo from the layer
    # must not count. (Different bodies show which copy is delivered.)
    echo = events.Entries(room_id=lobby.id, items=((1, entry(1, "echo")),))
    hub.ingest(events.encode(echo, origin=PROCESS_ID))
    other = events.Entries(room_id=lobby.id, items=((1, entry(1, "from elsewhere")),))
    hub.ingest(from_other_process(other))
    await clock.idle()
    assert [frame["message"]["body"] for frame in socket.of_type("message")] == ["from elsewhere"]


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


# --- a room's last socket leaving as another joins ----------------------------


@pytest.mark.parametrize(
    "held",
    ["group_send", "group_discard"],
    ids=["join while the leave announces presence", "join while the leave discards the group"],
)
async def test_a_join_during_the_last_leave_gets_one_working_feed_in_the_group(
    hub, clock, layer, alice, bob, lobby, held
):
    group = events.room_group(lobby.id)
    leaving = await join(hub, FakeSocket("alice"), alice, lobby)
    old_feed = hub.feeds[lobby.id]
    joiner = FakeSocket("bob")
    seen = await seen_by(bob, lobby)
    joining = Subscription(socket=joiner, room=seen, since=seen.head)

    layer.hold(held)
    leave = asyncio.create_task(hub.unsubscribe(leaving))
    await clock.idle()  # the leave waits for the layer
    subscribe = asyncio.create_task(hub.subscribe(joining))
    await clock.idle()  # the join gets as far as it can meanwhile
    layer.release(held)
    await clock.idle()

    assert leave.done()
    feed = subscribe.result()
    assert hub.feeds == {lobby.id: feed}
    assert feed is not old_feed and old_feed.task.cancelled()
    assert feed.subscriptions == {joining}
    assert layer.members(group) == {hub.channel}
    # It works: another process's entry comes through the layer to the joiner.
    joining.started = True
    await joining.catch_up(feed, joiner.backfill_sender("lobby"))
    await layer.group_send(
        group, from_other_process(events.Entries(room_id=lobby.id, items=((1, entry(1)),)))
    )
    await clock.idle()
    assert joiner.stream() == [("message", [1])]
