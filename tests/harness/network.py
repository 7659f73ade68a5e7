"""A small protocol client for the integration tests, over the `websockets`
library against real daphne workers.

It reads every frame in a background task and keeps, per room, the stream of
the current join (docs/protocol.md, Join and backfill): after each
`joined` a new Stream starts at since + 1, and every `backfill`/`message`
frame of that room is checked as it arrives for gaps, duplicates, order,
backfill-after-live and the backfill frame limits. Every frame is also
checked against docs/asyncapi.yaml (tests/harness/frames.py). Tests then assert on
`stream.problems` and the received seqs, never on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import websockets
from websockets.exceptions import ConnectionClosed

from tests.harness import frames

BACKFILL_MAX_MESSAGES = 500
BACKFILL_MAX_BYTES = 256 * 1024
REPLY_TIMEOUT = 30.0


@dataclass
class Stream:
    """One join's stream of one room: every seq after `since`, exactly once."""

    room: str
    since: int
    head_at_join: int
    seqs: list[int] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    backfill_frames: int = 0
    live_frames: int = 0
    problems: list[str] = field(default_factory=list)
    ended: bool = False  # replaced by a re-join, left, or the socket closed

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else self.since

    def take(self, message: dict, kind: str) -> None:
        seq = message["seq"]
        if seq != self.last + 1:
            what = "duplicate or out of order" if seq <= self.last else "gap"
            self.problems.append(f"{self.room}: {what}: seq {seq} after {self.last} ({kind})")
        if kind == "backfill" and self.live_frames:
            self.problems.append(f"{self.room}: backfill seq {seq} after live messages")
        self.seqs.append(seq)
        self.messages.append(message)

    def __str__(self) -> str:
        return (
            f"Stream({self.room} since={self.since} last={self.last} "
            f"received={len(self.seqs)} problems={self.problems[:3]})"
        )

    def expected(self, head: int) -> list[int]:
        return list(range(self.since + 1, head + 1))


class Client:
    """One WebSocket to a worker, authenticated with an API token (or with
    what `headers` carry: a session cookie and an Origin)."""

    def __init__(self, ws, name: str):
        self.ws = ws
        self.name = name
        self.user: str | None = None
        self.streams: dict[str, Stream] = {}  # the current stream of each joined room
        self.all_streams: list[Stream] = []
        self.errors: list[dict] = []  # error frames no request was waiting for
        self.close_code: int | None = None
        self._refs = itertools.count(1)
        self._pending: dict[str, asyncio.Future] = {}
        self._tick = asyncio.Event()
        self._hello: asyncio.Future = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(), name=f"client-{name}")

    @classmethod
    async def connect(
        cls, url: str, token: str | None, *, name: str = "client", headers: dict | None = None
    ) -> Client:
        bearer = {"Authorization": f"Bearer {token}"} if token else {}
        ws = await websockets.connect(
            url,
            additional_headers={**bearer, **(headers or {})},
            max_size=2**24,
            ping_interval=None,
            open_timeout=REPLY_TIMEOUT,
            close_timeout=5,
        )
        client = cls(ws, name)
        hello = await asyncio.wait_for(asyncio.shield(client._hello), REPLY_TIMEOUT)
        client.user = hello["user"]
        return client

    # --- reading -----------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._on_frame(raw, self._checked(raw))
                self._changed()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            for stream in self.streams.values():
                stream.ended = True
            closed = ConnectionError(f"{self.name}: socket closed ({self.close_code})")
            for future in [self._hello, *self._pending.values()]:
                if not future.done():
                    future.set_exception(closed)
                    future.exception()  # retrieved: nobody may be waiting for it
            self._changed()

    def _changed(self) -> None:
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    @staticmethod
    def _checked(raw: str | bytes) -> dict:
        """The frame, checked against docs/asyncapi.yaml. A mismatch is
        recorded, and its test fails when it ends (tests/conftest.py); the
        frame is still taken in, so the test goes on to say what it saw."""
        try:
            return frames.received(raw)
        except frames.FrameError:
            return json.loads(raw)

    def _on_frame(self, raw: str | bytes, frame: dict) -> None:
        kind = frame["type"]
        if kind == "hello":
            self._hello.set_result(frame)
        elif kind == "joined":
            old = self.streams.get(frame["room"])
            if old is not None:
                old.ended = True
            stream = Stream(frame["room"], frame["since"], frame["head"])
            self.streams[frame["room"]] = stream
            self.all_streams.append(stream)
        elif kind == "left":
            self.streams.pop(frame["room"]).ended = True
        elif kind == "backfill":
            stream = self.streams[frame["room"]]
            stream.backfill_frames += 1
            size = len(raw.encode() if isinstance(raw, str) else raw)
            count = len(frame["messages"])
            if count > BACKFILL_MAX_MESSAGES or size > BACKFILL_MAX_BYTES or not count:
                stream.problems.append(f"backfill frame of {count} messages, {size} bytes")
            for message in frame["messages"]:
                stream.take(message, "backfill")
        elif kind == "message":
            stream = self.streams[frame["room"]]
            stream.take(frame["message"], "message")
            stream.live_frames += 1
        ref = frame.get("ref")
        if ref is not None and ref in self._pending:
            self._pending.pop(ref).set_result(frame)
        elif kind == "error":
            self.errors.append(frame)

    # --- requests ------------------------------------------------------------------

    def submit(self, frame: dict) -> asyncio.Future:
        """Send `frame` with a fresh ref; the future resolves to its reply."""
        ref = f"{self.name}-{next(self._refs)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        sending = asyncio.ensure_future(self.ws.send(json.dumps({**frame, "ref": ref})))
        # A send on a closed socket fails; its reply future reports that.
        sending.add_done_callback(lambda task: task.cancelled() or task.exception())
        return future

    async def request(self, frame: dict, within: float = REPLY_TIMEOUT) -> dict:
        reply = await asyncio.wait_for(self.submit(frame), within)
        if reply["type"] == "error":
            raise AssertionError(f"{self.name}: {frame['type']} failed: {reply}")
        return reply

    async def join(self, room: str, since: int | None = None, **args) -> dict:
        frame = {"type": "join", "room": room, **args}
        if since is not None:
            frame["since"] = since
        return await self.request(frames.client_frame(frame))

    async def send(self, room: str, body: str, client_id: str | None = None) -> dict:
        frame = {"type": "send", "room": room, "body": body}
        if client_id is not None:
            frame["client_id"] = client_id
        return await self.request(frames.client_frame(frame))

    async def send_many(self, room: str, bodies: list[str], *, window: int = 50) -> list[dict]:
        """Pipelined sends, at most `window` unacknowledged at a time; the acks
        in the order of `bodies`."""
        slots = asyncio.Semaphore(window)

        async def one(body: str) -> dict:
            async with slots:
                return await self.send(room, body)

        return await asyncio.gather(*(one(body) for body in bodies))

    # --- waiting -------------------------------------------------------------------

    async def wait_until(
        self, predicate: Callable[[], bool], within: float, what: Callable[[], str]
    ) -> None:
        """Wait for a frame (or the close) after which `predicate()` holds;
        `what()` describes it when it does not come."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if self._reader.done():
                raise AssertionError(f"{self.name}: closed ({self.close_code}) before {what()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no {what()} within {within}s")
            tick = self._tick
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tick.wait(), remaining)

    async def wait_for_seq(self, room: str, seq: int, within: float = 60.0) -> Stream:
        """Wait until the current stream of `room` has reached `seq`."""
        await self.wait_until(
            lambda: room in self.streams and self.streams[room].last >= seq,
            within,
            lambda: f"seq {seq} in {room} (stream: {self.streams.get(room)})",
        )
        return self.streams[room]

    async def wait_closed(self, within: float = 30.0) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    # --- ending --------------------------------------------------------------------

    def problems(self) -> list[str]:
        return [problem for stream in self.all_streams for problem in stream.problems]

    def abort(self) -> None:
        """Cut the TCP connection without a close frame."""
        self.ws.transport.abort()

    async def close(self) -> None:
        await self.ws.close()
        await self.wait_closed()


async def connect_all(url_tokens: list[tuple[str, str]], name: str = "c") -> list[Client]:
    return list(
        await asyncio.gather(
            *(
                Client.connect(url, token, name=f"{name}{i}")
                for i, (url, token) in enumerate(url_tokens)
            )
        )
    )


async def reader_and_writer(
    room: str, reader: tuple[str, str], writer: tuple[str, str]
) -> tuple[Client, Client]:
    """Two sockets, each (ws url, token), both joined to `room` from seq 0."""
    clients = (
        await Client.connect(*reader, name="reader"),
        await Client.connect(*writer, name="writer"),
    )
    for client in clients:
        await client.join(room, since=0)
    return clients


async def close_all(clients: list[Client]) -> None:
    await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
