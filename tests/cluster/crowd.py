"""A crowd of WebSocket clients that behave like the browser client
(rooms/static/rooms/client.js) towards a cluster behind nginx.

Each Member is one user on one socket joined to one room. It sends messages
with a client_id each and keeps every one in its outbox until its `ack`;
when its socket closes (any code but 4401) it reconnects through nginx with
a backoff, re-joins with `since` = the last seq it received (G5) and sends
its outbox again with the same client_ids (G4). An `unavailable`,
`server_error` or `rate_limited` error is retried after `retry_after`.

What each member received, across all its sockets, is checked against the
room's log read from the database (`Crowd.verify`): exactly the log, in
order, with nothing missing or repeated, and every acknowledged entry in it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.exceptions import WebSocketException

from tests.harness import frames
from tests.harness.network import Client

RETRYABLE = frozenset({"unavailable", "server_error", "rate_limited"})
REPLY_TIMEOUT = 20.0


def backoff(attempt: int) -> float:
    """Jittered, like the browser client's: a crowd that lost one worker does
    not come back in lockstep."""
    cap = min(2.0, 0.2 * 2**attempt)
    return random.uniform(cap / 2, cap)


@dataclass
class Attempt:
    """One `send` frame on the wire and what became of it."""

    client_id: str
    at: float  # time.monotonic() when it was sent
    reply: str = "none"  # "ack", an error code, or "none" (the socket went first)
    answered: float | None = None


@dataclass
class Member:
    url: str
    token: str
    room: str
    name: str
    deadline: float  # time.monotonic() after which it gives up (a test failure)
    clients: list[Client] = field(default_factory=list)  # every socket, oldest first
    sent: dict[str, str] = field(default_factory=dict)  # client_id -> body
    outbox: dict[str, str] = field(default_factory=dict)  # not acknowledged yet
    acks: dict[str, int] = field(default_factory=dict)  # client_id -> seq
    attempts: list[Attempt] = field(default_factory=list)
    duplicates: int = 0  # acks with duplicate: true (a resend of a stored entry)
    errors: Counter = field(default_factory=Counter)  # error code -> count
    connect_failures: int = 0
    connect_error: str = ""  # the last one, for the report of a failure
    joined: bool = False
    on_reply: Callable[[], None] = lambda: None  # after each ack or error

    # --- the stream across sockets ------------------------------------------------

    def streams(self):
        return [stream for client in self.clients for stream in client.all_streams]

    @property
    def last(self) -> int:
        """The last seq received; each re-join continues from it."""
        streams = self.streams()
        return streams[-1].last if streams else 0

    def received(self) -> list[dict]:
        return [message for stream in self.streams() for message in stream.messages]

    def problems(self) -> list[str]:
        return [problem for client in self.clients for problem in client.problems()]

    # --- the socket ---------------------------------------------------------------------

    @property
    def closes(self) -> Counter:
        """Close code -> how many of its sockets ended with it."""
        return Counter(
            None if client.close_code is None else int(client.close_code)
            for client in self.clients
            if client._reader.done()
        )

    @property
    def client(self) -> Client | None:
        return self.clients[-1] if self.clients else None

    def _open(self) -> bool:
        client = self.client
        return client is not None and not client._reader.done()

    def _check_deadline(self, what: str) -> None:
        if time.monotonic() > self.deadline:
            raise AssertionError(f"{self.name}: gave up {what}: {self.summary()}")

    async def ensure(self) -> Client:
        """A socket joined to the room, reconnecting as often as it takes."""
        attempt = 0
        while not (self._open() and self.joined):
            self._check_deadline("reconnecting")
            if not self._open():
                await self._reconnect(attempt)
                attempt += 1
            if self._open() and not self.joined:
                await self._join()
        return self.client

    async def _reconnect(self, attempt: int) -> None:
        previous = self.client
        if previous is not None:
            await asyncio.sleep(backoff(attempt))
        self.joined = False
        try:
            client = await Client.connect(self.url, self.token, name=f"{self.name}.{attempt}")
        except (OSError, TimeoutError, ConnectionError, WebSocketException) as error:
            # Refused by nginx (every worker down), or closed before `hello`
            # (a worker that is stopping, or whose database is away).
            self.connect_failures += 1
            self.connect_error = repr(error)
            if previous is None:
                await asyncio.sleep(backoff(attempt))
            return
        self.clients.append(client)

    async def _join(self) -> None:
        client = self.client
        try:
            reply = await asyncio.wait_for(
                client.submit(
                    frames.client_frame({"type": "join", "room": self.room, "since": self.last})
                ),
                REPLY_TIMEOUT,
            )
        except (ConnectionError, TimeoutError):
            client.abort()
            return
        if reply["type"] == "joined":
            self.joined = True
            return
        code = reply.get("code")
        self.errors[code] += 1
        self.on_reply()
        if code not in RETRYABLE:
            raise AssertionError(f"{self.name}: join refused: {reply}")
        await asyncio.sleep(reply.get("retry_after", 1.0))

    # --- sending -------------------------------------------------------------------------

    async def send(self, body: str) -> None:
        """Send one message until it is acknowledged, across reconnects."""
        client_id = f"{self.name}-{len(self.sent)}"
        self.sent[client_id] = body
        self.outbox[client_id] = body
        while client_id in self.outbox:
            self._check_deadline(f"sending {client_id}")
            client = await self.ensure()
            attempt = Attempt(client_id, time.monotonic())
            self.attempts.append(attempt)
            frame = frames.client_frame(
                {"type": "send", "room": self.room, "body": body, "client_id": client_id}
            )
            try:
                reply = await asyncio.wait_for(client.submit(frame), REPLY_TIMEOUT)
            except ConnectionError:
                continue  # the socket closed first: send it again on the next one
            except TimeoutError:
                client.abort()  # a socket that stopped answering is given up
                continue
            attempt.answered = time.monotonic()
            self.on_reply()
            if reply["type"] == "ack":
                attempt.reply = "ack"
                assert reply["client_id"] == client_id, reply
                self.acks[client_id] = reply["seq"]
                self.duplicates += reply["duplicate"]
                del self.outbox[client_id]
                return
            attempt.reply = code = reply.get("code")
            self.errors[code] += 1
            if code not in RETRYABLE:
                raise AssertionError(f"{self.name}: send refused: {reply}")
            assert reply.get("retry_after") is not None, reply
            await asyncio.sleep(reply["retry_after"])

    async def run(self, *, count: int, pace: float, until: float) -> None:
        """Send up to `count` messages about `pace` seconds apart, starting
        no new one after `until` (time.monotonic())."""
        await asyncio.sleep(random.uniform(0, pace))  # not all in step
        for n in range(count):
            if time.monotonic() > until:
                break
            await self.send(f"{self.name} says {n}")
            await asyncio.sleep(random.uniform(pace / 2, pace * 1.5))

    async def catch_up(self, head: int) -> None:
        """Wait until the stream has reached `head`, reconnecting if needed."""
        while self.last < head:
            self._check_deadline(f"waiting for seq {head}")
            client = await self.ensure()
            remaining = max(0.1, self.deadline - time.monotonic())
            try:
                await client.wait_until(
                    lambda: self.last >= head, remaining, lambda: f"seq {head} in {self.room}"
                )
            except AssertionError:
                if self._open():
                    raise  # open but silent: deaf

    async def close(self) -> None:
        if self._open():
            await self.client.close()

    def summary(self) -> str:
        return (
            f"room {self.room} last {self.last} sockets {len(self.clients)} "
            f"outbox {len(self.outbox)} closes {dict(self.closes)} errors {dict(self.errors)} "
            f"connect failures {self.connect_failures} (last: {self.connect_error})"
        )


@dataclass
class Crowd:
    """Members spread over rooms: member i is in rooms[i % len(rooms)]."""

    members: list[Member]
    rooms: list[str]
    replied: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self):
        for member in self.members:
            member.on_reply = self.replied.set

    @classmethod
    def of(cls, url: str, tokens: dict[str, str], rooms: list[str], *, within: float) -> Crowd:
        deadline = time.monotonic() + within
        members = [
            Member(url, token, rooms[i % len(rooms)], name, deadline)
            for i, (name, token) in enumerate(sorted(tokens.items()))
        ]
        return cls(members, rooms)

    async def connect(self) -> None:
        await asyncio.gather(*(member.ensure() for member in self.members))

    def acked(self) -> int:
        return sum(len(member.acks) for member in self.members)

    def errors(self, code: str) -> int:
        return sum(member.errors[code] for member in self.members)

    async def wait_for(self, predicate: Callable[[], bool], what: str, within: float = 60.0):
        """Until `predicate()` holds, checked after each ack or error."""
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    self.replied.clear()
                    await self.replied.wait()
        except TimeoutError:
            raise AssertionError(f"no {what} within {within}s") from None

    async def load(self, *, count: int, pace: float, until: float) -> None:
        await asyncio.gather(
            *(member.run(count=count, pace=pace, until=until) for member in self.members)
        )

    async def catch_up(self, heads: dict[str, int]) -> None:
        await asyncio.gather(*(member.catch_up(heads[member.room]) for member in self.members))

    async def close(self) -> None:
        await asyncio.gather(*(member.close() for member in self.members), return_exceptions=True)

    def verify(self, logs: dict[str, list[dict]]) -> None:
        """Every member's stream is exactly its room's log; every entry sent
        is in the log once; every acknowledged entry is where its ack said."""
        for room in self.rooms:
            log = logs[room]
            members = [member for member in self.members if member.room == room]
            assert [entry["seq"] for entry in log] == list(range(1, len(log) + 1)), room
            stored = Counter(entry["client_id"] for entry in log)
            repeated = [client_id for client_id, n in stored.items() if n > 1]
            assert not repeated, f"{room}: stored more than once: {repeated[:5]}"
            sent = {cid: body for member in members for cid, body in member.sent.items()}
            assert set(stored) == set(sent), (
                f"{room}: lost {sorted(set(sent) - set(stored))[:5]}, "
                f"unknown {sorted(set(stored) - set(sent))[:5]}"
            )
            by_seq = {entry["seq"]: entry for entry in log}
            expected = [(e["seq"], e["client_id"], e["body"]) for e in log]
            for member in members:
                assert not member.outbox, f"{member.name}: unacknowledged {member.outbox}"
                for client_id, seq in member.acks.items():
                    entry = by_seq[seq]
                    assert (entry["client_id"], entry["body"]) == (
                        client_id,
                        member.sent[client_id],
                    ), f"{member.name}: ack {client_id} -> {seq}, the log has {entry}"
                assert member.problems() == [], f"{member.name}: {member.problems()[:5]}"
                got = [(m["seq"], m["client_id"], m["body"]) for m in member.received()]
                if got != expected:
                    seqs = [seq for seq, _, _ in got]
                    raise AssertionError(
                        f"{member.name}: received {len(got)} entries, the log has "
                        f"{len(expected)}; first seqs {seqs[:10]}, last {seqs[-10:]}"
                    )

    def report(self, title: str, logs: dict[str, list[dict]]) -> dict:
        """The counts of the run, printed (pytest -s shows them)."""
        members = self.members
        seen = [len(member.received()) for member in members]
        counts = {
            "clients": len(members),
            "rooms": len(self.rooms),
            "entries": sum(len(log) for log in logs.values()),
            "sends": sum(len(member.attempts) for member in members),
            "acks": self.acked(),
            "duplicate acks": sum(member.duplicates for member in members),
            "sockets": sum(len(member.clients) for member in members),
            "reconnected clients": sum(len(member.clients) > 1 for member in members),
            "connect failures": sum(member.connect_failures for member in members),
            "closes": dict(sum((member.closes for member in members), Counter())),
            "errors": dict(sum((member.errors for member in members), Counter())),
            "entries seen per client": (min(seen), max(seen)),
        }
        print(f"\n{title}: " + ", ".join(f"{key} {value}" for key, value in counts.items()))
        return counts
