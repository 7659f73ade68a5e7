"""The real cluster under load and things breaking (docs/deploy.md): nginx in
front of three daphne workers (deploy/cluster.sh) on PostgreSQL and Redis,
with 120 WebSocket clients in four rooms sending and receiving through nginx
while a worker is killed, all three are restarted one after the other (under
daphne, and under uvicorn), Redis restarts, PostgreSQL restarts, or
PostgreSQL is away for 20 seconds.

Each ends the same way: every client's stream, across all its reconnects,
is exactly its room's log as the database holds it (no gap, no duplicate),
every entry sent is in the log once, and every acknowledged entry is where
its ack said. The counts of each run are printed (pytest -s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import urllib.request

import pytest

from .attachments import check_nginx_sends_attachments
from .conftest import Cluster, provision
from .crowd import Crowd

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(240),
]

CLIENTS = 120
ROOMS = ["north", "south", "east", "west"]
PACE = 2.0  # seconds between two messages of one client: 60 messages/s in all
REPAIR_INTERVAL = 2.0  # ROOMS_REPAIR_INTERVAL: the cluster runs with the default
SHUTDOWN_TIMEOUT = 10.0  # ROOMS_SHUTDOWN_TIMEOUT: the default too


async def run_crowd(
    cluster: Cluster, title: str, disruption, *, sending_for: float
) -> tuple[Crowd, dict]:
    """Connect the crowd, load the cluster for `sending_for` seconds while
    `disruption(crowd)` runs, let every client catch up, check and print."""
    users = [f"member{n:03d}" for n in range(CLIENTS)]
    site = await asyncio.to_thread(provision, cluster, users, ROOMS)
    crowd = Crowd.of(cluster.ws_url, site.tokens, ROOMS, within=sending_for + 90)
    try:
        await crowd.connect()
        until = time.monotonic() + sending_for
        load = asyncio.create_task(crowd.load(count=1000, pace=PACE, until=until))
        try:
            await disruption(crowd)
            await load
        finally:
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
        logs = await asyncio.to_thread(cluster.room_logs, ROOMS)
        await crowd.catch_up({room: len(log) for room, log in logs.items()})
        crowd.verify(logs)
        return crowd, crowd.report(title, logs)
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        await crowd.close()


async def exited(pid: int, within: float) -> float:
    """Wait for process `pid` to end (not our child: through a pidfd);
    returns the seconds it took."""
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return 0.0
    gone = loop.create_future()
    loop.add_reader(fd, lambda: gone.done() or gone.set_result(None))
    try:
        await asyncio.wait_for(gone, within)
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    return time.monotonic() - started


async def wait_healthy(cluster: Cluster, port: int, within: float) -> float:
    """Poll /healthz until 200 (a database coming back sends no event);
    returns the seconds it took."""
    started = time.monotonic()
    while True:
        status, body, _ = await asyncio.to_thread(cluster.healthz, port)
        if status == 200:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{port}: /healthz {status} {body}"
        await asyncio.sleep(0.1)


def check_nginx_serves_modules_as_javascript(cluster: Cluster) -> None:
    """A browser runs a module script only when it comes as JavaScript: the
    generated config carries its own types, whatever /etc/nginx has; and
    `up` remembers the nginx it ran. (Checked inside a scenario below: a
    cluster of its own would cost a start and a stop.)"""
    # collectstatic keeps each file under its own name beside the hashed copy.
    for path, kind in (("rooms/app.js", "text/javascript"), ("rooms/rooms.css", "text/css")):
        url = f"http://127.0.0.1:{cluster.port}/static/{path}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.headers["Content-Type"].startswith(kind), path
    saved = (cluster.workdir / "cluster.env").read_text()
    assert f"ROOMS_CLUSTER_NGINX:={cluster.env['ROOMS_CLUSTER_NGINX']}" in saved


async def test_a_worker_killed_with_sigkill_loses_no_acked_entry(cluster):
    await asyncio.to_thread(check_nginx_serves_modules_as_javascript, cluster)
    await asyncio.to_thread(check_nginx_sends_attachments, cluster)
    victim = cluster.worker_ports[0]

    async def kill_one(crowd: Crowd) -> None:
        await crowd.wait_for(lambda: crowd.acked() >= 200, "200 acks")
        pid = cluster.pid(victim)
        os.kill(pid, signal.SIGKILL)
        await exited(pid, 10)
        print(f"\nworker {victim} killed after {crowd.acked()} acks")
        await asyncio.to_thread(cluster.up)  # and started again

    _, counts = await run_crowd(cluster, "kill -9", kill_one, sending_for=20)
    # The killed worker's clients lost their TCP connections (no close frame).
    assert counts["closes"].get(1006, 0) > 0
    assert counts["reconnected clients"] == counts["closes"][1006]


@pytest.mark.parametrize("cluster_server", ["daphne", "uvicorn"])
async def test_a_rolling_restart_closes_with_4503_and_every_client_resumes(cluster, cluster_server):
    restart = None

    async def rolling_restart(crowd: Crowd) -> None:
        nonlocal restart
        await crowd.wait_for(lambda: crowd.acked() >= 200, "200 acks")
        restart = await asyncio.to_thread(cluster.script, "restart")

    title = f"rolling restart ({cluster_server})"
    _, counts = await run_crowd(cluster, title, rolling_restart, sending_for=30)
    # No worker needed SIGKILL: each stopped within ROOMS_SHUTDOWN_TIMEOUT.
    assert restart.returncode == 0, restart.stderr
    # Every socket was closed by a worker with 4503 (go elsewhere), never cut,
    # and every client was on one of the three, so each reconnected.
    assert set(counts["closes"]) == {4503}
    assert counts["reconnected clients"] == CLIENTS
    for port in cluster.worker_ports:
        log = cluster.worker_log(port)
        assert "SIGTERM: drained" in log, log[-3000:]
        assert "still running after ROOMS_SHUTDOWN_TIMEOUT" not in log


async def test_a_redis_restart_under_load_loses_nothing(cluster):
    async def restart_redis(crowd: Crowd) -> None:
        await crowd.wait_for(lambda: crowd.acked() >= 200, "200 acks")
        await asyncio.to_thread(cluster.redis.restart)  # SIGKILL: its state is gone
        print(f"\nRedis restarted after {crowd.acked()} acks")

    _, counts = await run_crowd(cluster, "Redis restart", restart_redis, sending_for=20)
    # Sockets stay open, or are told to resume elsewhere.
    assert set(counts["closes"]) <= {4503}


async def test_a_postgresql_restart_mid_burst_loses_nothing(cluster):
    async def restart_postgresql(crowd: Crowd) -> None:
        await crowd.wait_for(lambda: crowd.acked() >= 200, "200 acks")
        dropped = time.monotonic()
        cut = cluster.pg.drop()  # every connection of every worker at once
        print(f"\nPostgreSQL restarted after {crowd.acked()} acks: {cut} connections cut")
        assert cut > 0
        await crowd.wait_for(
            lambda: any(
                a.at > dropped for m in crowd.members for a in m.attempts if a.reply == "ack"
            ),
            "an ack after the restart",
            within=2 * REPAIR_INTERVAL,
        )

    _, counts = await run_crowd(cluster, "PostgreSQL restart", restart_postgresql, sending_for=20)
    # Every socket stayed open: the workers vouch for their streams throughout.
    assert counts["closes"] == {}
    for port in cluster.worker_ports:
        assert "streams cannot be repaired" not in cluster.worker_log(port)


async def test_a_20_second_database_outage(cluster):
    outage = 20.0
    pids = {port: cluster.pid(port) for port in cluster.worker_ports}
    timeline = {}

    async def outage_of_20_seconds(crowd: Crowd) -> None:
        await crowd.wait_for(lambda: crowd.acked() >= 200, "200 acks")
        timeline["paused"] = paused = time.monotonic()
        cluster.pg.pause()
        unavailable = crowd.errors("unavailable")

        # /healthz answers 503 within seconds, on each worker and through nginx.
        for port in [*cluster.worker_ports, cluster.port]:
            status, body, took = await asyncio.to_thread(cluster.healthz, port)
            assert (status, body.get("db")) == (503, False), (port, status, body)
            assert took < 5, f"{port}: /healthz took {took:.1f}s"
        # A send gets `unavailable` with retry_after (crowd.py checks it has one).
        await crowd.wait_for(
            lambda: crowd.errors("unavailable") > unavailable, "`unavailable` error", within=15
        )
        # The outage lasts its 20 seconds: nothing happens that could be awaited.
        await asyncio.sleep(max(0.0, paused + outage - time.monotonic()))

        timeline["resumed"] = resumed = time.monotonic()
        cluster.pg.resume()
        for port in cluster.worker_ports:
            await wait_healthy(cluster, port, within=2 * REPAIR_INTERVAL)
        timeline["healthy"] = time.monotonic() - resumed
        await crowd.wait_for(
            lambda: any(
                a.reply == "ack" and a.at > resumed for m in crowd.members for a in m.attempts
            ),
            "ack after the outage",
            within=2 * REPAIR_INTERVAL,
        )
        timeline["first ack"] = time.monotonic() - resumed

    crowd, counts = await run_crowd(cluster, "20 s outage", outage_of_20_seconds, sending_for=45)
    print(
        f"outage: every worker healthy {timeline['healthy']:.1f}s after PostgreSQL came back, "
        f"first ack after {timeline['first ack']:.1f}s"
    )
    # Nothing sent while the database was away was acknowledged before it came back.
    acked_blind = [
        a
        for member in crowd.members
        for a in member.attempts
        if a.reply == "ack" and a.at > timeline["paused"] and a.answered < timeline["resumed"]
    ]
    assert acked_blind == []
    assert counts["errors"].get("unavailable", 0) > 0
    # Sockets stayed open, or were told to resume elsewhere (4503).
    assert set(counts["closes"]) <= {4503}
    # No worker was restarted.
    assert {port: cluster.pid(port) for port in cluster.worker_ports} == pids
    for pid in pids.values():
        os.kill(pid, 0)
