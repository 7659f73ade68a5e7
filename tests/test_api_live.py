"""A bot publishing over HTTP to a real daphne worker: the message reaches
an open WebSocket live, with the seq the API returned."""

import asyncio
import json
import urllib.request

import pytest

from tests.live import joined_socket, next_frame, start_site

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = start_site(tmp_path_factory.mktemp("api"), "alice", "bot")
    try:
        yield deployment
    finally:
        deployment.stop()


def http_publish(url: str, token: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


async def test_a_message_published_over_http_reaches_open_sockets_live(site):
    worker = site.workers[0]
    url = f"{worker.http_url}/api/rooms/lobby/messages"
    bot = site.token("bot")
    async with joined_socket(worker, site.token("alice"), "lobby") as ws:
        status, reply = await asyncio.to_thread(
            http_publish, url, bot, {"body": "build 42 passed", "client_id": "ci-42"}
        )
        frame = await next_frame(ws, lambda frame: frame["type"] == "message")
        repeat_status, repeat = await asyncio.to_thread(
            http_publish, url, bot, {"body": "build 42 passed", "client_id": "ci-42"}
        )
    assert status == 201 and frame["message"] == reply["message"]
    assert (frame["message"]["author"], frame["message"]["body"]) == ("bot", "build 42 passed")
    assert (repeat_status, repeat["duplicate"], repeat["message"]) == (200, True, reply["message"])
    assert not site.tracebacks()
