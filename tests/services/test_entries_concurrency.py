"""Concurrent writers in several processes on real databases: seqs stay
gapless (G1) and a client_id is stored once (G4), on SQLite and PostgreSQL.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness.deployment import Deployment

pytestmark = pytest.mark.integration


# --- concurrency on a real database ------------------------------------------------

WRITERS = 4
PER_WRITER = 50

# Each writer waits (bounded) until every writer has booted Django, so the
# sends really overlap instead of running one process after another.
POST_SCRIPT = """
import pathlib, time
from rooms import services
from rooms.models import Room
room = Room.objects.get(slug="race")
barrier = pathlib.Path({barrier!r})
(barrier / "{writer}").touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < {writers} and time.monotonic() < deadline:
    time.sleep(0.01)
seqs = []
for n in range({count}):
    client_id = {client_id}
    result = services.message_post(room=room, author=None, body=f"w{writer}-{{n}}",
                                   client_id=client_id)
    seqs.append([client_id, result.seq])
print("@@", __import__("json").dumps(seqs))
"""


def race(deployment: Deployment, *, client_id: str) -> list[list[list]]:
    """Run WRITERS processes posting PER_WRITER messages each to one room at once."""
    deployment.shell("from rooms import services; services.room_create_or_update(slug='race')")
    barrier = deployment.workdir / f"barrier-{client_id.isalnum()}"
    barrier.mkdir()
    scripts = [
        POST_SCRIPT.format(
            count=PER_WRITER,
            writer=writer,
            writers=WRITERS,
            barrier=str(barrier),
            client_id=client_id,
        )
        for writer in range(WRITERS)
    ]
    with ThreadPoolExecutor(WRITERS) as pool:
        outputs = list(pool.map(deployment.shell, scripts))
    results = []
    for output in outputs:
        line = next(line for line in output.splitlines() if line.startswith("@@ "))
        results.append(json.loads(line[3:]))
    return results


def race_head(deployment: Deployment) -> tuple[int, int, int]:
    out = deployment.shell(
        "from rooms.models import Room, Message\n"
        "r = Room.objects.get(slug='race')\n"
        "qs = Message.objects.filter(room=r)\n"
        "print('@@', r.last_seq, qs.count(), qs.values('seq').distinct().count())\n"
    )
    line = next(line for line in out.splitlines() if line.startswith("@@ "))
    return tuple(int(part) for part in line.split()[1:])


def assert_concurrent_sends_get_gapless_seqs(deployment: Deployment) -> None:
    results = race(deployment, client_id="None")
    seqs = sorted(seq for writer in results for _, seq in writer)
    total = WRITERS * PER_WRITER
    assert seqs == list(range(1, total + 1))
    assert race_head(deployment) == (total, total, total)


def assert_concurrent_duplicates_store_each_message_once(deployment: Deployment) -> None:
    # Every writer sends the same client_ids: the losers of each race must get
    # the winner's seq, and their rolled-back seq bumps leave no gap.
    results = race(deployment, client_id='f"same-{n}"')
    assert all(writer == results[0] for writer in results)
    assert sorted(seq for _, seq in results[0]) == list(range(1, PER_WRITER + 1))
    assert race_head(deployment) == (PER_WRITER, PER_WRITER, PER_WRITER)


@pytest.mark.postgres
def test_concurrent_processes_get_gapless_seqs_on_postgres(tmp_path, postgres_url):
    assert_concurrent_sends_get_gapless_seqs(Deployment(tmp_path, database=postgres_url))


@pytest.mark.postgres
def test_concurrent_duplicate_sends_store_once_on_postgres(tmp_path, postgres_url):
    assert_concurrent_duplicates_store_each_message_once(
        Deployment(tmp_path, database=postgres_url)
    )


def test_concurrent_processes_get_gapless_seqs_on_sqlite(tmp_path):
    # WAL + BEGIN IMMEDIATE: writers queue on the lock, none fails with
    # "database is locked" (shell() raises on any non-zero exit).
    assert_concurrent_sends_get_gapless_seqs(Deployment(tmp_path))


def test_concurrent_duplicate_sends_store_once_on_sqlite(tmp_path):
    assert_concurrent_duplicates_store_each_message_once(Deployment(tmp_path))
