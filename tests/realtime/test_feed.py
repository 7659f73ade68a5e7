"""One room's feed (rooms/realtime/feed.py) on its own: ordering, gap repair,
catch-up then live, and room changes, with fake sockets, a fake hub and a
clock the test moves. Rows are real, stored through the services."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms import selectors, services
from rooms.access import RoomAccess, room_access
from rooms.models import Membership
from rooms.realtime.feed import GAP_GRACE, RoomFeed, Subscription
from tests.harness.inprocess import post

from .fakes import FakeHub, FakeSocket, entry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def start_feed(clock):
    """Starts a room's feed on a fake hub, as Hub.subscribe does for the
    room's first socket in a process; stops it after the test."""
    started = []

    async def start(room, *, shared: bool = False) -> RoomFeed:
        hub = FakeHub(shared=shared)
        feed = hub.feeds[room.id] = RoomFeed(hub, room.id, room.slug)
        feed.task = asyncio.create_task(feed.run())
        started.append(feed)
        await feed.ready.wait()
        return feed

    yield start
    for feed in started:
        feed.task.cancel()
    await clock.idle()


@database_sync_to_async
def seen_by(user, room) -> RoomAccess:
    return room_access(user=user, slug=room.slug)


async def join_live(feed: RoomFeed, socket: FakeSocket, room: RoomAccess):
    """A socket joined at the feed's head, as the consumer joins: subscribed,
    `joined` sent, caught up (nothing to read), live."""
    subscription = Subscription(socket=socket, room=room, since=feed.head)
    feed.subscriptions.add(subscription)
    subscription.started = True
    await subscription.catch_up(feed, socket.backfill_sender(room.slug))
    return subscription


def bodies(socket: FakeSocket) -> list[str]:
    return [frame["message"]["body"] for frame in socket.of_type("message")]


# --- ordering ---------------------------------------------------------------


async def test_entries_offered_out_of_order_reach_every_live_subscription_in_seq_order_once(
    start_feed, clock, alice, bob, lobby
):
    feed = await start_feed(lobby)
    sockets = [FakeSocket("alice"), FakeSocket("bob")]
    for socket, user in zip(sockets, (alice, bob), strict=True):
        await join_live(feed, socket, await seen_by(user, lobby))
    # None of these is stored: a feed that took 3 first would read the gap
    # below it from the database, find nothing and skip 1 and 2.
    for seq in (3, 1, 2):
        feed.offer(seq, entry(seq))
    await clock.idle()
    for socket in sockets:
        assert socket.stream() == [("message", [1]), ("message", [2]), ("message", [3])]


async def test_an_entry_already_delivered_or_offered_twice_is_dropped(
    start_feed, clock, alice, lobby
):
    feed = await start_feed(lobby)
    socket = FakeSocket("alice")
    await join_live(feed, socket, await seen_by(alice, lobby))
    feed.offer(1, entry(1, "one"))
    feed.offer(2, entry(2, "two"))
    await clock.idle()
    feed.offer(2, entry(2, "two again"))  # delivered already
    feed.offer(3, entry(3, "three"))
    feed.offer(3, entry(3, "three again"))  # pending already
    await clock.idle()
    assert socket.seqs() == [1, 2, 3]
    assert bodies(socket) == ["one", "two", "three"]


# --- gap repair ----------------------------------------------------------------


async def test_a_gap_is_read_from_the_database_before_the_entry_above_it(
    start_feed, clock, alice, lobby
):
    await post("lobby", "one")
    feed = await start_feed(lobby)
    socket = FakeSocket("alice")
    await join_live(feed, socket, await seen_by(alice, lobby))
    # Both stored; only the broadcast of 3 reaches the feed.
    await post("lobby", "two")
    await post("lobby", "three")
    feed.offer(3, entry(3, "three"))
    await clock.idle()  # no clock moved: the in-memory layer brings no gap
    assert socket.seqs() == [2, 3]
    assert bodies(socket) == ["two", "three"]


async def test_on_a_shared_layer_a_gap_waits_for_the_layer_within_gap_grace(
    start_feed, clock, alice, lobby
):
    await post("lobby", "one")
    feed = await start_feed(lobby, shared=True)
    socket = FakeSocket("alice")
    await join_live(feed, socket, await seen_by(alice, lobby))
    # 2 is not stored: reading the gap now would skip it for good, so only
    # waiting for the layer to bring it delivers it.
    feed.offer(3, entry(3))
    await clock.idle()
    assert socket.seqs() == []
    await clock.advance(GAP_GRACE / 2)
    assert socket.seqs() == []
    feed.offer(2, entry(2))  # another process's broadcast, crossing ours
    await clock.idle()
    assert socket.seqs() == [2, 3]


async def test_on_a_shared_layer_a_gap_still_open_at_gap_grace_is_read_from_the_database(
    start_feed, clock, alice, lobby
):
    await post("lobby", "one")
    feed = await start_feed(lobby, shared=True)
    socket = FakeSocket("alice")
    await join_live(feed, socket, await seen_by(alice, lobby))
    await post("lobby", "two")
    await post("lobby", "three")
    feed.offer(3, entry(3, "three"))
    await clock.idle()
    await clock.advance(GAP_GRACE / 2)
    assert socket.seqs() == []  # stored, but the layer may still bring it
    await clock.advance(GAP_GRACE / 2)
    assert socket.seqs() == [2, 3]
    assert bodies(socket) == ["two", "three"]


# --- catch-up, then live ---------------------------------------------------------


async def test_a_backfilling_subscription_gets_nothing_live_until_caught_up_then_goes_on_from_there(
    start_feed, clock, alice, bob, lobby
):
    for body in ("one", "two", "three"):
        await post("lobby", body)
    feed = await start_feed(lobby)
    watcher = FakeSocket("alice")
    await join_live(feed, watcher, await seen_by(alice, lobby))

    joiner = FakeSocket("bob")
    joining = Subscription(socket=joiner, room=await seen_by(bob, lobby), since=0)
    feed.subscriptions.add(joining)
    joining.started = True
    socket_slow = asyncio.Event()  # the joiner's first page takes a while to go out
    send_backfill = joiner.backfill_sender("lobby")

    async def send_page(page):
        await send_backfill(page)
        await socket_slow.wait()

    backfill = asyncio.create_task(joining.catch_up(feed, send_page))
    await clock.idle()
    assert joiner.stream() == [("backfill", [1, 2, 3])]

    for body in ("four", "five"):  # live while the joiner is busy
        seq = await post("lobby", body)
        feed.offer(seq, entry(seq, body))
    await clock.idle()
    assert watcher.seqs() == [4, 5]
    assert joiner.stream() == [("backfill", [1, 2, 3])]

    socket_slow.set()
    await clock.idle()
    assert backfill.done()
    seq = await post("lobby", "six")
    feed.offer(seq, entry(seq, "six"))
    await clock.idle()
    assert joiner.stream() == [("backfill", [1, 2, 3]), ("backfill", [4, 5]), ("message", [6])]
    assert watcher.seqs() == [4, 5, 6]


# --- room changes ----------------------------------------------------------------


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def roles(lobby, alice, bob):
    """alice a member of the lobby, bob a read-only member; carol no member."""
    services.membership_set_role(room=lobby, user=alice, role=Membership.Role.MEMBER)
    services.membership_set_role(room=lobby, user=bob, role=Membership.Role.READ_ONLY)


@database_sync_to_async
def room_updated(room, **changes) -> selectors.RoomState:
    """Change the room through the service; its state as the hub reads it."""
    services.room_update(room=room, **changes)
    return selectors.room_states(room_ids=[room.id])[room.id]


def room_frame(title: str, read_only: bool) -> dict:
    return {"type": "room", "room": "lobby", "title": title, "read_only": read_only}


async def test_a_title_or_archive_change_sends_each_started_socket_its_own_read_only(
    start_feed, clock, roles, alice, bob, carol, lobby
):
    feed = await start_feed(lobby)
    member, reader, joining = FakeSocket("alice"), FakeSocket("bob"), FakeSocket("carol")
    await join_live(feed, member, await seen_by(alice, lobby))
    await join_live(feed, reader, await seen_by(bob, lobby))
    # carol's `joined` has not gone out: nothing else of the room may yet.
    feed.subscriptions.add(
        Subscription(socket=joining, room=await seen_by(carol, lobby), since=feed.head)
    )

    await feed.room_changed(await room_updated(lobby, title="Renamed"))
    assert member.of_type("room") == [room_frame("Renamed", read_only=False)]
    assert reader.of_type("room") == [room_frame("Renamed", read_only=True)]
    assert joining.frames == []

    await feed.room_changed(await room_updated(lobby, is_archived=True))
    assert member.of_type("room")[1:] == [room_frame("Renamed", read_only=True)]
    assert reader.of_type("room")[1:] == []  # read-only before: nothing changed for bob
    assert joining.frames == []


async def test_a_room_made_private_is_lost_by_the_subscriptions_of_non_members(
    start_feed, clock, roles, alice, carol, lobby
):
    feed = await start_feed(lobby)
    member, outsider = FakeSocket("alice"), FakeSocket("carol")
    await join_live(feed, member, await seen_by(alice, lobby))
    outsiders = await join_live(feed, outsider, await seen_by(carol, lobby))

    await feed.room_changed(await room_updated(lobby, is_private=True))
    assert outsider.lost == [outsiders]
    assert member.lost == []
    assert member.of_type("room") == []  # a member sees the same room


async def test_a_room_gone_is_lost_by_every_subscription(start_feed, clock, alice, bob, lobby):
    feed = await start_feed(lobby)
    sockets = [FakeSocket("alice"), FakeSocket("bob")]
    subscriptions = [
        await join_live(feed, socket, await seen_by(user, lobby))
        for socket, user in zip(sockets, (alice, bob), strict=True)
    ]
    await feed.room_gone()
    assert [socket.lost for socket in sockets] == [[subscription] for subscription in subscriptions]
