"""The servers under test, started by the benchmark itself.

A `Target` is one way to serve: which app (Rooms or the tutorial baseline),
which database and layer (SQLite + in-memory, one process; or PostgreSQL +
Redis, two processes) and which ASGI server. `start(target)` gives a running
`Server`: migrated database, users with API tokens, the benchmark's rooms,
and worker processes started with a raised open-files limit (prlimit), so
10,000 sockets fit. PostgreSQL databases are private ones, created here and
dropped on `stop()`; Redis keys live in db 13 under a unique prefix, deleted
on `stop()`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.deployment import BIN, ROOT, Deployment, Worker

from .clients import NOFILE

POSTGRES = "postgres://postgres@127.0.0.1:5432"
METRICS_TOKEN = "bench-metrics-token"
REDIS = "redis://127.0.0.1:6379/13"  # the project's own Redis db number
APPS = {
    "rooms": ("project.asgi:application", "project.settings"),
    "baseline": ("bench.baseline.asgi:application", "bench.baseline.settings"),
}


@dataclass(frozen=True)
class Target:
    app: str  # "rooms" | "baseline" (bench/baseline/)
    backend: str = "sqlite"  # "sqlite" (+ in-memory layer) | "postgres" (+ Redis)
    server: str = "daphne"  # "daphne" | "uvicorn" | "granian"

    @property
    def workers(self) -> int:
        return 1 if self.backend == "sqlite" else 2

    @property
    def name(self) -> str:
        suffix = "" if self.server == "daphne" else f"-{self.server}"
        return f"{self.app}-{self.backend}{suffix}"


class BenchDeployment(Deployment):
    """tests.harness.deployment.Deployment with a choice of app and server, and the
    open-files limit raised for the worker processes."""

    def configure(self, asgi: str, server: str) -> None:
        self.asgi = asgi
        self.server = server

    def _spawn(
        self, port: int, log_path: Path, env: dict | None = None, server: str | None = None
    ) -> subprocess.Popen:
        server = server or self.server
        if server == "uvicorn":
            command = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port)]
            command += ["--no-access-log", "--log-level", "warning", "--lifespan", "off"]
            # As the deployment guide runs it: no permessage-deflate, so a
            # broadcast is framed once per process (rooms/realtime/outlet.py).
            command += ["--ws-per-message-deflate", "false"]
        elif server == "granian":
            # One worker process (granian's main process only supervises it);
            # its backpressure counts open sockets too, so it must not cap them.
            command = [str(BIN / "granian"), "--interface", "asginl", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--workers", "1", "--backlog", "2048"]
            command += ["--backpressure", str(NOFILE), "--log-level", "warning"]
            command += ["--http1-buffer-size", "8192"]
        else:
            # As the deployment guide runs it: a listen queue of 2,048.
            endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=2048"
            command = [str(BIN / "daphne"), "-e", endpoint]
        # prlimit execs the server: the pid we hold is the server's own.
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                ["prlimit", f"--nofile={NOFILE}:{NOFILE}", *command, self.asgi],
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )


SETUP = """
import json
from django.contrib.auth import get_user_model
from rooms import services
U = get_user_model()
tokens = {}
for name in NAMES:
    user, _ = U.objects.get_or_create(username=name)
    tokens[name] = services.api_token_issue(user=user)
for slug in ROOMS:
    services.room_create_or_update(slug=slug, title=slug, is_private=False, is_archived=False)
print("@@" + json.dumps(tokens))
"""

SEED = """
from django.contrib.auth import get_user_model
from rooms import services
from rooms.services import EntryRequest
from rooms.models import Room
room = Room.objects.get(slug=SLUG)
author = get_user_model().objects.get(username="bench-pub")
for start in range(0, COUNT, 500):
    services.entry_post_many([
        EntryRequest(room, author, f"backfill message number {n} " + "x" * 40, check_rate=False)
        for n in range(start, min(COUNT, start + 500))
    ])
print("@@", Room.objects.get(pk=room.pk).last_seq)
"""


@dataclass
class Server:
    target: Target
    deployment: BenchDeployment
    tokens: dict[str, str]
    database: str | None = None
    redis_prefix: str | None = None
    workers: list[Worker] = field(default_factory=list)

    def url(self, user: str, worker: int = 0) -> str:
        return f"{self.workers[worker % len(self.workers)].ws_url}?token={self.tokens[user]}"

    def urls(self, user: str) -> list[str]:
        return [self.url(user, i) for i in range(len(self.workers))]

    @property
    def pids(self) -> list[int]:
        """The processes that serve: granian's worker, not its supervisor."""
        pids = [worker.process.pid for worker in self.workers]
        if self.target.server == "granian":
            pids = [_only_child(pid) for pid in pids]
        return pids

    def seed(self, slug: str, count: int) -> int:
        """`count` more messages in room `slug`, stored through the service
        in group commits of 500 (the one path that allocates seqs); returns
        the room's head."""
        out = self.deployment.shell(f"SLUG = {slug!r}\nCOUNT = {count}\n" + SEED, timeout=600)
        return int(next(line[3:] for line in out.splitlines() if line.startswith("@@ ")))

    def metrics(self, prefix: str, worker: int = 0) -> dict[str, float]:
        """The samples of /metrics of one worker whose names start with
        `prefix`, by their name and labels ({} when the app has none)."""
        import urllib.request

        request = urllib.request.Request(
            self.workers[worker].http_url + "/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
        except OSError:
            return {}
        return {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith(prefix)
        }

    def metric(self, name: str, worker: int = 0) -> float | None:
        """A sample of /metrics of one worker (None: the app has none)."""
        return self.metrics(name + " ", worker).get(name)

    def stop(self) -> None:
        self.deployment.stop()
        if self.database:
            _drop_database(self.database)
        if self.redis_prefix:
            _delete_redis_keys(self.redis_prefix)


def start(
    target: Target,
    users: list[str],
    rooms: list[str],
    workdir: Path | None = None,
    env: dict | None = None,
):
    """`env`: more settings of the servers (e.g. ROOMS_UPLOAD_RATE=off)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix=f"bench-{target.name}-"))
    asgi, settings_module = APPS[target.app]
    env = {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "ROOMS_LOG_LEVEL": "WARNING",
        # Every subscriber is the one user bench-sub: lift the per-user cap.
        "ROOMS_MAX_SOCKETS_PER_USER": "0",
        # The server's own view of a backfill: rooms_backfill_seconds.
        "ROOMS_METRICS_TOKEN": METRICS_TOKEN,
        **(env or {}),
    }
    database = redis_url = prefix = None
    if target.backend == "postgres":
        database = _create_database()
        redis_url = REDIS
        prefix = env["ROOMS_REDIS_PREFIX"] = f"rooms-bench-{uuid.uuid4().hex[:10]}"
    try:
        deployment = BenchDeployment(workdir, database=database, redis_url=redis_url, env=env)
        deployment.configure(asgi, target.server)
        out = deployment.shell(f"NAMES = {users!r}\nROOMS = {rooms!r}\n" + SETUP)
        tokens = json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))
        server = Server(target, deployment, tokens, database, prefix)
        for _ in range(target.workers):
            server.workers.append(deployment.start_worker(server=target.server))
    except BaseException:
        if database:
            _drop_database(database)
        raise
    return server


def _create_database() -> str:
    import psycopg

    name = f"rooms_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def _drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _delete_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start_at in range(0, len(keys), 500):
            client.delete(*keys[start_at : start_at + 500])
    finally:
        client.close()


# --- process figures from /proc ---------------------------------------------


def _only_child(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if len(children) == 1 else pid


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


_CLK_TCK = 100
try:
    import os as _os

    _CLK_TCK = _os.sysconf("SC_CLK_TCK")
except (ValueError, OSError, AttributeError):
    pass


def settle_rss(pids: list[int], seconds: float = 1.0) -> list[int]:
    """RSS after a short pause, so freed buffers are returned first."""
    time.sleep(seconds)  # nothing to await: the kernel's figure just needs the server idle
    return [rss_kib(pid) for pid in pids]


@contextlib.contextmanager
def profiled(server: Server, out: Path | None, name: str):
    """Sample the first worker with py-spy while the block runs (when `out`
    is a directory): collapsed stacks in `out/<name>.txt`, for a top-N table
    or a flame graph (`flamegraph.pl` or speedscope)."""
    if out is None:
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [str(BIN / "py-spy"), "record", "--pid", str(server.pids[0]), "--rate", "200",
         "--format", "raw", "--nonblocking", "--output", str(out / f"{name}.txt")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(5)


def settle(server: Server, *, idle_cores: float = 0.15, within: float = 120.0) -> float:
    """Wait until the server processes are nearly idle (e.g. after 10,000
    sockets closed: daphne refuses handshakes it cannot accept within 5 s).
    Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        marks = [cpu_ticks(pid) for pid in server.pids]
        time.sleep(0.5)  # a CPU sample needs an interval; nothing to await
        busy = max(cpu_ticks(pid) - mark for pid, mark in zip(server.pids, marks, strict=True))
        if busy / 0.5 < idle_cores:
            break
    return round(time.monotonic() - started, 1)
