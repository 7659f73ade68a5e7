"""The real cluster for the tests of tests/cluster: deploy/cluster.sh brings
up nginx in front of three daphne workers, on a PostgreSQL database of this
test reached through a proxy the test can pause and cut (pgproxy.py) and on
a redis-server of its own that it may restart; `down` at the end.

Skipped with the reason when nginx is not installed (a failure in CI, which
installs it: .ci/run).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import _reachable, missing_service
from tests.harness.deployment import ROOT, Deployment, http_get
from tests.integration.conftest import PrivateRedis, Site

from .pgproxy import PgProxy

SCRIPT = ROOT / "deploy" / "cluster.sh"
WORKERS = 3


def listen_port() -> int:
    """A free port below the kernel's range for outgoing connections. The
    cluster's workers, its proxy and its Redis listen again on the same port
    after a restart, and a port of that range may meanwhile have become the
    local end of one of the many connections the test makes."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port below {low}")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/sbin")


@dataclass
class Cluster:
    workdir: Path
    env: dict
    port: int  # nginx's
    worker_ports: list[int]
    pg: PgProxy
    redis: PrivateRedis
    deployment: Deployment  # manage.py against the cluster's database

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def script(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """deploy/cluster.sh with this cluster's settings; its output is printed."""
        result = subprocess.run(
            [str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        print(result.stdout + result.stderr, end="")
        return result

    def up(self) -> None:
        result = self.script("up")
        assert result.returncode == 0, f"cluster.sh up failed:\n{self.logs()}"

    def pid(self, port: int) -> int:
        return int((self.workdir / f"worker-{port}.pid").read_text())

    def worker_log(self, port: int) -> str:
        return (self.workdir / f"worker-{port}.log").read_text(errors="replace")

    def healthz(self, port: int) -> tuple[int, dict, float]:
        """GET /healthz on 127.0.0.1:`port`: status, body, seconds it took."""
        started = time.monotonic()
        status, body = http_get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        return status, json.loads(body or b"{}"), time.monotonic() - started

    def room_logs(self, rooms: list[str]) -> dict[str, list[dict]]:
        """Every entry of each room, from the database: the rooms' logs."""
        out = self.deployment.shell(
            "import json\n"
            "from rooms.models import Message\n"
            "logs = {}\n"
            f"for slug in {rooms!r}:\n"
            "    rows = Message.objects.filter(room__slug=slug).order_by('seq')\n"
            "    logs[slug] = [dict(seq=m.seq, client_id=m.client_id, body=m.body)\n"
            "                  for m in rows]\n"
            "print('@@' + json.dumps(logs))\n"
        )
        return json.loads(next(line for line in out.splitlines() if line.startswith("@@"))[2:])

    def logs(self, lines: int = 40) -> str:
        parts = []
        paths = sorted(self.workdir.glob("worker-*.log"))
        for path in [*paths, self.workdir / "nginx" / "error.log"]:
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)


@pytest.fixture
def pg_proxy():
    """A pausable proxy in front of the machine's PostgreSQL."""
    if not _reachable("127.0.0.1", 5432):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    proxy = PgProxy(target_port=5432, port=listen_port()).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def cluster_redis(tmp_path: Path):
    """A redis-server of the cluster's own, which a test may restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing_service("redis-server is not installed")
    server = PrivateRedis(binary, listen_port(), tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def cluster_server() -> str:
    """The workers' server; a test may parametrize it with "uvicorn"."""
    return "daphne"


@pytest.fixture
def cluster(
    tmp_path: Path,
    postgres_url: str,
    pg_proxy: PgProxy,
    cluster_redis: PrivateRedis,
    cluster_server: str,
):
    """nginx + three workers + PostgreSQL (through `pg_proxy`) + Redis,
    started and stopped by deploy/cluster.sh."""
    if nginx_binary() is None:
        missing_service("nginx is not installed (apt-get install nginx)")
    database = urlsplit(postgres_url)._replace(netloc=f"postgres@127.0.0.1:{pg_proxy.port}")
    workdir = tmp_path / "cluster"
    ports = set()
    while len(ports) < WORKERS + 1:
        ports.add(listen_port())
    ports = list(ports)
    settings = {
        "ROOMS_CLUSTER_DIR": str(workdir),
        "ROOMS_CLUSTER_PORT": str(ports[0]),
        "ROOMS_CLUSTER_WORKERS": " ".join(map(str, ports[1:])),
        "ROOMS_CLUSTER_DATABASE_URL": database.geturl(),
        "ROOMS_CLUSTER_REDIS_URL": cluster_redis.url,
        "ROOMS_CLUSTER_SEED": "0",
        "ROOMS_CLUSTER_SERVER": cluster_server,
        "ROOMS_REDIS_PREFIX": "rooms-cluster-test-",
        "ROOMS_CLUSTER_NGINX": nginx_binary(),
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ROOMS_", "DATABASE_URL", "REDIS_URL"))
    }
    cluster = Cluster(
        workdir=workdir,
        env={**env, **settings},
        port=ports[0],
        worker_ports=ports[1:],
        pg=pg_proxy,
        redis=cluster_redis,
        deployment=None,
    )
    try:
        cluster.up()
        cluster.deployment = Deployment(
            tmp_path / "manage",
            database=database.geturl(),
            redis_url=cluster_redis.url,
            env={"ROOMS_REDIS_PREFIX": settings["ROOMS_REDIS_PREFIX"]},
        )
        yield cluster
    finally:
        cluster.pg.resume()  # if a test stopped while it was paused
        down = cluster.script("down", timeout=120)
        assert down.returncode == 0, f"cluster.sh down failed:\n{cluster.logs()}"


def provision(cluster: Cluster, users: list[str], rooms: list[str]) -> Site:
    """Users with an API token each, and public rooms."""
    return Site(cluster.deployment).provision(users, rooms)
