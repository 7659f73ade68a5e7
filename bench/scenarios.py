"""The four scenarios of issue 5, each returning result records (dicts that
become JSON lines): fan-out, backfill, connections, sends.

Every loop is bounded by a count and a deadline; every socket goes to
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from array import array
from concurrent.futures import ThreadPoolExecutor

from .clients import ClientPool, Stream, Subscriber, cpu_seconds, hold, open_socket
from .servers import Server, cpu_ticks, rss_kib, settle, settle_rss

PAD = " the quick brown fox jumps over the lazy dog, twice: the quick brown fox"


def percentiles(values) -> dict:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)
    last = len(ordered) - 1

    def at(q: float) -> float:
        return round(ordered[min(last, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


class ServerCpu:
    """CPU seconds the server processes used between `start()` and `stop()`."""

    def __init__(self, server: Server):
        self.pids = server.pids
        self.start()

    def start(self) -> None:
        self.marks = [cpu_ticks(pid) for pid in self.pids]
        self.started = time.monotonic()

    def stop(self) -> dict:
        wall = time.monotonic() - self.started
        used = [cpu_ticks(pid) - mark for pid, mark in zip(self.pids, self.marks, strict=True)]
        return {"server_cpu_seconds": round(sum(used), 2), "server_cpu_cores": _ratio(used, wall)}


def _ratio(used: list[float], wall: float) -> list[float]:
    return [round(u / wall, 2) if wall else 0.0 for u in used]


async def _join(ws, room: str, since: int | None = 0) -> None:
    frame = {"type": "join", "room": room}
    if since is not None:
        frame["since"] = since
    await ws.send(json.dumps(frame))


# --- fan-out -------------------------------------------------------------------


async def _publish(
    server: Server, room: str, *, rate, count, duration, window, drain, attachments=None
) -> dict:
    """One publisher socket sends `count` messages (at most `duration`
    seconds): at `rate` per second, or as fast as the probe subscriber keeps
    up, at most `window` messages ahead of it (rate None); with `attachments`
    (upload ids of the publisher), message n carries the n-th. Returns what
    the publisher and the probe saw."""
    local = Subscriber()
    await local.open([server.url("bench-sub", len(server.workers) - 1)], room, 1)
    probe = local.streams[0]
    pub = await open_socket(server.url("bench-pub", 0))
    await _join(pub, room)
    stream = Stream(0)
    acked = asyncio.Event()
    own = asyncio.Event()  # the publisher's own socket received an entry
    state = {"acks": 0, "last_seq": 0, "errors": 0, "with_attachment": 0}

    async def read_pub():
        async for text in pub:
            now = time.monotonic()
            frame = json.loads(text)
            if frame["type"] == "ack":
                state["acks"] += 1
                state["last_seq"] = max(state["last_seq"], frame["seq"])
                acked.set()
            elif frame["type"] in ("message", "backfill"):
                # A first message stored before the join's backfill read
                # comes in the backfill (the join is not awaited).
                backfill = frame["type"] == "backfill"
                messages = frame["messages"] if backfill else (frame["message"],)
                for message in messages:
                    if stream.take(message["seq"]):
                        local._latency(message["body"], now)
                        state["with_attachment"] += bool(message.get("attachments"))
                        own.set()
            elif frame["type"] == "error":
                state["errors"] += 1

    reader = asyncio.create_task(read_pub())
    started = time.monotonic()
    cpu_mark = cpu_seconds()
    sent = 0
    deadline = started + duration
    while sent < count and time.monotonic() < deadline:
        if rate:
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing a fixed publish rate
        else:
            while sent - probe.last >= window and time.monotonic() < deadline:
                local.progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(local.progress.wait(), 1)
        body = f"{time.monotonic():.6f}{PAD}"
        frame = {"type": "send", "room": room, "body": body, "client_id": f"m{sent}"}
        if attachments:
            frame["attachments"] = [attachments[sent]]
        await pub.send(json.dumps(frame))
        sent += 1
    publish_seconds = time.monotonic() - started
    ack_deadline = time.monotonic() + drain
    while state["acks"] < sent and time.monotonic() < ack_deadline:
        acked.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(acked.wait(), 1)
    probe_result = await local.wait(state["last_seq"], max(0.0, ack_deadline - time.monotonic()))
    probe_result["latencies"] = local.latencies
    # The publisher's own socket is a subscriber too: an ack may come before
    # the entry's broadcast, so wait for its stream before closing it.
    while stream.last < state["last_seq"] and time.monotonic() < ack_deadline:
        own.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(own.wait(), 1)
    reader.cancel()
    await pub.close()
    await local.close()
    return {
        "started": started,
        "sent": sent,
        "acked": state["acks"],
        "send_errors": state["errors"],
        "with_attachment": state["with_attachment"],
        "last_seq": state["last_seq"],
        "publish_seconds": publish_seconds,
        "pub_stream": stream,
        "probe": probe_result,
        "cpu_seconds": cpu_seconds() - cpu_mark,
    }


def fanout(
    server: Server,
    pool: ClientPool,
    room: str,
    *,
    subscribers: int,
    rate,
    duration,
    max_count: int = 20000,
    window: int = 20,
    drain: float = 15.0,
    attachments: list[str] | None = None,
) -> dict:
    """N subscribers (the probe and the publisher's own socket included) in
    one room, one publisher at `rate` msg/s (None: max rate). With
    `attachments` (upload ids of bench-pub in `room`, one per message: an
    upload goes into one message only), each message carries one, and at
    most that many are sent."""
    opened = pool.open(server.urls("bench-sub"), room, subscribers - 2)
    pool.reset()
    lag_before = server.metrics(LAG_BUCKETS)
    cpu = ServerCpu(server)
    count = min(max_count, int(rate * duration)) if rate else max_count
    if attachments is not None:
        count = min(count, len(attachments))
    pub = asyncio.run(
        _publish(
            server,
            room,
            rate=rate,
            count=count,
            duration=duration,
            window=window,
            drain=drain,
            attachments=attachments,
        )
    )
    last_seq = pub["last_seq"]
    rest = pool.wait(
        last_seq, max(1.0, pub["started"] + pub["publish_seconds"] + drain - time.monotonic())
    )
    server_cpu = cpu.stop()
    lag = _lag_histogram(lag_before, server.metrics(LAG_BUCKETS))
    pool.close_sockets()
    settle(server)
    probe, stream = pub["probe"], pub["pub_stream"]
    latencies = rest["latencies"]
    latencies.extend(probe["latencies"])
    delivered = rest["delivered"] + probe["delivered"] + min(stream.count, last_seq)
    last_recv = max(rest["last_recv"], probe["last_recv"])
    span = last_recv - pub["started"] if last_recv else 0.0
    client_cpu = rest["client_cpu_seconds"] + pub["cpu_seconds"]
    return {
        "subscribers": opened["opened"] + 2,
        "subscribe_errors": opened["errors"],
        "rate": rate or "max",
        "sent": pub["sent"],
        "acked": pub["acked"],
        "send_errors": pub["send_errors"],
        # Messages that reached the publisher's own socket with an attachment object.
        "with_attachment": pub["with_attachment"],
        "offered_deliveries_per_s": round((rate or 0) * subscribers) or None,
        "msgs_per_s": round(pub["sent"] / pub["publish_seconds"], 1),
        "deliveries": delivered,
        "expected_deliveries": last_seq * subscribers,
        "deliveries_per_s": round(delivered / span) if span else 0,
        "lost": rest["lost"] + probe["lost"] + stream.missing(last_seq),
        # Of them: the publisher's own socket, the in-process probe.
        "lost_by_publisher": stream.missing(last_seq),
        "lost_by_probe": probe["lost"],
        "duplicated": rest["duplicated"] + probe["duplicated"] + stream.dups,
        "reordered": rest["reordered"] + probe["reordered"] + stream.reordered,
        "seconds": round(span, 2),
        **percentiles(latencies),
        **server_cpu,
        "client_cpu_seconds": round(client_cpu, 2),
        # CPU per delivery holds up when other work shares the machine; wall
        # clock figures (latency, rates) do not.
        "server_cpu_us_per_delivery": _per(server_cpu["server_cpu_seconds"], delivered),
        "client_cpu_us_per_delivery": _per(client_cpu, delivered),
        # The server's own view (the first worker): entries by the time from
        # their creation to their write to the last of its sockets.
        "server_lag_ms": lag,
    }


# rooms_delivery_lag_seconds (rooms/ops/metrics.py): cumulative buckets.
LAG_BUCKETS = "rooms_delivery_lag_seconds_bucket"


def _lag_histogram(before: dict, after: dict) -> dict[str, int] | None:
    """{"≤10": n, …}: the entries of the run by the upper bound (ms) of their
    delivery lag, as a histogram of counts (not cumulative)."""
    if not after:
        return None
    bounds = []
    for name, total in after.items():
        bound = name.split('le="', 1)[1].split('"', 1)[0]
        count = total - before.get(name, 0.0)
        bounds.append((float(bound), bound, count))
    bounds.sort()
    histogram, below = {}, 0.0
    for value, bound, count in bounds:
        if count > below:
            label = "inf" if bound == "+Inf" else f"{value * 1000:g}"
            histogram[f"≤{label}"] = round(count - below)
        below = count
    return histogram


def _per(seconds: float, count: int) -> float | None:
    return round(seconds * 1e6 / count, 1) if count else None


# --- backfill --------------------------------------------------------------------


async def _backfill_once(url: str, room: str, count: int, within: float) -> float | None:
    ws = await open_socket(url)
    stream = Stream(0)
    started = time.monotonic()
    await _join(ws, room, since=0)
    try:
        async with asyncio.timeout(within):
            if await hold(ws, stream, count):
                return time.monotonic() - started
    except TimeoutError:
        return None
    finally:
        await ws.close()
    return None


def backfill(server: Server, room: str, *, count: int, repeats: int = 5) -> dict:
    """Time from `join` (since 0) to the last of `count` stored messages."""
    server.seed(room, count)
    cpu = ServerCpu(server)
    server_before = [server.metric(f"rooms_backfill_seconds_{n}") for n in ("sum", "count")]
    times = [
        asyncio.run(_backfill_once(server.url("bench-sub"), room, count, 60))
        for _ in range(repeats)
    ]
    server_after = [server.metric(f"rooms_backfill_seconds_{n}") for n in ("sum", "count")]
    server_ms = None
    if None not in server_before + server_after and server_after[1] > server_before[1]:
        spent = server_after[0] - server_before[0]
        server_ms = round(spent * 1000 / (server_after[1] - server_before[1]), 1)
    done = [t for t in times if t is not None]
    return {
        "messages": count,
        "repeats": repeats,
        "completed": len(done),
        "median_ms": round(statistics.median(done) * 1000, 1) if done else None,
        "min_ms": round(min(done) * 1000, 1) if done else None,
        "all_ms": [round(t * 1000, 1) if t is not None else None for t in times],
        # The server's own time from `joined` to the last backfill frame
        # written, averaged over the runs (rooms_backfill_seconds).
        "server_mean_ms": server_ms,
        **cpu.stop(),
    }


# --- connections ------------------------------------------------------------------


def connections(server: Server, pool: ClientPool, room: str, *, count: int) -> dict:
    """`count` idle joined sockets: server memory per socket and connects/s."""
    pool.open(server.urls("bench-sub"), room, 50)  # warm-up: code paths, hub, pools
    before = settle_rss(server.pids)
    cpu = ServerCpu(server)
    client_cpu = cpu_seconds()
    opened = pool.open(server.urls("bench-sub"), room, count, timeout=600)
    server_cpu = cpu.stop()
    after = settle_rss(server.pids, 2.0)
    pool.close_sockets()
    close_seconds = settle(server)
    grown = [a - b for a, b in zip(after, before, strict=True)]
    share = max(1.0, opened["opened"] / len(grown))  # sockets are spread evenly over workers
    return {
        "sockets": opened["opened"],
        "errors": opened["errors"],
        "connects_per_s": round(opened["per_second"]),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": round(sum(grown) / opened["opened"], 1) if opened["opened"] else None,
        "kib_per_socket_by_process": [round(g / share, 1) for g in grown],
        "busy_after_close_s": close_seconds,
        **server_cpu,
        "orchestrator_cpu_seconds": round(cpu_seconds() - client_cpu, 2),
    }


# --- reconnect storm -------------------------------------------------------------------


def storm(server: Server, pool: ClientPool, room: str, *, count: int, missed: int = 10) -> dict:
    """`count` clients that each missed `missed` messages reconnect at once,
    authenticate with a token, join with `since` and wait until they hold
    every missed message: how long until all do, and how fair admission is
    (the slowest client against the median)."""
    head = server.seed(room, missed)
    cpu = ServerCpu(server)
    result = pool.storm(server.urls("bench-sub"), room, count=count, since=head - missed,
                        head=head, within=120)  # fmt: skip
    server_cpu = cpu.stop()
    settle(server)
    times = sorted(result["done"])
    median = statistics.median(times) if times else None
    return {
        "clients": count,
        "missed": missed,
        "completed": len(times),
        "errors": result["errors"],
        "incomplete": result["incomplete"],
        "all_done_s": round(times[-1], 2) if times else None,
        "median_s": round(median, 2) if median else None,
        "p99_s": round(times[int(len(times) * 0.99) - 1], 2) if times else None,
        "fairness_max_over_median": round(times[-1] / median, 2) if median else None,
        "completed_per_s": round(len(times) / times[-1]) if times else None,
        **server_cpu,
        "server_cpu_us_per_connection": _per(server_cpu["server_cpu_seconds"], len(times)),
    }


# --- sends ---------------------------------------------------------------------------


LIVE_MESSAGE = b'{"type":"message"'


async def _sends(server: Server, room: str, senders: int, duration: float) -> dict:
    sockets = []
    for i in range(senders):
        ws = await open_socket(server.url(f"bench-s{i}", i))
        await _join(ws, room)
        while json.loads(await ws.recv())["type"] != "joined":
            pass
        sockets.append(ws)
    latencies = array("d")
    errors = {"count": 0}
    started = time.monotonic()
    deadline = started + duration

    async def run(i: int, ws) -> int:
        acks = 0
        while time.monotonic() < deadline:
            sent_at = time.monotonic()
            frame = {
                "type": "send",
                "room": room,
                "body": f"{sent_at:.6f}{PAD}",
                "client_id": f"s{i}-{acks}",
                "ref": f"r{acks}",
            }
            await ws.send(json.dumps(frame))
            while True:  # skip the live messages until our ack
                # Every sender has joined the room, so each stored entry comes
                # to every sender: skipped undecoded, or the load generator
                # (one process) would spend more per entry than the server.
                data = await ws.recv(decode=False)
                if data.startswith(LIVE_MESSAGE):
                    continue
                reply = json.loads(data)
                if reply["type"] == "ack":
                    latencies.append(time.monotonic() - sent_at)
                    acks += 1
                    break
                if reply["type"] == "error":
                    errors["count"] += 1
                    break
        return acks

    counts = await asyncio.gather(*(run(i, ws) for i, ws in enumerate(sockets)))
    seconds = time.monotonic() - started
    await asyncio.gather(*(ws.close() for ws in sockets))
    return {"acks": sum(counts), "seconds": seconds, "errors": errors["count"], "lat": latencies}


def sends(server: Server, room: str, *, senders: int, duration: float) -> dict:
    """`senders` sockets, each sending the next message as soon as the last
    one is acked (persisted), for `duration` seconds."""
    cpu = ServerCpu(server)
    client_cpu = cpu_seconds()
    result = asyncio.run(_sends(server, room, senders, duration))
    server_cpu = cpu.stop()
    return {
        "senders": senders,
        "acked": result["acks"],
        "errors": result["errors"],
        "seconds": round(result["seconds"], 2),
        "sends_per_s": round(result["acks"] / result["seconds"]),
        **{f"ack_{k}": v for k, v in percentiles(result["lat"]).items()},
        **server_cpu,
        "server_cpu_us_per_send": _per(server_cpu["server_cpu_seconds"], result["acks"]),
        "client_cpu_seconds": round(cpu_seconds() - client_cpu, 2),
    }


# --- commits: the group commit alone ------------------------------------------------

COMMITS = """
import json, time
from django.contrib.auth import get_user_model
from rooms import services
from rooms.models import Room
from rooms.services import EntryRequest, EntryResult
room = Room.objects.get(slug=ROOM)
authors = list(get_user_model().objects.filter(username__in=NAMES).order_by("pk"))
body = "commit load " + "x" * 80
while time.time() < START:
    time.sleep(0.005)
late = time.time() - START
stored = refused = n = 0
latencies = []
cpu = time.process_time()
while time.time() < START + DURATION:
    began = time.perf_counter()
    results = services.entry_post_many([
        EntryRequest(room, author, body, client_id=f"{TAG}-{n}-{k}")
        for k, author in enumerate(authors)
    ])
    latencies.append(time.perf_counter() - began)
    n += 1
    ok = sum(isinstance(r, EntryResult) and not r.duplicate for r in results)
    stored += ok
    refused += len(results) - ok
print("@@" + json.dumps({"stored": stored, "refused": refused, "batches": n, "late_s": late,
                         "cpu_s": time.process_time() - cpu, "latencies": latencies}))
"""

HEAD = """
from rooms.models import Message, Room
room = Room.objects.get(slug=ROOM)
seqs = Message.objects.filter(room=room, seq__gt=SINCE).order_by().values_list("seq", flat=True)
print("@@", room.last_seq, len(set(seqs)))
"""


def commits(server: Server, room: str, *, senders: int, duration: float, boot: float = 15) -> dict:
    """The group commit alone, without sockets or fan-out: one process per
    worker, each storing batches of all its share of the senders (one entry
    each, as a worker's writer thread does when every sender's next entry is
    already waiting) through services.entry_post_many for `duration`
    seconds, all into one room. Then G1: the room's head moved by exactly
    what was stored, with no seq missing."""
    workers = len(server.workers)
    names = [f"bench-s{i}" for i in range(senders)]

    def head(since: int) -> tuple[int, int]:
        out = server.deployment.shell(f"ROOM = {room!r}\nSINCE = {since}\n" + HEAD)
        line = next(line for line in out.splitlines() if line.startswith("@@"))
        return int(line.split()[1]), int(line.split()[2])

    before, _ = head(0)
    start = time.time() + boot  # every process has booted Django by then

    def run(worker: int) -> dict:
        script = (
            f"ROOM = {room!r}\nNAMES = {names[worker::workers]!r}\nSTART = {start}\n"
            f"DURATION = {duration}\nTAG = 'c{worker}-{start:.0f}'\n" + COMMITS
        )
        out = server.deployment.shell(script, timeout=duration + 120)
        return json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))

    with ThreadPoolExecutor(workers) as pool:
        runs = list(pool.map(run, range(workers)))
    after, present = head(before)
    stored = sum(r["stored"] for r in runs)
    latencies = sorted(x for r in runs for x in r["latencies"])
    cpu = sum(r["cpu_s"] for r in runs)
    return {
        "senders": senders,
        "processes": workers,
        "batch": len(names[0::workers]),
        "stored": stored,
        "refused": sum(r["refused"] for r in runs),
        "seconds": duration,
        "entries_per_s": round(stored / duration),
        "latest_start_s": round(max(r["late_s"] for r in runs), 3),
        **{f"batch_{k}": v for k, v in percentiles(array("d", latencies)).items()},
        "committer_cpu_us_per_entry": _per(cpu, stored),
        "gapless": after - before == stored == present,
    }


def machine_load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def server_rss(server: Server) -> list[int]:
    return [rss_kib(pid) for pid in server.pids]
