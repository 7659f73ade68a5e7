"""The API's ASGI handler (project/api_asgi.py): the same answers, headers
included, as Django's own ASGIHandler; the request threads kept; a
middleware that cannot run sync refused at startup."""

import asyncio
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler

from project.api_asgi import RequestThreads, SyncChainHandler
from rooms import services

# The request's thread opens its own database connection: committed data only.
pytestmark = pytest.mark.django_db(transaction=True)


async def _get(app, path: str, headers: dict[str, str]) -> tuple[int, list, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    requested = False
    never = asyncio.Event()
    sent = []

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 30)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], sorted(start["headers"]), body


@pytest.mark.parametrize("with_token", [True, False])
def test_an_api_request_is_answered_as_djangos_own_handler_answers_it(alice, with_token):
    services.room_create_or_update(slug="lobby", title="Lobby", is_private=False)
    headers = {"X-Request-ID": "req-1", "Accept-Language": "de"}
    if with_token:
        headers["Authorization"] = f"Bearer {services.api_token_issue(user=alice)}"

    ours = asyncio.run(_get(SyncChainHandler(), "/api/rooms/", headers))
    djangos = asyncio.run(_get(ASGIHandler(), "/api/rooms/", headers))

    assert ours == djangos
    status, response_headers, body = ours
    assert status == (200 if with_token else 401)
    names = {name.decode().lower() for name, _ in response_headers}
    assert {"content-security-policy", "x-content-type-options", "x-request-id"} <= names
    if with_token:
        assert [room["slug"] for room in json.loads(body)["rooms"]] == ["lobby"]


def test_a_request_thread_is_lent_again_and_the_idle_ones_are_bounded():
    threads = RequestThreads(keep_idle=1)
    first, second = threads.take(), threads.take()
    assert first is not second
    threads.give_back(first)
    threads.give_back(second)  # one idle already: this one ends
    assert threads.take() is first
    assert second._shutdown and not first._shutdown
    first.shutdown()


class AsyncOnly:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        return await self.get_response(request)


def test_a_middleware_that_cannot_run_sync_is_refused_at_startup(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.AsyncOnly"]
    with pytest.raises(ImproperlyConfigured, match="AsyncOnly cannot run sync"):
        SyncChainHandler()
