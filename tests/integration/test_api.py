"""A bot publishing and changing messages over HTTP on a real daphne worker:
each entry reaches an open WebSocket live, with the seq the API returned."""

import asyncio
import json
import urllib.request

import pytest

from tests.harness.live import joined_socket, next_frame, start_site

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = start_site(tmp_path_factory.mktemp("api"), "alice", "bot")
    try:
        yield deployment
    finally:
        deployment.stop()


def http_publish(url: str, token: str, payload: dict, method: str = "POST") -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
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


async def test_changes_made_over_http_reach_open_sockets_live_as_entries(site):
    worker = site.workers[0]
    url = f"{worker.http_url}/api/rooms/lobby/messages"
    bot = site.token("bot")
    _, reply = await asyncio.to_thread(http_publish, url, bot, {"body": "build 43 failed"})
    seq = reply["message"]["seq"]
    changes = [
        (f"{url}/{seq}", {"body": "build 43 passed on retry"}, "PATCH"),
        (f"{url}/{seq}/reactions", {"emoji": "🎉"}, "POST"),
        (f"{url}/{seq}", {"client_id": "cleanup-43"}, "DELETE"),
    ]
    async with joined_socket(worker, site.token("alice"), "lobby") as ws:
        for change_url, payload, method in changes:
            status, stored = await asyncio.to_thread(http_publish, change_url, bot, payload, method)
            frame = await next_frame(ws, lambda frame: frame["type"] == "message")
            assert status == 201 and frame["message"] == stored["entry"]
    assert [stored["entry"]["kind"], stored["entry"]["target"]] == ["delete", seq]
    assert not site.tracebacks()
