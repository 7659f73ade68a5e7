"""Connection churn on the Redis channel layer: thousands of sockets that
join a room and go away (cleanly or cut) must leave the worker serving,
without Redis timeouts, exhausted connection pools or tracebacks.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import http_get

from .client import Client, close_all
from .conftest import ROOM

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SOCKETS = 3000
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
        reader = await Client.connect(churned.ws_url, site.tokens["reader"], name="reader")
        writer = await Client.connect(other.ws_url, site.tokens["writer"], name="writer")
        await reader.join(ROOM, since=0)
        await writer.join(ROOM, since=0)
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
    assert (status, body) == (200, b'{"ok": true, "db": true, "layer": true}')
    assert churned.alive()
    site.assert_clean_logs("TimeoutError", "MaxConnectionsError")
