"""Protocol extensions of docs/protocol.md, through the real ASGI app."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms import selectors
from tests.harness.inprocess import post

pytestmark = pytest.mark.django_db(transaction=True)


async def test_join_without_presence_receives_messages_but_is_not_listed(
    clients, alice, bob, lobby
):
    participant = await clients.connect(bob)
    await participant.join("lobby")
    await participant.expect("presence", users=["bob"])
    watcher = await clients.connect(alice)
    joined = await watcher.join("lobby", since=0, presence=False)
    assert joined["head"] == 0
    # The watcher sees who is online, but nobody hears of the watcher.
    assert (await watcher.next_of("presence"))["users"] == ["bob"]
    assert await participant.quiet()
    seq = await post("lobby", "hello")
    message = await watcher.next_of("message")
    assert message["message"]["seq"] == seq
    await watcher.close()
    assert await participant.drain() == ["message"]


async def test_join_presence_must_be_a_boolean(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.error(
        {"type": "join", "room": "lobby", "presence": "no", "ref": "p"},
        "invalid",
        field="presence",
        ref="p",
    )


async def test_joined_users_reach_the_presence_snapshot_that_roomstats_reads(
    clients, alice, bob, lobby
):
    first, second = await clients.connect(alice), await clients.connect(bob)
    await first.join("lobby")
    await second.join("lobby", presence=False)

    async def online() -> set[str]:
        return (await database_sync_to_async(selectors.online_users)()).get(lobby.id, set())

    # The hub saves its snapshot about a second after a change: poll, bounded.
    deadline = asyncio.get_running_loop().time() + 10
    while await online() != {"alice"}:
        assert asyncio.get_running_loop().time() < deadline, await online()
        await asyncio.sleep(0.1)
    await first.close()
    await second.close()
    # The last socket gone, the hub removes its snapshot as it stops.
    assert await online() == set()
