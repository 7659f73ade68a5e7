"""Connection churn on the Redis channel layer: thousands of sockets that
join a room and go away (cleanly or cut) must leave the worker serving,
without Redis timeouts, exhausted connection pools or tracebacks.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.harness.deployment import http_get
from tests.harness.network import Client, close_all, connect_all, reader_and_writer

from .conftest import ROOM

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SOCKETS = 2000
BATCH = 200
USERS = 10


async def _visit(url: str, token: str, number: int) -> None:
    """One short-lived socket: hello, join, then a clean close or a cut."""
    client = await Client.connect(url, token, name=f"visitor{number}")
    await client.join(ROOM)
    if number % 3 == 0:
        client.abort()
        await client.wait_closed()
    else:
        await client.close()


async def test_thousands_of_short_lived_sockets_leave_the_worker_healthy(scaled):
    names = [f"visitor{i}" for i in range(USERS)]
    site = scaled.provision([*names, "reader", "writer"])
    churned, other = site.workers

    async def churn():
        for start in range(0, SOCKETS, BATCH):
            await asyncio.gather(
                *(
                    _visit(churned.ws_url, site.tokens[names[n % USERS]], n)
                    for n in range(start, start + BATCH)
                )
            )

    async def still_serving():
        reader, writer = await reader_and_writer(
            ROOM, (churned.ws_url, site.tokens["reader"]), (other.ws_url, site.tokens["writer"])
        )
        await writer.send(ROOM, "from the other worker")
        await reader.send(ROOM, "from the churned worker")
        for client in (reader, writer):
            stream = await client.wait_for_seq(ROOM, 2, within=30)
            assert [m["body"] for m in stream.messages] == [
                "from the other worker",
                "from the churned worker",
            ]
        await close_all([reader, writer])

    await asyncio.wait_for(churn(), 150)
    await asyncio.wait_for(still_serving(), 30)
    status, body = await asyncio.to_thread(http_get, churned.http_url + "/healthz")
    assert status == 200
    assert {key: value for key, value in json.loads(body).items() if key != "jobs"} == {
        "ok": True,
        "db": True,
        "layer": True,
    }
    assert churned.alive()
    site.assert_clean_logs("TimeoutError", "MaxConnectionsError")


async def test_sockets_joining_while_the_last_ones_leave_stay_live(scaled):
    # The room's feed in a process ends when its last socket leaves; joins
    # racing that teardown must land in a live feed, never an orphaned one.
    names = [f"visitor{i}" for i in range(USERS)]
    site = scaled.provision([*names, "writer"])
    churned, other = site.workers

    async def scenario():
        writer = await Client.connect(other.ws_url, site.tokens["writer"], name="writer")
        await writer.join(ROOM, since=0)
        leaving: list[Client] = []
        for round_ in range(8):
            url_tokens = [(churned.ws_url, site.tokens[names[n % USERS]]) for n in range(15)]
            arriving = await connect_all(url_tokens, name=f"r{round_}-")
            joins = [client.join(ROOM) for client in arriving]
            await asyncio.gather(close_all(leaving), *joins)
            head = (await writer.send(ROOM, f"round {round_}"))["seq"]
            for client in arriving:
                stream = await client.wait_for_seq(ROOM, head, within=20)
                assert stream.problems == []
            leaving = arriving
        await close_all([*leaving, writer])

    await asyncio.wait_for(scenario(), 120)
    site.assert_clean_logs()
