"""Joins served from memory, through the real ASGI application: a resume
inside the feed's window backfills what the database would (after edits,
deletions, reactions and a repair too), one just below it reads the
database, and what the hub remembers of access never outlives a change
(docs/architecture.md, Resuming from memory).

A socket of another user stays joined throughout, so the room's feed (and
its window) lives in the hub between the joins.
"""

import json

import pytest
from channels.db import database_sync_to_async

from rooms import selectors, services
from rooms.broadcast import add_local_sink, remove_local_sink
from rooms.models import Membership, Room
from rooms.ops import metrics
from rooms.realtime.hub import get_hub
from tests.harness.inprocess import post, until_live

pytestmark = pytest.mark.django_db(transaction=True)


def count(counter, source: str) -> float:
    return counter.labels(source)._value.get()


@database_sync_to_async
def database_answer(slug: str, since: int) -> list[dict]:
    """What a join with `since` backfills when read from the database."""
    room = Room.objects.get(slug=slug)
    rows = selectors.entries_after(room_id=room.id, slug=slug, after=since, limit=10_000)
    return [json.loads(text) for _, text in rows]


async def backfilled(client, slug: str, since: int) -> list[dict]:
    """Join with `since` and collect the backfill up to the head it names."""
    joined = await client.join(slug, since=since)
    head, messages = joined["head"], []
    while (messages[-1]["seq"] if messages else joined["since"]) < head:
        frame = await client.recv()
        if frame["type"] == "backfill":
            messages += frame["messages"]
        elif frame["type"] == "message":
            messages.append(frame["message"])
    return messages


@pytest.fixture
async def watcher(clients, bob, lobby):
    """Bob's socket, joined to the lobby all along."""
    client = await clients.connect(bob)
    await client.join("lobby", since=0)
    await until_live("lobby")
    return client


async def change(client, frame: dict) -> int:
    await client.send({**frame, "room": "lobby", "ref": "c"})
    return (await client.next_of("ack", skip=("backfill", "message")))["seq"]


async def test_a_resume_inside_the_window_is_served_from_memory_as_the_database_would(
    clients, alice, watcher
):
    writer = await clients.connect(alice)
    await writer.join("lobby", since=0)
    for n in range(6):
        await change(writer, {"type": "send", "body": f"message {n}"})
    await change(writer, {"type": "edit", "seq": 2, "body": "edited"})
    await change(writer, {"type": "react", "seq": 3, "emoji": "👍"})
    await change(writer, {"type": "edit", "seq": 4, "body": "soon gone"})
    await change(writer, {"type": "delete", "seq": 4})
    await change(writer, {"type": "react", "seq": 3, "emoji": "👍", "on": False})
    await change(writer, {"type": "react", "seq": 5, "emoji": "🎉"})
    before = count(metrics.BACKFILL_READS, "memory"), count(metrics.BACKFILL_READS, "database")
    reader = await clients.connect(alice)
    for since in (0, 1, 3, 9, 12):
        assert await backfilled(reader, "lobby", since) == await database_answer("lobby", since)
    memory = count(metrics.BACKFILL_READS, "memory") - before[0]
    database = count(metrics.BACKFILL_READS, "database") - before[1]
    assert memory >= 5 and database == 0


async def test_a_change_whose_broadcast_was_lost_is_repaired_into_the_window(
    clients, alice, watcher, settings
):
    settings.ROOMS_REPAIR_INTERVAL = 0.2
    first = await post("lobby", "one", author=alice)
    await post("lobby", "two", author=alice)
    hub = get_hub()
    remove_local_sink(hub._local_sink)  # as if the layer dropped what follows
    try:
        room = await database_sync_to_async(Room.objects.get)(slug="lobby")
        await database_sync_to_async(services.entry_post)(
            room=room, author=alice, kind="edit", target=first, body="fixed"
        )
    finally:
        add_local_sink(hub._local_sink)
    # Nothing announced the edit: the repair loop finds the head behind.
    repaired = await watcher.stream("lobby", 3)
    assert repaired[-1]["kind"] == "edit"
    reader = await clients.connect(alice)
    assert await backfilled(reader, "lobby", 0) == await database_answer("lobby", 0)
    assert (await database_answer("lobby", 0))[0]["body"] == "fixed"


async def test_a_since_just_below_the_window_reads_the_database(clients, alice, watcher, settings):
    for n in range(8):
        await post("lobby", f"m{n}", author=alice)
    await watcher.stream("lobby", 8)
    feed = get_hub().feed_of("lobby")
    feed.window.max_entries = 5
    feed.window.extend([])  # bound it now
    assert feed.window.start == 3
    reader = await clients.connect(alice)
    before = count(metrics.BACKFILL_READS, "database")
    assert await backfilled(reader, "lobby", 2) == await database_answer("lobby", 2)
    assert count(metrics.BACKFILL_READS, "database") == before + 1
    assert await backfilled(reader, "lobby", 3) == await database_answer("lobby", 3)
    assert count(metrics.BACKFILL_READS, "database") == before + 1


async def test_the_second_join_of_a_user_asks_the_database_nothing(clients, alice, watcher):
    first, second = await clients.connect(alice), await clients.connect(alice)
    await first.join("lobby")
    before = count(metrics.JOINS, "memory")
    joined = await second.join("lobby")
    assert count(metrics.JOINS, "memory") == before + 1
    assert (joined["room"], joined["title"], joined["read_only"]) == ("lobby", "Lobby", False)


# --- what the hub remembers of access -----------------------------------------


@pytest.fixture
async def secret(room_factory, alice, bob):
    return await database_sync_to_async(room_factory)(
        "secret", is_private=True, members=[alice, bob]
    )


async def test_a_removed_member_is_refused_on_the_next_join(clients, alice, bob, secret):
    keeper = await clients.connect(bob)
    await keeper.join("secret")
    first, second = await clients.connect(alice), await clients.connect(alice)
    await first.join("secret")
    await database_sync_to_async(services.membership_remove)(room=secret, user=alice)
    await second.error({"type": "join", "room": "secret"}, "not_found")
    assert (await first.next_of("left", skip=("backfill",)))["reason"] == "removed"


async def test_a_removal_without_an_event_refuses_joins_after_the_repair_interval(
    clients, alice, bob, secret, settings
):
    settings.ROOMS_REPAIR_INTERVAL = 0.2
    keeper = await clients.connect(bob)
    await keeper.join("secret")
    first, second = await clients.connect(alice), await clients.connect(alice)
    await first.join("secret")
    gone = Membership.objects.filter(room=secret, user=alice).delete
    await database_sync_to_async(gone)()  # no service, no event
    assert (await first.next_of("left", skip=("backfill",)))["reason"] == "removed"
    await second.error({"type": "join", "room": "secret"}, "not_found")


async def token_socket(clients, token: str):
    accepted, code, client = await clients.handshake(
        "/ws/", [(b"authorization", f"Bearer {token}".encode())]
    )
    assert accepted, code
    return client


async def test_a_revoked_token_is_refused_on_the_next_handshake(clients, alice, lobby, settings):
    settings.ROOMS_REPAIR_INTERVAL = 60  # only the revocation's event can tell
    token = await database_sync_to_async(services.api_token_issue)(user=alice)
    open_socket = await token_socket(clients, token)
    await open_socket.expect("hello")
    again = await token_socket(clients, token)
    await again.expect("hello")  # known to the hub now
    await database_sync_to_async(services.api_token_revoke_all)(user=alice)
    refused = await token_socket(clients, token)
    await refused.expect("error", code="auth_required")
    assert await refused.closed() == 4401


async def test_a_deactivated_user_is_refused_once_the_repair_interval_passed(
    clients, alice, lobby, settings
):
    settings.ROOMS_REPAIR_INTERVAL = 0.2
    token = await database_sync_to_async(services.api_token_issue)(user=alice)
    open_socket = await token_socket(clients, token)
    await open_socket.expect("hello")
    alice.is_active = False
    await database_sync_to_async(alice.save)()  # no event: only the check can tell
    assert await open_socket.closed_after(("error",)) == 4401
    refused = await token_socket(clients, token)
    await refused.expect("error", code="auth_required")
    assert await refused.closed() == 4401


async def test_joins_of_a_session_user_are_answered_from_memory_too(clients, alice, watcher):
    first = await clients.connect(alice, via="session")
    second = await clients.connect(alice, via="session")
    await first.join("lobby")
    before = count(metrics.JOINS, "memory")
    await second.join("lobby")
    assert count(metrics.JOINS, "memory") == before + 1


async def test_joins_that_share_a_read_each_get_their_own_refusal(clients, alice, bob, secret):
    first, second = await clients.connect(bob), await clients.connect(bob)
    await database_sync_to_async(services.membership_remove)(room=secret, user=bob)
    await first.send({"type": "join", "room": "secret", "ref": "one"})
    await second.send({"type": "join", "room": "secret", "ref": "two"})
    assert (await first.next_of("error"))["ref"] == "one"
    assert (await second.next_of("error"))["ref"] == "two"
