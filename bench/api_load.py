"""`api`: GET /api/rooms/ from 50 concurrent clients over HTTP/1.1
keep-alive, on the PostgreSQL target's workers (issue 23: a new database
connection per request under ASGI, or one from the pool).

Each client is a thread with its own connection (alternating over the
workers), sending the next request when the last answered, a bounded
number of times within a deadline. 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

from .scenarios import ServerCpu, percentiles
from .servers import Server

SETUP_ROOMS = """
from django.contrib.auth import get_user_model
from rooms import services
user = get_user_model().objects.get(username="bench-sub")
for n in range(COUNT):
    services.room_create_or_update(slug=f"api-{n}", title=f"api {n}", is_private=False,
                                   is_archived=False)
print("@@ok")
"""


def run(server: Server, *, clients: int = 50, requests: int = 40, within: float = 120.0) -> dict:
    server.deployment.shell("COUNT = 20\n" + SETUP_ROOMS)
    token = server.tokens["bench-sub"]
    latencies: list[float] = []
    failures = {"count": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + within
    gate = threading.Barrier(clients)

    def client(index: int) -> None:
        base = urlsplit(server.workers[index % len(server.workers)].http_url)
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
        mine = []
        gate.wait()
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", "/api/rooms/", headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                with lock:
                    failures["count"] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    # One unmeasured round: code paths, and the pool's first connections.
    client_threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    cpu = ServerCpu(server)
    started = time.monotonic()
    for thread in client_threads:
        thread.start()
    for thread in client_threads:
        thread.join(within + 60)
    seconds = time.monotonic() - started
    server_cpu = cpu.stop()
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": failures["count"],
        "requests_per_s": round(len(latencies) / seconds, 1) if seconds else None,
        **percentiles(latencies),
        **server_cpu,
        "server_cpu_ms_per_request": round(
            server_cpu["server_cpu_seconds"] * 1000 / len(latencies), 2
        )
        if latencies
        else None,
    }
