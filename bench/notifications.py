"""The notifications scenario (issue 19): how fast ONE `manage.py worker`
drains a backlog of away notifications (docs/notifications.md).

    python -m bench notifications --targets rooms-sqlite rooms-postgres
    python -m bench notifications --targets rooms-sqlite --quick   # 300 jobs

Seeding (one `manage.py shell`, through the services, with both delays 0 so
every job is due at once): U users with an address (email only) and U with
one push subscription each (push only, a real P-256 key pair and auth
secret per subscription, so the payload is really encrypted), a poster, R
public rooms where the poster mentions every user in 3 messages (a message
names 50 users), and a direct conversation of the poster with each user
holding 3 messages. That is U * (R + 1) `deliver_away` jobs per channel:
10,000 in all for U = 500, R = 9; a push job sends its pushes itself
(`push_send` jobs are only for retries). On PostgreSQL the database is then VACUUM ANALYZEd: this
server runs with autovacuum off, and a production one would have analyzed
the job table within a minute of such a burst.

The measurement: a local SMTP sink (aiosmtpd) and a local push endpoint
(HTTP, answering 201), both on 127.0.0.1 in this process and counting what
arrives; one `manage.py worker` started after the seeding. Wall time from
its start until every expected email and push has arrived (at most 10
minutes), notifications per second, and the worker's CPU (utime + stime of
/proc/<pid>/stat) per notification. With `--profile DIR` the worker runs
under cProfile instead (slower; its own run) and the top functions are
written to DIR.

Only 127.0.0.1 is contacted; every loop is bounded in count and time; the
worker is killed and both servers stopped at the end; a PostgreSQL database
is private to the run and dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.deployment import ROOT, Deployment

from .notify_sinks import PushSink, SmtpSink, browser_keys, vapid_key
from .servers import Target, _create_database, _drop_database, cpu_ticks

TARGET_RATE = 300  # notifications per second per worker (issue 19)


@dataclass(frozen=True)
class NotifyPlan:
    users: int  # per channel: users with an address, users with a subscription
    rooms: int  # public rooms mentioning every user (+ one direct conversation each)
    group: int = 50  # users named per message
    messages: int = 3  # unread messages per (user, room)
    wait: float = 600  # seconds the worker gets to deliver everything

    @property
    def per_channel(self) -> int:
        return self.users * (self.rooms + 1)


FULL = NotifyPlan(users=500, rooms=9)
QUICK = NotifyPlan(users=50, rooms=2, wait=120)


# Run by `manage.py shell` with PLAN (users, rooms, group, messages) and
# SUBSCRIPTIONS [(endpoint, p256dh, auth), ...] set before it.
SEED = """
import json, time
from django.contrib.auth import get_user_model
from rooms import services
from rooms.models import PushSubscription
from rooms.services import EntryRequest
from rooms.models import NotifyState
started = time.monotonic()
users, rooms, group, per = PLAN
User = get_user_model()
poster = User.objects.create_user("poster")
mailed = [User(username=f"e{n:04d}", email=f"e{n:04d}@example.com") for n in range(users)]
pushed = [User(username=f"p{n:04d}") for n in range(users)]
User.objects.bulk_create(mailed + pushed)
people = list(User.objects.exclude(pk=poster.pk).order_by("username"))
# The endpoint is the benchmark's plain-HTTP sink: the API's check (https
# only) is the browser's side, so the rows are written directly.
PushSubscription.objects.bulk_create([
    PushSubscription(user=person, endpoint=endpoint, p256dh=p256dh, auth=auth)
    for person, (endpoint, p256dh, auth) in zip(
        [p for p in people if p.username.startswith("p")], SUBSCRIPTIONS, strict=True)
])
for r in range(rooms):
    room, _ = services.room_create_or_update(slug=f"notify-{r}")
    for g in range(0, len(people), group):
        names = " ".join("@" + p.username for p in people[g:g + group])
        services.entry_post_many([
            EntryRequest(room, poster, f"{names} look at this, number {m}", check_rate=False)
            for m in range(per)
        ])
for g in range(0, len(people), 20):
    requests = []
    for person in people[g:g + 20]:
        direct, _ = services.direct_open(user=poster, others=[person])
        requests += [
            EntryRequest(direct, poster, f"psst {m}", check_rate=False) for m in range(per)
        ]
    services.entry_post_many(requests)
pending = NotifyState.objects.exclude(due_at=None)
print("@@" + json.dumps({"seed_seconds": round(time.monotonic() - started, 1),
                        "deliveries": pending.count()}))
"""

JOBS = """
import json
from django.db.models import Count
from django_tasks_db.models import DBTaskResult
from rooms.models import NotifyState
rows = DBTaskResult.objects.values_list("task_path", "status").annotate(n=Count("id"))
print("@@" + json.dumps({
    "jobs": {f"{path.rsplit('.', 1)[1]}:{status}": n for path, status, n in rows},
    "deliveries_pending": NotifyState.objects.exclude(due_at=None).count(),
}))
"""


def _at_at(out: str) -> dict:
    return json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))


# --- the run -----------------------------------------------------------------------


def _analyze(url: str) -> float:
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.monotonic() - started, 1)


def _backends_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL server processes connected to the run's
    database (the worker's: the run's only client then), from /proc."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    total = 0.0
    for (pid,) in pids:
        with contextlib.suppress(OSError):  # gone meanwhile, or not on this machine
            total += cpu_ticks(pid)
    return total


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _start_worker(deployment: Deployment, profile: Path | None) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "worker"]
    if profile is not None:
        command[1:1] = ["-m", "cProfile", "-o", str(profile)]
    log = open(deployment.workdir / "worker.log", "ab")  # noqa: SIM115 (the process holds it)
    return subprocess.Popen(
        command, cwd=ROOT, env=deployment.env, stdout=log, stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful stop, so cProfile writes its file), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _top(profile: Path, out: Path, count: int = 25) -> list[str]:
    """The functions with the most own time, written to `out` (cumulative too)."""
    stats = pstats.Stats(str(profile))
    with out.open("w") as sink:
        for key in ("tottime", "cumulative"):
            pstats.Stats(str(profile), stream=sink).sort_stats(key).print_stats(count)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]
    return [
        f"{100 * tt / total:.1f}% own {Path(file).name}:{line} {name}"
        for (file, line, name), (_, _, tt, _, _) in rows
    ]


def run(
    target: Target,
    quick: bool,
    emit,
    log=print,
    profile: Path | None = None,
    plan: NotifyPlan | None = None,
) -> None:
    """Seed, drain with one worker, measure; `emit(target, "notifications",
    record)` once. Runs on the rooms targets (SQLite or PostgreSQL); `plan`
    overrides FULL / QUICK (the benchmark's own test runs a tiny one)."""
    if target.app != "rooms" or target.server != "daphne":
        log(f"   notifications: {target.name} skipped (runs on rooms-sqlite, rooms-postgres)")
        return
    plan = plan or (QUICK if quick else FULL)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-notify-{target.name}-"))
    database = _create_database() if target.backend == "postgres" else None
    smtp, push = SmtpSink(), PushSink()
    smtp.start()
    push.start()
    try:
        record = _measure(target, plan, workdir, database, smtp, push, log, profile)
    finally:
        smtp.stop()
        push.stop()
        if database:
            _drop_database(database)
    emit(target, "notifications", record)


def _measure(target, plan, workdir, database, smtp, push, log, profile) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ROOMS_LOG_LEVEL": "WARNING",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "ROOMS_VAPID_PRIVATE_KEY": vapid_key(),
        "ROOMS_BASE_URL": "https://rooms.example",
        "ROOMS_NOTIFY_EMAIL_DELAY": "0",
        "ROOMS_NOTIFY_PUSH_DELAY": "0",
        "ROOMS_CREATE_RATE": "off",
    }
    deployment = Deployment(workdir, database=database, env=env)  # runs migrate
    subscriptions = [(f"{push.url}/push/{n}", *browser_keys()) for n in range(plan.users)]
    log(f"   notifications: seeding {2 * plan.per_channel:,} deliveries ({target.backend})")
    seeded = _at_at(
        deployment.shell(
            f"PLAN = {(plan.users, plan.rooms, plan.group, plan.messages)!r}\n"
            f"SUBSCRIPTIONS = {subscriptions!r}\n" + SEED,
            timeout=1800,
        )
    )
    if database:
        # This server runs with autovacuum off: without statistics the
        # planner sorts every ready job at each claim (docs/benchmarks.md).
        seeded["analyze_seconds"] = _analyze(database)
    log(f"   seeded: {seeded}")
    expected = plan.per_channel
    profile_file = None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        profile_file = profile / f"notifications-{target.name}.prof"
    busy0, total0 = _busy_jiffies()
    sinks0 = time.process_time()  # this process: the two sinks (and this loop)
    started = time.monotonic()
    worker = _start_worker(deployment, profile_file)
    done_at = None
    cpu = database_cpu = 0.0
    try:
        deadline = started + plan.wait
        while time.monotonic() < deadline and worker.poll() is None:
            cpu = cpu_ticks(worker.pid)
            if smtp.total() >= expected and push.total() >= expected:
                done_at = time.monotonic()
                break
            time.sleep(0.1)  # the sinks fill from their own threads
        busy1, total1 = _busy_jiffies()
        sinks = time.process_time() - sinks0
        if database:
            database_cpu = _backends_cpu(database)
        exited = worker.poll()
    finally:
        _stop(worker)
    seconds = (done_at or time.monotonic()) - started
    sent = smtp.total() + push.total()
    after = _at_at(deployment.shell(JOBS))
    record = {
        "backend": target.backend,
        "expected_emails": expected,
        "expected_pushes": expected,
        "emails": smtp.total(),
        "pushes": push.total(),
        # Each address and each subscription is owed exactly rooms + 1.
        "duplicated": sum(
            max(0, n - plan.rooms - 1) for sink in (smtp, push) for n in sink.counts.values()
        ),
        "push_refused": push.refused,
        "complete": done_at is not None,
        "worker_exited": exited,
        "seconds": round(seconds, 2),
        "notifications_per_s": round(sent / seconds, 1),
        "target_per_s": TARGET_RATE,
        "worker_cpu_seconds": round(cpu, 2),
        "worker_cpu_ms_per_notification": round(1000 * cpu / sent, 2) if sent else None,
        # The other ends' CPU, on the same cores: the sinks (this process)
        # and, on PostgreSQL, the server processes of the worker's connections.
        "sinks_cpu_ms_per_notification": round(1000 * sinks / sent, 2) if sent else None,
        "database_cpu_ms_per_notification": (
            round(1000 * database_cpu / sent, 2) if sent and database else None
        ),
        "machine_busy_cores": round((busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1), 2),
        "profiled": profile_file is not None,
        "jobs_after": after["jobs"],  # push_send retries only: none here
        "deliveries_pending_after": after["deliveries_pending"],
        **seeded,
    }
    if profile_file is not None and profile_file.exists():
        record["profile_top"] = _top(profile_file, profile / f"notifications-{target.name}.txt")
    return record


def summary(records: list[dict]) -> str:
    """A Markdown table: one row per target."""
    head = (
        "| target | emails + pushes | complete | seconds | notifications/s | "
        "worker CPU ms / notification | sinks, database CPU ms / notification | "
        "machine busy cores |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    return head + "\n".join(
        f"| {r['target']}{' (cProfile)' if r['profiled'] else ''} "
        f"| {r['emails']:,} + {r['pushes']:,} | {r['complete']} | {r['seconds']} "
        f"| {r['notifications_per_s']} | {r['worker_cpu_ms_per_notification']} "
        f"| {r.get('sinks_cpu_ms_per_notification')}, {r.get('database_cpu_ms_per_notification')} "
        f"| {r['machine_busy_cores']} |"
        for r in records
    )
