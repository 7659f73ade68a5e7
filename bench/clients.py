"""The load generator: WebSocket clients of the Rooms protocol.

`ClientPool` starts client processes (multiprocessing), each driving many
sockets with asyncio + websockets, so the generator uses the cores the server
does not and is measured on its own (`cpu_seconds`). The orchestrator tells a
pool to open N joined sockets, to start counting, and to wait until every
socket has received up to a given seq; each process answers with its counts
and raw latencies.

Latency is publish → receive: the publisher puts its `time.monotonic()` at the
start of each body, and CLOCK_MONOTONIC is one clock for every process of the
machine.

`Stream` (used in-process by the orchestrator too) keeps, per socket, which
seqs arrived, so lost, duplicated and out-of-order deliveries are counted,
not guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import time
from array import array

from websockets.asyncio.client import connect

# Open files allowed to clients and servers: the hard limit, which only a
# process with CAP_SYS_RESOURCE could raise (a container usually cannot).
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
if NOFILE == resource.RLIM_INFINITY:
    NOFILE = 1 << 20


def raise_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def open_socket(url: str):
    """A connected socket that has received `hello`."""
    ws = await connect(
        url, compression=None, max_size=None, ping_interval=None, proxy=None, open_timeout=60
    )
    hello = json.loads(await ws.recv())
    if hello.get("type") != "hello":
        await ws.close()
        raise RuntimeError(f"expected hello, got {hello}")
    return ws


class Stream:
    """What one socket received of one room: seqs seen, duplicates, order."""

    __slots__ = ("count", "dups", "last", "reordered", "seen", "since")

    def __init__(self, since: int = 0):
        self.since = since
        self.seen = bytearray()
        self.last = since
        self.count = 0
        self.dups = 0
        self.reordered = 0

    def take(self, seq: int) -> bool:
        """Record one delivery; True when it is new."""
        index = seq - self.since
        if index <= 0:
            self.dups += 1
            return False
        if index >= len(self.seen):
            self.seen.extend(bytes(index - len(self.seen) + 1024))
        if self.seen[index]:
            self.dups += 1
            return False
        self.seen[index] = 1
        self.count += 1
        if seq < self.last:
            self.reordered += 1
        else:
            self.last = seq
        return True

    def missing(self, up_to: int) -> int:
        return (up_to - self.since) - self.seen[1 : up_to - self.since + 1].count(1)


class Subscriber:
    """Many joined sockets of one room, in one event loop."""

    def __init__(self):
        self.streams: list[Stream] = []
        self.sockets = []
        self.tasks: list[asyncio.Task] = []
        self.latencies = array("d")
        self.first_recv = self.last_recv = 0.0
        self.progress = asyncio.Event()
        self.errors = 0

    async def open(self, urls: list[str], room: str, count: int, concurrency: int = 20) -> dict:
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(i: int):
            async with gate:
                try:
                    ws = await open_socket(urls[i % len(urls)])
                    await ws.send(json.dumps({"type": "join", "room": room, "since": 0}))
                    while json.loads(await ws.recv()).get("type") != "joined":
                        pass
                except Exception:
                    self.errors += 1
                    return
            stream = Stream(0)
            self.sockets.append(ws)
            self.streams.append(stream)
            self.tasks.append(asyncio.create_task(self._read(ws, stream)))

        await asyncio.gather(*(one(i) for i in range(count)))
        return {"opened": len(self.sockets), "errors": self.errors, "seconds": _since(started)}

    async def _read(self, ws, stream: Stream) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                now = time.monotonic()
                frame = json.loads(text)
                kind = frame["type"]
                if kind == "message":
                    messages = (frame["message"],)
                elif kind == "backfill":
                    messages = frame["messages"]
                else:
                    continue
                for message in messages:
                    if stream.take(message["seq"]):
                        self._latency(message["body"], now)
                if not self.first_recv:
                    self.first_recv = now
                self.last_recv = now
                self.progress.set()

    def _latency(self, body: str, now: float) -> None:
        stamp, _, _ = body.partition(" ")
        with contextlib.suppress(ValueError):
            self.latencies.append(now - float(stamp))

    def reset(self) -> None:
        self.latencies = array("d")
        self.first_recv = self.last_recv = 0.0

    async def wait(self, up_to: int, within: float) -> dict:
        deadline = time.monotonic() + within
        while any(s.last < up_to for s in self.streams) and time.monotonic() < deadline:
            self.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), max(0.0, deadline - time.monotonic()))
        return {
            "sockets": len(self.streams),
            "delivered": sum(min(s.count, up_to) for s in self.streams),
            "lost": sum(s.missing(up_to) for s in self.streams),
            "duplicated": sum(s.dups for s in self.streams),
            "reordered": sum(s.reordered for s in self.streams),
            "first_recv": self.first_recv,
            "last_recv": self.last_recv,
            "latencies": self.latencies.tobytes(),
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.sockets, self.tasks, self.streams = [], [], []


def _since(started: float) -> float:
    return time.monotonic() - started


async def hold(ws, stream: Stream, count: int) -> bool:
    """Read `ws` (backfill and live frames) until `stream` holds `count`
    entries; False if the socket ends first."""
    async for text in ws:
        frame = json.loads(text)
        if frame["type"] == "backfill":
            messages = frame["messages"]
        elif frame["type"] == "message":
            messages = (frame["message"],)
        else:
            continue
        for message in messages:
            stream.take(message["seq"])
        if stream.count >= count:
            return True
    return False


async def storm(urls: list[str], room: str, *, count: int, since: int, head: int, within: float):
    """`count` sockets connect at once (at most STORM_IN_FLIGHT handshakes in
    flight), join with `since` and wait until they hold every seq up to
    `head`. Returns each client's seconds from the start until it held
    them all, and the failures."""
    gate = asyncio.Semaphore(STORM_IN_FLIGHT)
    started = time.monotonic()
    done = array("d")
    failures = {"errors": 0, "incomplete": 0}
    sockets = []

    async def one(i: int) -> None:
        try:
            async with gate:
                ws = await open_socket(urls[i % len(urls)])
                sockets.append(ws)
                await ws.send(json.dumps({"type": "join", "room": room, "since": since}))
            stream = Stream(since)
            async with asyncio.timeout(max(0.1, started + within - time.monotonic())):
                if await hold(ws, stream, head - since):
                    done.append(time.monotonic() - started)
                    return
            failures["incomplete"] += 1
        except TimeoutError:
            failures["incomplete"] += 1
        except Exception:
            failures["errors"] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"done": done.tobytes(), **failures}


STORM_IN_FLIGHT = 1000  # handshakes one client process keeps in flight


def _process_main(conn) -> None:
    raise_fd_limit()
    asyncio.run(_serve(conn))


async def _serve(conn) -> None:
    """Run the orchestrator's commands, one at a time, until `exit`."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    subscriber = Subscriber()
    cpu_mark = cpu_seconds()
    while True:
        command = await inbox.get()
        op = command["op"]
        if op == "open":
            reply = await subscriber.open(command["urls"], command["room"], command["count"])
        elif op == "reset":
            subscriber.reset()
            cpu_mark = cpu_seconds()
            reply = {}
        elif op == "wait":
            reply = await subscriber.wait(command["up_to"], command["timeout"])
            reply["cpu_seconds"] = cpu_seconds() - cpu_mark
        elif op == "storm":
            reply = await storm(
                command["urls"],
                command["room"],
                count=command["count"],
                since=command["since"],
                head=command["head"],
                within=command["within"],
            )
        elif op == "close":
            await subscriber.close()
            subscriber = Subscriber()
            reply = {}
        else:
            conn.send({})
            return
        conn.send(reply)


class ClientPool:
    """`processes` client processes, each holding its share of the sockets."""

    def __init__(self, processes: int = 2):
        context = multiprocessing.get_context("spawn")
        self.conns = []
        self.procs = []
        for _ in range(processes):
            parent, child = context.Pipe()
            proc = context.Process(target=_process_main, args=(child,), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def _all(self, commands: list[dict], timeout: float) -> list[dict]:
        for conn, command in zip(self.conns, commands, strict=True):
            conn.send(command)
        replies = []
        for conn in self.conns:
            if not conn.poll(timeout):
                raise TimeoutError(f"client process gave no answer in {timeout:.0f}s")
            replies.append(conn.recv())
        return replies

    def _split(self, count: int) -> list[int]:
        n = len(self.conns)
        return [count // n + (1 if i < count % n else 0) for i in range(n)]

    def open(self, urls: list[str], room: str, count: int, timeout: float = 300) -> dict:
        started = time.monotonic()
        replies = self._all(
            [{"op": "open", "urls": urls, "room": room, "count": c} for c in self._split(count)],
            timeout,
        )
        seconds = _since(started)
        opened = sum(r["opened"] for r in replies)
        return {
            "opened": opened,
            "errors": sum(r["errors"] for r in replies),
            "seconds": seconds,
            "per_second": opened / seconds if seconds else 0.0,
        }

    def reset(self) -> None:
        self._all([{"op": "reset"}] * len(self.conns), 30)

    def wait(self, up_to: int, timeout: float) -> dict:
        replies = self._all(
            [{"op": "wait", "up_to": up_to, "timeout": timeout}] * len(self.conns), timeout + 60
        )
        latencies = array("d")
        for reply in replies:
            latencies.frombytes(reply["latencies"])
        firsts = [r["first_recv"] for r in replies if r["first_recv"]]
        return {
            "sockets": sum(r["sockets"] for r in replies),
            "delivered": sum(r["delivered"] for r in replies),
            "lost": sum(r["lost"] for r in replies),
            "duplicated": sum(r["duplicated"] for r in replies),
            "reordered": sum(r["reordered"] for r in replies),
            "first_recv": min(firsts) if firsts else 0.0,
            "last_recv": max(r["last_recv"] for r in replies),
            "client_cpu_seconds": sum(r["cpu_seconds"] for r in replies),
            "latencies": latencies,
        }

    def storm(self, urls, room: str, *, count: int, since: int, head: int, within: float):
        """Every process starts its share of the storm at once; the clients'
        completion times, merged."""
        command = {"op": "storm", "urls": urls, "room": room, "since": since, "head": head}
        replies = self._all(
            [{**command, "count": c, "within": within} for c in self._split(count)], within + 120
        )
        done = array("d")
        for reply in replies:
            done.frombytes(reply["done"])
        return {
            "done": done,
            "errors": sum(r["errors"] for r in replies),
            "incomplete": sum(r["incomplete"] for r in replies),
        }

    def close_sockets(self) -> None:
        self._all([{"op": "close"}] * len(self.conns), 120)

    def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send({"op": "exit"})
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
