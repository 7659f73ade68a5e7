"""Stand-ins for what the hub and the feeds (rooms/realtime/) talk to, so they
can be tested on their own: a socket, a hub (for a feed), a channel layer, an
event loop whose clock only the test moves, and the consumer's `join` and
another process's events as the hub receives them.

The database is never faked: tests store rows through the services.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from rooms import events, protocol
from rooms.access import RoomAccess, room_access
from rooms.realtime.feed import Subscription
from tests.harness import frames

OTHER_PROCESS = "other-process"


class ManualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock stands still until the test moves it.

    Timers (the feed's GAP_GRACE, the hub's `asyncio.sleep` loops) fire only
    when `advance` passes them, and `idle` says when everything that can run
    without the clock has run: no callback ready, no database call in flight
    in asgiref's thread. Tests await `idle` instead of sleeping.
    """

    def __init__(self):
        self._now = 0.0
        self._in_executor = 0
        self._executor_drained: asyncio.Future | None = None
        super().__init__()

    def time(self) -> float:
        return self._now

    async def advance(self, seconds: float) -> None:
        """Move the clock on and run what falls due."""
        self._now += seconds
        await self.idle()

    def run_in_executor(self, executor, func, *args):
        # database_sync_to_async runs here: count what is in flight.
        future = super().run_in_executor(executor, func, *args)
        self._in_executor += 1
        future.add_done_callback(self._executor_done)
        return future

    def _executor_done(self, _future) -> None:
        self._in_executor -= 1
        if not self._in_executor and self._executor_drained is not None:
            self._executor_drained.set_result(None)
            self._executor_drained = None

    async def idle(self) -> None:
        """Return once nothing more happens unless the clock moves or the test
        acts: every task waits on a timer, a lock, a gate or a layer queue."""
        while True:
            if self._in_executor:
                if self._executor_drained is None:
                    self._executor_drained = self.create_future()
                await self._executor_drained
            # BaseEventLoop's own queues: callbacks ready, and timers (a heap).
            elif self._ready or (self._scheduled and self._scheduled[0].when() <= self._now):
                # Another turn of the loop, after what is ready now.
                turn = self.create_future()
                self.call_soon(turn.set_result, None)
                await turn
            else:
                return


class FakeSocket:
    """A socket as the hub and the feeds use it (the consumer's methods they
    call), recording what it is sent and asked. The repair loop's access
    check also reads its `user` and `credentials` (rooms/realtime/auth.py,
    credentials_of: ("token", hash) or ("session", key))."""

    def __init__(
        self,
        username: str,
        *,
        socket_id: str | None = None,
        user=None,
        credentials: tuple[str, str | None] = ("session", None),
    ):
        self.username = username
        self.socket_id = socket_id or uuid.uuid4().hex
        self.user = user
        self.credentials = credentials
        self.gone = False
        self.frames: list[dict] = []
        self.lost: list = []  # subscriptions passed to lose_room
        self.rechecked: list[int | None] = []  # room ids passed to recheck_access
        self.closed_with: int | None = None
        self.ended: list[tuple[int, str]] = []  # (code, reason) passed to end

    async def send_text(self, text: str) -> None:
        # Checked against docs/asyncapi.yaml as the test clients check theirs.
        self.frames.append(frames.received(text))

    async def lose_room(self, subscription) -> None:
        self.lost.append(subscription)

    async def recheck_access(self, room_id: int | None) -> None:
        self.rechecked.append(room_id)

    async def close(self, code: int) -> None:
        self.closed_with = code

    async def end(self, code: int, reason: str) -> None:
        self.ended.append((code, reason))
        self.gone = True
        await self.close(code)

    def backfill_sender(self, room: str):
        """A `send_page` for Subscription.catch_up: each page goes out as a
        backfill frame, as the consumer sends it."""

        async def send_page(page: list[str]) -> None:
            await self.send_text(protocol.backfill(room, page))

        return send_page

    def of_type(self, kind: str) -> list[dict]:
        return [frame for frame in self.frames if frame["type"] == kind]

    def seqs(self) -> list[int]:
        """The seqs of the entries received, backfill and live, in order."""
        seqs = []
        for frame in self.frames:
            if frame["type"] == "backfill":
                seqs += [entry["seq"] for entry in frame["messages"]]
            elif frame["type"] == "message":
                seqs.append(frame["message"]["seq"])
        return seqs

    def stream(self) -> list[tuple[str, list[int]]]:
        """(frame type, seqs) of each backfill and message frame, in order."""
        return [
            (frame["type"], [entry["seq"] for entry in frame["messages"]])
            if frame["type"] == "backfill"
            else (frame["type"], [frame["message"]["seq"]])
            for frame in self.frames
            if frame["type"] in ("backfill", "message")
        ]


class FakeHub:
    """What a RoomFeed asks of the hub that owns it: whether the layer reaches
    other processes, the feeds it keeps, the layer group to join (nothing is
    joined), presence to announce (to its own sockets only)."""

    def __init__(self, *, shared: bool, window_limits: tuple[int, int] | None = None):
        self.shared = shared
        self.feeds: dict = {}
        self.window_limits = window_limits or settings.ROOMS_RESUME_WINDOW

    async def sync_group(self, group: str, wanted) -> None:
        pass

    async def announce_presence(self, feed, *, ask: bool = False) -> None:
        await feed.presence_changed()


class FakeLayer:
    """A channel layer shared with other (imaginary) processes: the
    in-memory layer underneath for real groups and queues, each group call
    recorded as it lands, and any call can be held at a gate so the test
    decides when it lands (`hold`, `release`)."""

    def __init__(self):
        self.inner = InMemoryChannelLayer()
        self.calls: list[tuple] = []  # (method, group, ...) as they landed
        self._gates: dict[str, asyncio.Event] = {}

    def hold(self, method: str) -> None:
        self._gates[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._gates.pop(method).set()

    def release_all(self) -> None:
        for method in list(self._gates):
            self.release(method)

    def members(self, group: str) -> set[str]:
        return set(self.inner.groups.get(group, {}))

    def sent(self, group: str) -> list[dict]:
        return [call[2] for call in self.calls if call[:2] == ("group_send", group)]

    async def _land(self, method: str, *args):
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        result = await getattr(self.inner, method)(*args)
        self.calls.append((method, *args))
        return result

    async def new_channel(self, prefix: str = "specific.") -> str:
        return await self.inner.new_channel(prefix)

    async def receive(self, channel: str) -> dict:
        return await self.inner.receive(channel)

    async def group_add(self, group: str, channel: str) -> None:
        await self._land("group_add", group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        await self._land("group_discard", group, channel)

    async def group_send(self, group: str, message: dict) -> None:
        await self._land("group_send", group, message)


def entry(seq: int, body: str = "") -> str:
    """An entry's JSON as a broadcast carries it (a system message: the feed
    passes it through unparsed, and tests read back its seq and body)."""
    return protocol.entry_json(
        seq=seq,
        room="lobby",
        kind="system",
        author=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        client_id=None,
        body=body or f"entry {seq}",
    )


@database_sync_to_async
def seen_by(user, room) -> RoomAccess:
    return room_access(user=user, slug=room.slug)


async def join(hub, socket: FakeSocket, user, room) -> Subscription:
    """What the consumer does for a `join` at the room's head: subscribe,
    send `joined`, catch up (nothing to read), live."""
    seen = await seen_by(user, room)
    subscription = Subscription(socket=socket, room=seen, since=seen.head)
    feed = await hub.subscribe(subscription)
    subscription.started = True
    await subscription.catch_up(feed, socket.backfill_sender(room.slug))
    return subscription


def from_other_process(event) -> dict:
    """`event` as the layer brings it from another process."""
    return events.encode(event, origin=OTHER_PROCESS)
