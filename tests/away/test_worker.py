"""`manage.py worker` as a process: two of them on one PostgreSQL database
notify every message exactly once, and a worker stops within 10 s of
SIGTERM without losing what it had not sent yet, idle or mid-batch."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.harness.deployment import ROOT, Deployment

DELAY = 2.0  # seconds before a mention is emailed


def start_worker(deployment: Deployment, name: str) -> subprocess.Popen:
    log = open(deployment.workdir / f"{name}.log", "ab")  # noqa: SIM115 (the process holds it)
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=deployment.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def deployment_for(
    workdir, smtp_port: int, database: str | None = None, delay: float = DELAY
) -> Deployment:
    return Deployment(
        workdir,
        database=database,
        env={
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "ROOMS_NOTIFY_EMAIL_DELAY": str(delay),
            "ROOMS_BASE_URL": "https://rooms.example",
        },
    )


def jobs_left(deployment: Deployment) -> int:
    out = deployment.shell(
        "from django_tasks_db.models import DBTaskResult\n"
        "print(DBTaskResult.objects.filter(status__in=['READY', 'RUNNING']).count())"
    )
    return int(out.strip().splitlines()[-1])


def notified(inbox) -> Counter:
    """(address, room, seq) of every message listed in every email received."""
    found = Counter()
    for message in inbox.received():
        text = message.get_body(("plain",)).get_content()
        for slug, seq in re.findall(r"/rooms/([\w-]+)/#seq-(\d+)", text):
            found[(message["To"], slug, int(seq))] += 1
    return found


BURST = """
from django.contrib.auth import get_user_model
from rooms import services
User = get_user_model()
poster = User.objects.create_user("poster")
people = [User.objects.create_user(f"u{n}", email=f"u{n}@example.com") for n in range(4)]
for slug in ("one", "two", "three"):
    room, _ = services.room_create_or_update(slug=slug)
    for n in range(15):
        body = f"@u0 @u1 @u2 @u3 {n}"
        services.message_post(room=room, author=poster, body=body, check_rate=False)
direct, _ = services.direct_open(user=poster, others=[people[0]])
for n in range(10):
    services.message_post(room=direct, author=poster, body=f"psst {n}", check_rate=False)
# Every job twice (as a retried or a re-enqueued stale job would be): the
# two workers race for the same NotifyState rows.
from rooms import tasks
from rooms.models import NotifyState
for state in NotifyState.objects.exclude(due_at=None):
    job = tasks.deliver_away.using(run_after=state.due_at)
    job.enqueue(state.user_id, state.room_id, state.channel)
print("@@", direct.slug)
"""


@pytest.mark.postgres
def test_two_workers_on_postgresql_notify_every_message_exactly_once(
    tmp_path, postgres_url, smtp_server
):
    controller, inbox = smtp_server
    deployment = deployment_for(tmp_path, controller.port, database=postgres_url)
    workers = [start_worker(deployment, "a"), start_worker(deployment, "b")]
    try:
        out = deployment.shell(BURST)
        direct = next(line[3:] for line in out.splitlines() if line.startswith("@@ "))
        expected = {
            (f"u{n}@example.com", slug, seq)
            for n in range(4)
            for slug in ("one", "two", "three")
            for seq in range(1, 16)
        } | {("u0@example.com", direct, seq) for seq in range(1, 11)}
        deadline = time.monotonic() + 60
        while set(notified(inbox)) != expected:
            assert time.monotonic() < deadline, f"missing: {expected - set(notified(inbox))}"
            time.sleep(0.1)
        while jobs_left(deployment):  # whatever else ran has reached the inbox
            assert time.monotonic() < deadline, "jobs still pending"
        assert max(notified(inbox).values()) == 1
        assert len(inbox.received()) <= 2 * 13  # a burst is one email per room, or a few
        assert all(worker.poll() is None for worker in workers)
    finally:
        for worker in workers:
            stop(worker)
        deployment.stop()


def test_a_worker_stops_within_10_s_of_sigterm_and_the_next_one_does_its_job(tmp_path, smtp_server):
    controller, inbox = smtp_server
    deployment = deployment_for(tmp_path, controller.port)
    deployment.create_users("alice", "bob")
    deployment.shell(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.filter(username='bob').update(email='bob@example.com')"
    )
    deployment.manage("createroom", "lobby")
    first = start_worker(deployment, "first")
    try:
        deployment.manage("post", "lobby", "@bob are you there?", "--as", "alice")
        stopping = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
        assert time.monotonic() - stopping < 10
        assert inbox.received() == []  # the job was not due yet
        second = start_worker(deployment, "second")
        try:
            (message,) = inbox.wait_for(1, timeout=30)
            assert message["To"] == "bob@example.com"
            assert "/rooms/lobby/#seq-1" in message.get_body(("plain",)).get_content()
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
    finally:
        stop(first)
        deployment.stop()


BACKLOG = """
from django.contrib.auth import get_user_model
from rooms import services
User = get_user_model()
poster = User.objects.create_user("poster")
User.objects.bulk_create(
    [User(username=f"u{n}", email=f"u{n}@example.com") for n in range(150)]
)
room, _ = services.room_create_or_update(slug="lobby")
for start in range(0, 150, 50):
    names = " ".join(f"@u{n}" for n in range(start, start + 50))
    services.message_post(room=room, author=poster, body=names, check_rate=False)
"""


def test_a_worker_stopped_mid_batch_exits_in_time_and_the_next_one_sends_the_rest(
    tmp_path, smtp_server
):
    controller, inbox = smtp_server
    inbox.delay = 0.02  # 150 emails take the server 3 s: SIGTERM lands mid-batch
    deployment = deployment_for(tmp_path, controller.port, delay=0)
    deployment.shell(BACKLOG)
    first = start_worker(deployment, "first")
    try:
        inbox.wait_for(1, timeout=30)
        stopping = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
        assert time.monotonic() - stopping < 10
        sent_by_first = len(inbox.received())
        assert sent_by_first < 150
        second = start_worker(deployment, "second")
        try:
            inbox.wait_for(150, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
    finally:
        stop(first)
        deployment.stop()
    assert sorted(m["To"] for m in inbox.received()) == sorted(
        f"u{n}@example.com" for n in range(150)
    )
