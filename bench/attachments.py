"""The attachments scenarios (issue 20, docs/benchmarks.md "Attachments").

    python -m bench uploads --targets rooms-sqlite [--quick]
    python -m bench fanout-attachments --targets rooms-sqlite [--quick]

`uploads`: one worker, one user with an API token and a room; 50 clients at
once (threads, http.client, a connection per upload) upload distinct ~1 MB
JPEGs to `POST /api/rooms/<slug>/attachments` until 200 are done (quick:
50). The images are made before the clock starts: 250 x 188 random pixels
scaled up to 2000 x 1500 (3 megapixels, like a phone's picture sent at
reduced size), JPEG quality 91, so they neither compress away nor are all
alike. Each answer must be 201 with a thumbnail; anything else counts as a
failure. Reported: uploads/s, p50/p95/max latency (request sent → answer
read), the worker's CPU per upload (utime + stime of /proc/<pid>/stat
before and after) and its memory: VmRSS before, and VmHWM (the peak) of the
run, the peak reset first through /proc/<pid>/clear_refs.

`fanout-attachments`: the fan-out scenario (bench/scenarios.py) twice over
the same parameters, plain messages and messages that each carry one
attachment (a small PNG uploaded by the publisher beforehand, one per
message: an upload goes into one message only), in the order plain,
attachment, attachment, plain, on one worker. Reported: server CPU per
delivery of each, and the difference of the attachment runs' mean to the
plain runs' mean (the issue's target: within 10 %).

Both start their own server with ROOMS_UPLOAD_RATE=off and the files in its
temporary directory; only 127.0.0.1 is contacted; every loop is bounded in
count and time; the worker is stopped at the end.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import scenarios
from .clients import ClientPool
from .servers import Server, Target, cpu_ticks, profiled, start

TARGET_OVERHEAD = 0.10  # fan-out with attachments vs plain: CPU per delivery (issue 20)


@dataclass(frozen=True)
class UploadPlan:
    uploads: int = 200
    clients: int = 50
    size: tuple[int, int] = (2000, 1500)  # pixels of each JPEG (~1 MB)
    timeout: float = 120  # seconds one upload may take
    within: float = 600  # seconds the whole run may take


@dataclass(frozen=True)
class FanPlan:
    subscribers: int = 1000
    rate: int = 20  # messages per second
    duration: float = 10
    drain: float = 10


UPLOADS_FULL = UploadPlan()
UPLOADS_QUICK = UploadPlan(uploads=50)
FAN_FULL = FanPlan()
FAN_QUICK = FanPlan(subscribers=300, duration=3, drain=5)


def _server(target: Target, rooms: list[str]) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-attach-{target.name}-"))
    env = {"ROOMS_UPLOAD_RATE": "off", "ROOMS_MEDIA_ROOT": str(workdir / "media")}
    return start(target, ["bench-sub", "bench-pub"], rooms, workdir, env)


# --- images and the upload request -------------------------------------------------


def jpeg(size: tuple[int, int]) -> bytes:
    """A distinct JPEG of ~1 MB at 2000 x 1500: random pixels scaled up."""
    from PIL import Image

    small = (max(1, size[0] // 8), max(1, size[1] // 8))
    noise = Image.frombytes("RGB", small, os.urandom(small[0] * small[1] * 3))
    out = io.BytesIO()
    noise.resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=91)
    return out.getvalue()


def png(n: int) -> bytes:
    """A small distinct PNG (32 x 32)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (n % 256, (n // 256) % 256, 128)).save(out, "PNG")
    return out.getvalue()


def multipart(name: str, content_type: str, data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return (
        f"multipart/form-data; boundary={boundary}",
        head + data + f"\r\n--{boundary}--\r\n".encode(),
    )


def upload(port: int, token: str, slug: str, body: tuple[str, bytes], timeout: float):
    """One upload: (status, answer JSON or None, seconds)."""
    content_type, data = body
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            f"/api/rooms/{slug}/attachments",
            body=data,
            headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
        )
        response = connection.getresponse()
        text = response.read()
        seconds = time.monotonic() - started
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        return response.status, answer, seconds
    except OSError:
        return None, None, time.monotonic() - started
    finally:
        connection.close()


# --- the process's figures -------------------------------------------------------------


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak(pid: int) -> bool:
    """Set VmHWM back to the current RSS (clear_refs 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- uploads -------------------------------------------------------------------------


def uploads(target: Target, quick: bool, emit, log=print, plan: UploadPlan | None = None) -> None:
    plan = plan or (UPLOADS_QUICK if quick else UPLOADS_FULL)
    log(f"   uploads: making {plan.uploads} JPEGs of {plan.size[0]} x {plan.size[1]}")
    bodies = [
        multipart(f"photo-{n}.jpg", "image/jpeg", jpeg(plan.size)) for n in range(plan.uploads)
    ]
    mean_bytes = sum(len(data) for _, data in bodies) / len(bodies)
    server = _server(target, ["uploads"])
    try:
        record = _uploads(server, plan, bodies)
    finally:
        server.stop()
    emit(target, "uploads", {**record, "image_kib": round(mean_bytes / 1024)})


def _uploads(server: Server, plan: UploadPlan, bodies: list) -> dict:
    (pid,) = server.pids
    port = server.workers[0].port
    token = server.tokens["bench-pub"]
    # One upload first: the code paths (Pillow, the storage) loaded, as in service.
    upload(port, token, "uploads", multipart("warm.png", "image/png", png(0)), plan.timeout)
    rss_before = _status(pid, "VmRSS")
    peak_reset = _reset_peak(pid)
    cpu0 = cpu_ticks(pid)
    started = time.monotonic()
    deadline = started + plan.within

    def one(body):
        if time.monotonic() > deadline:
            return None, None, 0.0
        return upload(port, token, "uploads", body, plan.timeout)

    with ThreadPoolExecutor(plan.clients) as executor:
        results = list(executor.map(one, bodies))
    seconds = time.monotonic() - started
    cpu = cpu_ticks(pid) - cpu0
    peak = _status(pid, "VmHWM")
    good = [
        s
        for status, answer, s in results
        if status == 201 and answer and answer["attachment"].get("thumbnail_url")
    ]
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "uploads": len(bodies),
        "clients": plan.clients,
        "ok": len(good),
        "failures": len(bodies) - len(good),
        "statuses": statuses,
        "seconds": round(seconds, 2),
        "uploads_per_s": round(len(good) / seconds, 1),
        **{k: v for k, v in scenarios.percentiles(good).items() if k != "p99_ms"},
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_ms_per_upload": round(1000 * cpu / len(good), 1) if good else None,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak,
        "peak_is_of_the_run": peak_reset,  # else: the process's whole life
    }


# --- fan-out with attachments --------------------------------------------------------


def fanout(
    target: Target,
    quick: bool,
    emit,
    processes: int = 2,
    log=print,
    plan: FanPlan | None = None,
    profile: Path | None = None,
) -> None:
    """Plain, attachment, attachment, plain: the same fan-out each time, a
    fresh room each (subscribers join from seq 0); with `profile` (a
    directory), each run sampled by py-spy on its own."""
    plan = plan or (FAN_QUICK if quick else FAN_FULL)
    order = [("plain", 1), ("attachment", 1), ("attachment", 2), ("plain", 2)]
    rooms = [f"fanatt-{kind}-{n}" for kind, n in order]
    server = _server(target, rooms)
    pool = ClientPool(processes)
    try:
        messages = int(plan.rate * plan.duration)
        pools = {}
        for kind, n in order:
            if kind == "attachment":
                room = f"fanatt-{kind}-{n}"
                pools[room] = _upload_pool(server, room, messages, log)
        for kind, n in order:
            room = f"fanatt-{kind}-{n}"
            with profiled(server, profile, f"{target.name}-fanout-{kind}-{n}"):
                record = scenarios.fanout(
                    server, pool, room, subscribers=plan.subscribers, rate=plan.rate,
                    duration=plan.duration, drain=plan.drain, attachments=pools.get(room),
                )  # fmt: skip
            emit(target, "fanout-attachments", {"messages": kind, "repeat": n, **record})
    finally:
        pool.stop()
        server.stop()


def _upload_pool(server: Server, room: str, count: int, log) -> list[str]:
    """`count` small PNGs uploaded by the publisher to `room`: their ids."""
    port, token = server.workers[0].port, server.tokens["bench-pub"]
    bodies = [multipart(f"dot-{n}.png", "image/png", png(n)) for n in range(count)]
    with ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda b: upload(port, token, room, b, 60), bodies))
    ids = [answer["attachment"]["id"] for status, answer, _ in results if status == 201]
    if len(ids) < count:
        log(f"   fanout-attachments: only {len(ids)} of {count} uploads to {room} succeeded")
    return ids


def overhead(records: list[dict]) -> dict | None:
    """Server CPU µs per delivery, plain vs attachment (means of the runs)."""
    by: dict[str, list[float]] = {"plain": [], "attachment": []}
    for r in records:
        if r.get("scenario") == "fanout-attachments" and r.get("server_cpu_us_per_delivery"):
            by[r["messages"]].append(r["server_cpu_us_per_delivery"])
    if not by["plain"] or not by["attachment"]:
        return None
    plain = sum(by["plain"]) / len(by["plain"])
    attached = sum(by["attachment"]) / len(by["attachment"])
    difference = (attached - plain) / plain
    return {
        "plain_us": round(plain, 2),
        "attachment_us": round(attached, 2),
        "difference_pct": round(100 * difference, 1),
        "within_target": difference <= TARGET_OVERHEAD,
    }


def summary(records: list[dict]) -> str:
    lines = []
    for r in records:
        if r["scenario"] == "uploads":
            lines.append(
                f"uploads {r['target']}: {r['ok']}/{r['uploads']} ok ({r['failures']} failed), "
                f"{r['uploads_per_s']}/s, p50/p95/max "
                f"{r['p50_ms']}/{r['p95_ms']}/{r['max_ms']} ms, "
                f"server CPU {r['server_cpu_ms_per_upload']} ms/upload, RSS "
                f"{r['rss_before_kib'] // 1024} MiB before, peak {r['peak_rss_kib'] // 1024} MiB"
            )
        elif r["scenario"] == "fanout-attachments":
            lines.append(
                f"fan-out {r['target']} {r['messages']} #{r['repeat']}: "
                f"{r['subscribers']} subscribers, "
                f"{r['sent']} messages ({r['with_attachment']} with an attachment), "
                f"{r['deliveries']}/{r['expected_deliveries']} deliveries, lost {r['lost']}, "
                f"p50/p95 {r['p50_ms']}/{r['p95_ms']} ms, "
                f"server CPU {r['server_cpu_us_per_delivery']} µs/delivery"
            )
    result = overhead(records)
    if result:
        verdict = "met" if result["within_target"] else "NOT met"
        lines.append(
            f"attachment vs plain: {result['attachment_us']} vs {result['plain_us']} µs/delivery, "
            f"{result['difference_pct']:+} % (target ≤ +{TARGET_OVERHEAD:.0%}: {verdict})"
        )
    return "\n".join(lines)
