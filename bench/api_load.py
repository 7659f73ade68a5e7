"""`api`: GET /api/rooms/ from 50 concurrent clients over HTTP/1.1
keep-alive, on the PostgreSQL targets' workers (issue 23).

Each client is one keep-alive connection (alternating over the workers)
that sends the next request when the last answered (a closed loop), a
bounded number of times within a deadline. The clients are spread over
`processes` client processes, each an asyncio loop speaking plain HTTP/1.1
on its sockets: the generator is cheap and measured on its own (its CPU per
request is in the record), so a GIL shared by 50 client threads is not what
sets the latency. Every client sends one unmeasured request first (code
paths, the pool's first connections), then all start together. 127.0.0.1
only.

The record: p50/p95/p99 latency, requests/s, failures, and CPU per request
of the servers, of the client processes and of the PostgreSQL backends that
served the run's database (all from /proc).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from array import array
from pathlib import Path
from urllib.parse import urlsplit

from .scenarios import ServerCpu, percentiles
from .servers import Server, cpu_ticks

SETUP_ROOMS = """
from django.contrib.auth import get_user_model
from rooms import services
user = get_user_model().objects.get(username="bench-sub")
for n in range(COUNT):
    services.room_create_or_update(slug=f"api-{n}", title=f"api {n}", is_private=False,
                                   is_archived=False)
print("@@ok")
"""

PATH = "/api/rooms/"


def run(
    server: Server,
    *,
    clients: int = 50,
    requests: int = 40,
    within: float = 120.0,
    processes: int = 2,
) -> dict:
    server.deployment.shell("COUNT = 20\n" + SETUP_ROOMS)
    token = server.tokens["bench-sub"]
    addresses = []
    for index in range(clients):
        base = urlsplit(server.workers[index % len(server.workers)].http_url)
        addresses.append((base.hostname, base.port))
    processes = max(1, min(processes, clients))
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    pipes, procs = [], []
    for p in range(processes):
        mine, theirs = context.Pipe()
        proc = context.Process(
            target=_client_process,
            args=(theirs, ready, addresses[p::processes], token, requests, within),
            daemon=True,
        )
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    try:
        ready.wait(60)  # every client connected and warmed up
        database = _backends(server)
        pg_marks = {pid: _ticks(pid) for pid in database}
        cpu = ServerCpu(server)
        started = time.monotonic()
        ready.wait(60)  # go
        results = [pipe.recv() if pipe.poll(within + 60) else None for pipe in pipes]
        seconds = time.monotonic() - started
        server_cpu = cpu.stop()
        pg_seconds = sum(_ticks(pid) - mark for pid, mark in pg_marks.items())
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    latencies = array("d")
    failures = warmup_failures = client_seconds = 0
    for result in results:
        if result is None:
            failures += 1  # a process that never answered
            continue
        latencies.frombytes(result["latencies"])
        failures += result["failures"]
        warmup_failures += result["warmup_failures"]
        client_seconds += result["cpu_seconds"]
    done = len(latencies)

    def per_request(cpu_seconds: float) -> float | None:
        return round(cpu_seconds * 1000 / done, 2) if done else None

    return {
        "clients": clients,
        "client_processes": processes,
        "requests": done,
        "errors": failures,
        "warmup_errors": warmup_failures,
        "requests_per_s": round(done / seconds, 1) if seconds else None,
        **percentiles(latencies),
        **server_cpu,
        "server_cpu_ms_per_request": per_request(server_cpu["server_cpu_seconds"]),
        "client_cpu_seconds": round(client_seconds, 2),
        "client_cpu_ms_per_request": per_request(client_seconds),
        "postgres_backends": len(database),
        "postgres_cpu_ms_per_request": per_request(pg_seconds),
    }


def _backends(server: Server) -> list[int]:
    """The PostgreSQL backend processes connected to the run's database (the
    workers' pools, open after the warm-up)."""
    if not server.database:
        return []
    import psycopg

    base, name = server.database.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return [pid for (pid,) in rows if Path(f"/proc/{pid}/stat").exists()]


def _ticks(pid: int) -> float:
    try:
        return cpu_ticks(pid)
    except OSError:  # ended meanwhile: its last figures are gone with it
        return 0.0


# --- a client process -----------------------------------------------------------


def _client_process(pipe, ready, addresses, token: str, requests: int, within: float) -> None:
    result = asyncio.run(_clients(ready, addresses, token, requests, within))
    pipe.send(result)
    pipe.close()


async def _clients(ready, addresses, token: str, requests: int, within: float) -> dict:
    request = (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    latencies = array("d")
    failures = 0

    async def warm(host: str, port: int):
        """A connection that has had its unmeasured request answered, or None."""
        nonlocal failures
        try:
            connection = await asyncio.open_connection(host, port)
            if await asyncio.wait_for(_exchange(connection, request), 30):
                return connection
            connection[1].close()
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            pass
        failures += 1
        return None

    async def client(host: str, port: int, connection) -> None:
        nonlocal failures
        deadline = time.monotonic() + within
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, port)
                ok = await asyncio.wait_for(_exchange(connection, request), 30)
            except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                ok = False
                if connection is not None:
                    connection[1].close()
                connection = None
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
        if connection is not None:
            connection[1].close()

    connections = await asyncio.gather(*(warm(host, port) for host, port in addresses))
    warmup_failures = failures
    failures = 0
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ready.wait, 60)  # all warmed up
    await loop.run_in_executor(None, ready.wait, 60)  # go
    marks = os.times()
    await asyncio.gather(
        *(
            client(host, port, connection)
            for (host, port), connection in zip(addresses, connections, strict=True)
        )
    )
    ends = os.times()
    return {
        "latencies": latencies.tobytes(),
        "failures": failures,
        "warmup_failures": warmup_failures,
        "cpu_seconds": (ends.user + ends.system) - (marks.user + marks.system),
    }


async def _exchange(connection, request: bytes) -> bool:
    """One request and its whole response on a keep-alive connection; True
    for a 200."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        raise ValueError("a response without a length on a keep-alive connection")
    return status == 200
