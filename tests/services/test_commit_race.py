"""The race group commit must survive (services.entry_post_many): a send
whose client_id another transaction stores between the batch's duplicate
check and its INSERT. On PostgreSQL the batch then waits on the room's row
lock, hits the unique constraint when it gets it, and must try again, now
finding the stored message: the same seq, `duplicate`, nothing stored twice
(G4)."""

import subprocess
import sys
import threading
import time

import pytest

from tests.harness.deployment import ROOT, Deployment

pytestmark = pytest.mark.integration


def _blocked_on_a_lock(admin, database: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        [database],
    ).fetchone()
    return row[0] > 0


def test_a_client_id_stored_by_a_concurrent_transaction_is_acked_as_a_duplicate(
    tmp_path, postgres_url
):
    import psycopg

    deployment = Deployment(tmp_path, database=postgres_url)
    deployment.create_users("alice")
    deployment.manage("createroom", "lobby")
    database = postgres_url.rsplit("/", 1)[1]
    other = psycopg.connect(postgres_url)  # the concurrent sender, one open transaction
    other.execute(
        "UPDATE rooms_room SET last_seq = last_seq + 1 WHERE slug = 'lobby' RETURNING last_seq"
    )
    other.execute(
        "INSERT INTO rooms_message (room_id, seq, author_id, body, client_id, kind, created_at, "
        "deleted, emoji) SELECT r.id, r.last_seq, u.id, 'first', 'race-1', 'text', now(), "
        "false, '' "
        "FROM rooms_room r, auth_user u WHERE r.slug = 'lobby' AND u.username = 'alice'"
    )
    # The batch sees no stored 'race-1' (uncommitted), then waits on the row lock.
    code = (
        "from django.contrib.auth.models import User\n"
        "from rooms import services\n"
        "from rooms.models import Room\n"
        "request = services.EntryRequest(Room.objects.get(slug='lobby'),"
        " User.objects.get(username='alice'), 'second', 'race-1')\n"
        "result = services.entry_post_many([request])[0]\n"
        "print('@@', result.seq, result.duplicate)\n"
    )
    outcome = {}

    def send():
        outcome["run"] = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=deployment.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    sender = threading.Thread(target=send)
    sender.start()
    with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        # Nothing to await across processes: poll, bounded.
        deadline = time.monotonic() + 60
        while not _blocked_on_a_lock(admin, database):
            assert sender.is_alive(), outcome["run"].stderr[-2000:]
            assert time.monotonic() < deadline, "the batch never waited on the room's lock"
            time.sleep(0.05)
    other.commit()
    other.close()
    sender.join(timeout=120)
    run = outcome["run"]
    assert run.returncode == 0, run.stderr[-2000:]
    printed = [line for line in run.stdout.splitlines() if line.startswith("@@ ")]
    assert printed == ["@@ 1 True"]
    stored = deployment.shell(
        "from rooms.models import Message, Room\n"
        "print('@@', list(Message.objects.values_list('seq', 'body', 'client_id')),"
        " Room.objects.get(slug='lobby').last_seq)\n"
    )
    assert "@@ [(1, 'first', 'race-1')] 1" in stored  # nothing stored twice, no seq used
