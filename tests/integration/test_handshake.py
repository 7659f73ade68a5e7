"""The WebSocket handshake rules (docs/protocol.md, Connection) and /healthz,
against a real daphne: what a browser on another site, a bot and a
load balancer actually get on the wire.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.harness import frames
from tests.harness.deployment import http_get
from tests.harness.network import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def handshake_status(url: str, headers: dict) -> int:
    """The HTTP status of a refused handshake."""
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=headers, open_timeout=30):
            pass
    return refused.value.response.status_code


async def test_handshake_rules_and_healthz_on_a_real_worker(embedded):
    site = embedded.provision(["bot"])
    worker = site.workers[0]
    bearer = {"Authorization": f"Bearer {site.tokens['bot']}"}

    async def scenario():
        # Cross-site WebSocket hijacking: refused whatever the credentials.
        evil = {**bearer, "Origin": "http://evil.example"}
        assert await handshake_status(worker.ws_url, evil) == 403
        # No Origin and no token: refused (browsers always send an Origin).
        assert await handshake_status(worker.ws_url, {}) == 403

        # A bot: no Origin, a token.
        bot = await Client.connect(worker.ws_url, site.tokens["bot"], name="bot")
        assert bot.user == "bot"
        await bot.close()
        # Our own pages: the request's own origin (scheme, host and port).
        page = {"Origin": worker.http_url}
        same_site = await Client.connect(worker.ws_url, site.tokens["bot"], headers=page)
        assert same_site.user == "bot"
        await same_site.close()

        # A token nobody issued: accepted, told why, closed with 4401.
        async with websockets.connect(
            worker.ws_url, additional_headers={"Authorization": "Bearer nope"}, open_timeout=30
        ) as ws:
            frame = frames.received(await asyncio.wait_for(ws.recv(), 30))
            assert frame["type"] == "error"
            assert frame["code"] == "auth_required"
            await asyncio.wait_for(ws.wait_closed(), 30)
            assert ws.close_code == 4401

    await asyncio.wait_for(scenario(), 60)
    status, body = await asyncio.to_thread(http_get, worker.http_url + "/healthz")
    assert status == 200
    assert {k: v for k, v in json.loads(body).items() if k != "jobs"} == {
        "ok": True,
        "db": True,
        "layer": True,
    }

    log = worker.log()
    refusals = [line for line in log.splitlines() if "websocket refused (403)" in line]
    assert len(refusals) == 2, log[-3000:]
    assert "evil.example" in refusals[0]
    assert "no Origin" in refusals[1]
    site.assert_clean_logs()
