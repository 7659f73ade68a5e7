"""The per-process hub (rooms/realtime/hub.py) on its own: events in from
this process and from the layer, and its layer subscriptions when a room's
last socket leaves as another joins. Fake sockets, a recording fake of a
shared channel layer, a clock the test moves; rows through the services."""

import asyncio

import pytest

from rooms import events
from rooms.broadcast import PROCESS_ID
from rooms.realtime.feed import Subscription
from tests.harness.inprocess import post

from .fakes import FakeSocket, entry, from_other_process, join, seen_by

pytestmark = pytest.mark.django_db(transaction=True)


# --- events in ---------------------------------------------------------------


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
