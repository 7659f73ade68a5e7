"""Fixtures for the integration tests: real daphne deployments with users,
API tokens and rooms, on the embedded default (SQLite, in-memory layer, one
worker) or scaled out (PostgreSQL + Redis, two workers).

Setup runs in one `manage.py shell` process (every extra process costs a
Django start-up), and each deployment's Redis keys are deleted afterwards.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import missing_service
from tests.harness.deployment import Deployment, Worker, free_port

ROOM = "lobby"

# Reported to the lead; the tests that hit it every time are xfail(strict) on it.


@dataclass
class Site:
    """A running deployment and what the tests act as."""

    deployment: Deployment
    tokens: dict[str, str] = field(default_factory=dict)  # username -> API token
    room_ids: dict[str, int] = field(default_factory=dict)  # slug -> id
    redis: PrivateRedis | None = None  # when the test may restart Redis

    @property
    def workers(self) -> list[Worker]:
        return self.deployment.workers

    def redis_client(self):
        """redis-py on the deployment's Redis database, and its key prefix."""
        import redis

        env = self.deployment.env
        return redis.Redis.from_url(env["REDIS_URL"]), env["ROOMS_REDIS_PREFIX"]

    def provision(self, users: list[str], rooms: list[str] = (ROOM,)) -> Site:
        """Create users (one API token each) and public rooms, in one process."""
        out = self.deployment.shell(
            "import json\n"
            "from django.contrib.auth import get_user_model\n"
            "from rooms import services\n"
            "tokens, rooms = {}, {}\n"
            f"for name in {list(users)!r}:\n"
            "    user, _ = get_user_model().objects.get_or_create(username=name)\n"
            "    tokens[name] = services.api_token_issue(user=user)\n"
            f"for slug in {list(rooms)!r}:\n"
            "    room, _ = services.room_create_or_update(slug=slug)\n"
            "    rooms[slug] = room.id\n"
            "print('@@' + json.dumps({'tokens': tokens, 'rooms': rooms}))\n"
        )
        data = json.loads(next(line for line in out.splitlines() if line.startswith("@@"))[2:])
        self.tokens.update(data["tokens"])
        self.room_ids.update(data["rooms"])
        return self

    def assert_clean_logs(self, *markers: str, tracebacks: bool = False) -> None:
        """No worker logged a traceback (unless `tracebacks` are expected, as
        in warnings about a lost Redis) nor any of `markers`."""
        always = ("Exception inside application", "Task exception was never retrieved")
        for worker in self.workers:
            log = worker.log()
            for marker in (*always, *(() if tracebacks else ("Traceback",)), *markers):
                assert marker not in log, f"worker {worker.port} logged {marker}:\n{log[-3000:]}"


@contextlib.contextmanager
def embedded_site(workdir: Path, **env: str):
    """The embedded default (SQLite, in-memory layer) with one worker;
    `env` overrides settings, e.g. ROOMS_REPAIR_INTERVAL."""
    deployment = Deployment(workdir, env=env)
    try:
        deployment.start_worker()
        yield Site(deployment)
    finally:
        deployment.stop()


@pytest.fixture
def embedded(tmp_path: Path):
    """The embedded default: SQLite, in-memory layer, one worker."""
    with embedded_site(tmp_path / "site") as site:
        yield site


def _scaled(workdir: Path, database: str, redis_url: str, redis: PrivateRedis | None = None):
    deployment = Deployment(workdir, database=database, redis_url=redis_url)
    try:
        for _ in range(2):
            deployment.start_worker()
        yield Site(deployment, redis=redis)
    finally:
        deployment.stop()
        deployment.delete_redis_keys()


@pytest.fixture
def scaled(tmp_path: Path, postgres_url: str, redis_url: str):
    """Production shape: PostgreSQL + Redis shared by two workers."""
    yield from _scaled(tmp_path / "site", postgres_url, redis_url)


@pytest.fixture
def private_redis(tmp_path: Path):
    """A redis-server of our own on a free port, which a test may kill and
    restart (`restart()`); it is killed at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing_service("redis-server is not installed")
    server = PrivateRedis(binary, free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class PrivateRedis:
    binary: str
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait: float = 20.0) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        import redis

        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)  # nothing to await: poll until it listens
        raise AssertionError(f"redis-server on {self.port} not ready after {wait}s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Killed abruptly (all state lost, --save ''), then started again."""
        self.kill()
        self.start()


@pytest.fixture
def scaled_private_redis(tmp_path: Path, postgres_url: str, private_redis: PrivateRedis):
    """Two workers on PostgreSQL and a Redis the test may restart."""
    yield from _scaled(tmp_path / "site", postgres_url, private_redis.url, private_redis)
