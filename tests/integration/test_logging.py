"""JSON lines from a real worker (daphne, and uvicorn) with ROOMS_LOG_FORMAT=json:
each refusal is one line with its reason and what it is about (the client's
address, the socket and user, the request id), and no token reaches the log."""

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.harness import frames
from tests.harness.network import Client
from tests.integration.conftest import embedded_site

pytestmark = pytest.mark.integration

METRICS_TOKEN = "log-test-metrics-" + "q" * 40
BAD_TOKEN = "notAToken0123456789abcdefXYZ"


def json_lines(log: str) -> list[dict]:
    """The worker's JSON lines (the server's own start-up lines may be plain)."""
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def scrape_with_a_wrong_token(worker) -> str:
    request = urllib.request.Request(worker.http_url + "/metrics")
    request.add_header("Authorization", "Bearer wrong-metrics-token")
    request.add_header("X-Request-ID", "scrape-42")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    return refused.value.headers["X-Request-ID"]


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
async def test_a_workers_refusals_are_json_lines_without_tokens(tmp_path, server):
    env = {
        "ROOMS_LOG_FORMAT": "json",
        "ROOMS_METRICS_TOKEN": METRICS_TOKEN,
        "ROOMS_FRAME_RATE": "2/60",
    }
    with embedded_site(tmp_path / "site", **env) as site:
        site.provision(["alice"])
        token = site.tokens["alice"]
        worker = site.workers[0]
        if server != "daphne":
            worker.stop()
            worker = site.deployment.start_worker(server=server)
        # A token that is no token: accepted handshake, then closed with 4401.
        async with websockets.connect(f"{worker.ws_url}?token={BAD_TOKEN}") as ws:
            assert frames.received(await ws.recv())["code"] == "auth_required"
        # A good token from a foreign page: refused at the handshake.
        with pytest.raises(InvalidStatus):
            await websockets.connect(
                f"{worker.ws_url}?token={token}", additional_headers={"Origin": "http://evil.test"}
            )
        # The frame budget of 2 a minute: the join passes, the second ping does not.
        alice = await Client.connect(worker.ws_url, token, name="alice")
        await alice.join("lobby")
        replies = await asyncio.gather(*(alice.submit({"type": "ping"}) for _ in range(2)))
        assert [reply["type"] for reply in replies] == ["pong", "error"]
        await alice.close()
        assert await asyncio.to_thread(scrape_with_a_wrong_token, worker) == "scrape-42"
        worker.stop()
        log = worker.log()

    lines = json_lines(log)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
    rooms_lines = [line for line in lines if line["logger"].startswith("rooms")]
    by_message = {line["message"].split(":")[0]: line for line in rooms_lines}
    unauthenticated = by_message["socket refused (4401) from 127.0.0.1"]
    assert unauthenticated["message"].endswith(": the API token is not valid")
    assert unauthenticated["client"].startswith("127.0.0.1:")
    foreign = by_message["websocket refused (403) from 127.0.0.1"]
    assert "'http://evil.test' is not this site's origin" in foreign["message"]
    (budget,) = [line for line in rooms_lines if "frame refused (rate_limited)" in line["message"]]
    assert budget["user"] == "alice" and budget["socket"] and budget["level"] == "INFO"
    scrape = by_message["metrics refused (401)"]
    assert scrape["request_id"] == "scrape-42" and scrape["message"].endswith("wrong token")
    # Each refusal once.
    for marker in ("refused (4401)", "refused (403)", "frame refused", "metrics refused"):
        assert sum(marker in line["message"] for line in rooms_lines) == 1, marker
    for secret in (BAD_TOKEN, token.partition("_")[2][:16], "wrong-metrics-token"):
        assert secret not in log
