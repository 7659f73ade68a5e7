"""The notifications benchmark's own tiny run (bench/notifications.py): one
`manage.py worker` on SQLite delivers every seeded notification exactly
once to the benchmark's SMTP and push sinks, and the figures are recorded."""

import pytest

from bench.notifications import NotifyPlan, run
from bench.servers import Target

pytestmark = pytest.mark.integration


def test_a_tiny_notifications_run_delivers_every_email_and_push_once():
    records = []
    plan = NotifyPlan(users=4, rooms=1, group=2, messages=2, wait=60)
    run(
        Target("rooms", "sqlite"),
        True,
        lambda target, scenario, record: records.append(record),
        log=lambda *args: None,
        plan=plan,
    )
    (record,) = records
    assert record["deliveries"] == 16  # 4 users x (1 room + 1 direct) x 2 channels
    assert record["complete"] is True
    assert (record["emails"], record["pushes"]) == (8, 8)
    assert record["duplicated"] == 0
    assert record["push_refused"] == 0
    assert record["worker_cpu_seconds"] > 0
    # The worker delivers the NotifyState rows without a job each; push_send
    # jobs are for retries only.
    assert record["jobs_after"] == {} and record["deliveries_pending_after"] == 0
