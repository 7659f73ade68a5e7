"""Real servers for integration and browser tests: a database (a fresh SQLite
file or a private PostgreSQL database), daphne worker processes running the
project, and management commands run against the same environment.

    with Deployment(tmp_path) as deployment:          # SQLite, in-memory layer
        worker = deployment.start_worker()
        deployment.manage("createroom", "lobby")
        token = deployment.token("alice")

    Deployment(tmp_path, database=postgres_url, redis_url=redis_url)  # scaled out

Everything listens on 127.0.0.1; `stop()` (or leaving the `with`) ends every
process it started.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Worker:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def kill(self) -> None:
        """An abrupt end: no close frames, no cleanup."""
        self.stop(signal.SIGKILL)


@dataclass
class Deployment:
    """One database (+ optional Redis) shared by any number of daphne workers."""

    workdir: Path
    database: str | None = None  # DATABASE_URL; default: a SQLite file in workdir
    redis_url: str | None = None
    env: dict = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.database is None:
            self.database = f"sqlite:///{self.workdir / 'db.sqlite3'}"
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "ROOMS_", "DATABASE_URL", "REDIS_URL"))
        }
        base.update(
            {
                "DATABASE_URL": self.database,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_SECRET_KEY": "integration-tests-" + "k" * 50,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "DJANGO_SECURE_COOKIES": "0",
                "ROOMS_RATE_LIMIT": "off",
                "ROOMS_READ_RATE": "off",
                "ROOMS_REPAIR_INTERVAL": "0.5",
                "PYTHONUNBUFFERED": "1",
                "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            }
        )
        if self.redis_url:
            base["REDIS_URL"] = self.redis_url
            # A prefix of its own: stop() deletes exactly these keys.
            base["ROOMS_REDIS_PREFIX"] = f"rooms-test-{uuid.uuid4().hex[:10]}-"
        base.update(self.env)
        self.env = base
        self.manage("migrate", "--noinput")

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def manage(self, *args: str, input: str | None = None, check: bool = True, timeout=120):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            command = " ".join(args[:3])
            raise AssertionError(
                f"manage.py {command} exited {result.returncode}: {result.stderr[-2000:]}"
            )
        return result

    def collect_static(self) -> None:
        """Pages rendered with DEBUG off link collectstatic's hashed files;
        the lock keeps two suites from writing STATIC_ROOT at once."""
        with open(Path(tempfile.gettempdir()) / "rooms-collectstatic.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self.manage("collectstatic", "--noinput")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def shell(self, code: str, timeout=300) -> str:
        return self.manage("shell", "-c", code, timeout=timeout).stdout

    def create_users(self, *names: str, password: str = "test-pass-123", staff=False) -> None:
        self.shell(
            "from django.contrib.auth import get_user_model\n"
            "U = get_user_model()\n"
            f"for n in {list(names)!r}:\n"
            "    u, _ = U.objects.get_or_create(username=n)\n"
            f"    u.set_password({password!r}); u.is_staff = {staff!r}; u.save()\n"
        )

    def token(self, user: str) -> str:
        return self.manage("issuetoken", user).stdout.strip().splitlines()[-1]

    def post_many(self, room: str, bodies: list[str], as_user: str | None = None) -> list[int]:
        """Post through the `post` command's code path, in one process."""
        path = self.workdir / f"bodies-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(bodies))
        extra = ["--as", as_user] if as_user else []
        out = self.shell(
            "import io, json\n"
            "from django.core.management import call_command\n"
            f"for b in json.load(open({str(path)!r})):\n"
            "    o = io.StringIO()\n"
            f"    call_command('post', {room!r}, b, *{extra!r}, stdout=o)\n"
            "    print('@@', o.getvalue().strip())\n"
        )
        return [int(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]

    def _spawn(
        self, port: int, log_path: Path, env: dict | None = None, server: str = "daphne"
    ) -> subprocess.Popen:
        if server == "uvicorn":  # the faster choice for production (docs/benchmarks.md)
            command = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port)]
            command += ["--lifespan", "off"]  # Django's ASGI app has no lifespan
        else:
            command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                [*command, "project.asgi:application"],
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    @staticmethod
    def _wait_ready(worker: Worker, wait: float) -> Worker:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not worker.alive():
                raise AssertionError(f"daphne exited: {worker.log()[-2000:]}")
            try:
                if http_get(worker.http_url + "/healthz", timeout=2)[0] == 200:
                    return worker
            except OSError:
                pass
            time.sleep(0.1)
        worker.kill()
        raise AssertionError(
            f"daphne on {worker.port} not ready after {wait}s: {worker.log()[-2000:]}"
        )

    def start_worker(
        self, *, wait: float = 60.0, env: dict | None = None, server: str = "daphne"
    ) -> Worker:
        """A worker process: daphne (the default), or uvicorn."""
        port = free_port()
        log_path = self.workdir / f"worker-{len(self.workers)}-{port}.log"
        worker = Worker(port, self._spawn(port, log_path, env, server), log_path)
        self.workers.append(worker)
        return self._wait_ready(worker, wait)

    def restart_worker(self, worker: Worker, *, wait: float = 60.0) -> Worker:
        """Kill `worker` abruptly and start a new one on the same port."""
        worker.kill()
        worker.process = self._spawn(worker.port, worker.log_path)
        return self._wait_ready(worker, wait)

    def tracebacks(self) -> list[str]:
        return [
            line
            for worker in self.workers
            for line in worker.log().splitlines()
            if line.startswith("Traceback")
        ]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.delete_redis_keys()

    def delete_redis_keys(self) -> None:
        """Remove every Redis key this deployment's processes made (the Redis
        is shared: never a FLUSHDB)."""
        if not self.redis_url:
            return
        import redis

        try:
            client = redis.Redis.from_url(self.env["REDIS_URL"], socket_timeout=5)
            prefix = self.env["ROOMS_REDIS_PREFIX"]
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
        except redis.RedisError:
            pass  # a private Redis that is already gone
