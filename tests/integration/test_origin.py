"""The Origin rule of the WebSocket handshake (docs/protocol.md, Connection)
on real servers: a handshake's Origin must be the request's own origin
(scheme, host and port, as Django's CSRF check compares them) or one of
DJANGO_CSRF_TRUSTED_ORIGINS, else 403 whatever the credentials. A page on
another port or scheme of the same host is another site.
"""

from __future__ import annotations

import asyncio

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.harness.deployment import Deployment
from tests.harness.network import Client
from tests.harness.sessions import BrowserSession

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TRUSTED = "https://chat.example.com"


async def handshake(url: str, headers: dict) -> int | str:
    """403 for a refused handshake, else the user its hello names."""
    try:
        client = await Client.connect(url, None, headers=headers)
    except InvalidStatus as refused:
        return refused.response.status_code
    await client.close()
    return client.user


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
async def test_only_the_requests_own_origin_or_a_trusted_one_opens_a_socket(tmp_path, server):
    deployment = Deployment(tmp_path / "site", env={"DJANGO_CSRF_TRUSTED_ORIGINS": TRUSTED})
    try:
        deployment.create_users("alice")
        token = deployment.token("alice")
        worker = deployment.start_worker(server=server)
        browser = await asyncio.to_thread(
            BrowserSession.login, worker.http_url, "alice", "test-pass-123"
        )
        own = worker.http_url  # http://127.0.0.1:PORT: the Host the client sends
        bearer = {"Authorization": f"Bearer {token}"}

        def cookie(origin: str) -> dict:
            return browser.websocket_headers(origin)

        url = worker.ws_url
        # The same host on another port, another scheme, another allowed host.
        assert await handshake(url, cookie("http://127.0.0.1:9999")) == 403
        assert await handshake(url, cookie(f"https://127.0.0.1:{worker.port}")) == 403
        assert await handshake(url, cookie("https://localhost:1")) == 403
        assert await handshake(url, cookie(f"http://localhost:{worker.port}")) == 403
        assert await handshake(url, {**bearer, "Origin": "http://127.0.0.1:9999"}) == 403
        # The exact own origin, and a trusted one; with a cookie or a token.
        assert await handshake(url, cookie(own)) == "alice"
        assert await handshake(url, {**bearer, "Origin": own}) == "alice"
        assert await handshake(url, cookie(TRUSTED)) == "alice"
        # Behind a TLS proxy (SECURE_PROXY_SSL_HEADER is set with DEBUG off)
        # the request's own origin is https.
        proxied = {"X-Forwarded-Proto": "https"}
        assert await handshake(url, {**cookie(f"https://127.0.0.1:{worker.port}"), **proxied}) == (
            "alice"
        )
        assert await handshake(url, {**cookie(own), **proxied}) == 403
        # Without Origin the rules are as before: a token, never a cookie alone.
        assert await handshake(url, bearer) == "alice"
        alone = {"Cookie": browser.websocket_headers()["Cookie"]}
        with pytest.raises(InvalidStatus):
            await websockets.connect(url, additional_headers=alone, open_timeout=30)
        worker.stop()  # flushes the log
    finally:
        deployment.stop()
    log = worker.log()
    refusals = [line for line in log.splitlines() if "websocket refused (403)" in line]
    assert len(refusals) == 7, log[-3000:]
    assert f"own origin 'http://127.0.0.1:{worker.port}'" in refusals[0]
    assert deployment.tracebacks() == []
