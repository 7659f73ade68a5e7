"""Protocol-speaking WebSocket clients for the consumer and auth tests.

A thin layer over channels' WebsocketCommunicator, run in-process against
`project.asgi.application` (auth middleware, router and consumer included).
`Clients` closes every socket it opened, so the per-event-loop hub
(rooms/realtime/hub.py) stops its background tasks before the test's loop ends.
`post` and `seed` write the messages the sockets then read.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client as HttpClient

from project.asgi import application
from rooms import services
from rooms.models import Room
from rooms.realtime import hub as hub_module
from rooms.realtime.hub import get_hub
from rooms.services import EntryRequest
from tests.harness import frames

# Generous: the machine is shared with other test runs. Waiting is on events,
# so a passing test never waits this long.
TIMEOUT = 10
# The Host every handshake carries (as every HTTP/1.1 client sends one), and
# the Origin of this site's own pages, which must match it exactly.
HOST = (b"host", b"127.0.0.1")
ORIGIN = (b"origin", b"http://127.0.0.1")


@database_sync_to_async
def issue_token(user) -> str:
    return services.api_token_issue(user=user)


@database_sync_to_async
def session_cookie(user) -> str:
    browser = HttpClient()
    browser.force_login(user)
    return browser.cookies["sessionid"].value


@database_sync_to_async
def post(slug: str, body: str = "hi", *, author=None, client_id=None) -> int:
    """A message posted from outside the socket (another thread, like an HTTP
    request or a management command in this process)."""
    room = Room.objects.get(slug=slug)
    return services.message_post(
        room=room, author=author, body=body, client_id=client_id, check_rate=False
    ).seq


@database_sync_to_async
def seed(slug: str, count: int, body: str = "m") -> None:
    """`count` system messages, stored through the service in group commits
    (the one path that allocates seqs): the fast way to a long room."""
    room = Room.objects.get(slug=slug)
    first = room.last_seq + 1
    for start in range(first, first + count, 1000):
        services.entry_post_many(
            [
                EntryRequest(room, None, f"{body}{seq}")
                for seq in range(start, min(start + 1000, first + count))
            ]
        )


async def until_live(slug: str) -> None:
    """Wait until every socket joined to `slug` in this event loop has
    finished its backfill, so what is posted next arrives as `message`
    frames. The protocol has no frame for that moment, so this polls the
    hub (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        feeds = [feed for feed in get_hub().feeds.values() if feed.slug == slug]
        if feeds and all(sub.live for feed in feeds for sub in feed.subscriptions):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"sockets joined to {slug} still backfilling after {TIMEOUT}s")


class Client:
    """One socket; frames are dicts in and out."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.hello: dict | None = None
        self.closed_by_client = False
        self.held: list[dict] = []  # outputs `quiet` took off the queue, in order

    async def send(self, frame: dict | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_to(bytes_data=data)

    async def _output(self) -> dict:
        if self.held:
            return self.held.pop(0)
        return await self._receive_output()

    async def _receive_output(self) -> dict:
        """The application's next output; a frame is checked against
        docs/asyncapi.yaml as it arrives (tests/harness/frames.py)."""
        output = await self.communicator.receive_output(TIMEOUT)
        if output["type"] == "websocket.send":
            frames.received(output.get("text"))
        return output

    async def recv_text(self) -> str:
        output = await self._output()
        assert output["type"] == "websocket.send", f"expected a frame, got {output}"
        return output["text"]

    async def recv(self) -> dict:
        return json.loads(await self.recv_text())

    async def expect(self, kind: str, **fields) -> dict:
        """The next frame, which must be of type `kind` and hold `fields`."""
        frame = await self.recv()
        assert frame["type"] == kind, f"expected {kind}, got {frame}"
        for name, value in fields.items():
            assert frame.get(name) == value, f"{name}: expected {value!r} in {frame}"
        return frame

    async def next_of(self, kind: str, *, skip=()) -> dict:
        """The next frame of type `kind`, passing over presence frames (they
        come whenever somebody joins or leaves), `rooms` frames (whenever the
        user's memberships change) and frames of the `skip` types."""
        while True:
            frame = await self.recv()
            if frame["type"] == kind:
                return frame
            assert frame["type"] in ("presence", "rooms", *skip), f"expected {kind}, got {frame}"

    async def error(self, frame: dict | str, code: str, *, skip=(), **fields) -> dict:
        """Send `frame`, expect an error with `code` and `fields` in reply
        (passing over presence frames and frames of the `skip` types)."""
        await self.send(frame)
        error = await self.next_of("error", skip=skip)
        for name, value in {"code": code, **fields}.items():
            assert error.get(name) == value, f"{name}: expected {value!r} in {error}"
        return error

    async def join(self, room: str, **fields) -> dict:
        """Join `room`; the `joined` reply, passing over what arrives before it
        (frames of the rooms already joined)."""
        await self.send(frames.client_frame({"type": "join", "room": room, **fields}))
        return await self.next_of("joined", skip=("backfill", "message"))

    async def stream(self, room: str, up_to: int) -> list[dict]:
        """The messages of `room` from backfill and message frames, in the order
        received, until one with seq `up_to` arrives. Other frames are ignored."""
        messages: list[dict] = []
        while not messages or messages[-1]["seq"] < up_to:
            frame = await self.recv()
            if frame.get("room") != room:
                continue
            if frame["type"] == "backfill":
                messages.extend(frame["messages"])
            elif frame["type"] == "message":
                messages.append(frame["message"])
        return messages

    async def quiet(self, wait: float = 0.3) -> bool:
        """True when nothing but `presence` arrives for `wait` seconds (to
        show an absence, which no event can signal). Presence frames come
        whenever somebody joins or leaves, up to a quarter of a second
        after (they are coalesced), so they are passed over here."""
        while not self.held:
            if await self.communicator.receive_nothing(wait):
                return True
            output = await self._receive_output()
            text = output.get("text") or ""
            if output["type"] != "websocket.send" or not text.startswith('{"type":"presence"'):
                self.held.append(output)  # the next recv gets it first
        return False

    async def drain(self) -> list[str]:
        """The types of the frames that arrive until the socket goes quiet."""
        kinds = []
        while not await self.quiet():
            kinds.append((await self.recv())["type"])
        return kinds

    async def closed(self) -> int:
        """The close code the server sent next."""
        output = await self._output()
        assert output["type"] == "websocket.close", output
        return output["code"]

    async def closed_after(self, skip=()) -> int:
        """The close code the server sends, passing over frames of the `skip`
        types that come before it."""
        while True:
            output = await self._output()
            if output["type"] == "websocket.close":
                return output["code"]
            frame = json.loads(output["text"])
            assert frame["type"] in skip, f"expected the close, got {frame}"

    async def close(self) -> None:
        """Disconnect (once), as a browser closing its tab would."""
        if not self.closed_by_client:
            self.closed_by_client = True
            await self.communicator.disconnect(timeout=TIMEOUT)


class Clients:
    """Opens sockets for a test and closes them all at the end."""

    def __init__(self):
        self.opened: list[Client] = []

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc) -> None:
        for client in self.opened:
            await client.close()
        # The consumers' database work ran in asgiref's worker thread: close its
        # connections, or PostgreSQL refuses to drop the test database.
        await database_sync_to_async(connections.close_all)()
        # With every socket gone the hub must have stopped its loops, or they
        # would outlive the test's event loop.
        hub = hub_module._hubs.get(asyncio.get_running_loop())
        if hub is not None and exc[0] is None:
            assert not (hub.running or hub.feeds or hub.user_sockets), "hub still running"

    async def handshake(self, path: str = "/ws/", headers=()) -> tuple[bool, int | None, Client]:
        """(accepted, close code or None, client): the raw handshake, with
        HOST unless `headers` name a Host of their own."""
        headers = list(headers)
        if not any(name.lower() == b"host" for name, _ in headers):
            headers.append(HOST)
        communicator = WebsocketCommunicator(application, path, headers=headers)
        accepted, detail = await communicator.connect(timeout=TIMEOUT)
        client = Client(communicator)
        if accepted:
            self.opened.append(client)
        return accepted, None if accepted else detail, client

    async def connect(self, user, *, via: str = "header", origin: bool = False) -> Client:
        """A socket authenticated as `user` by `via` (header, query or session),
        past its hello."""
        headers, path = [], "/ws/"
        if via == "header":
            headers.append((b"authorization", f"Bearer {await issue_token(user)}".encode()))
        elif via == "query":
            path += "?token=" + quote(await issue_token(user))
        else:
            headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
        if origin or via == "session":
            headers.append(ORIGIN)
        accepted, code, client = await self.handshake(path, headers)
        assert accepted, f"handshake refused with {code}"
        client.hello = await client.expect("hello", protocol=2, user=user.get_username())
        return client
