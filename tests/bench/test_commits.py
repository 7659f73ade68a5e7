"""The `commits` benchmark's own tiny run (bench/scenarios.py): processes
storing batches through the group commit into one room, with the G1 check
it reports."""

import pytest

from bench import scenarios
from bench.servers import Target, start

pytestmark = pytest.mark.integration


def test_a_tiny_commits_run_stores_gapless_batches():
    senders = [f"bench-s{i}" for i in range(4)]
    server = start(Target("rooms", "sqlite"), senders, ["sends"])
    try:
        record = scenarios.commits(server, "sends", senders=4, duration=1, boot=5)
    finally:
        server.stop()
    assert (record["processes"], record["batch"]) == (1, 4)
    assert record["stored"] > 0 and record["stored"] % 4 == 0
    assert record["refused"] == 0
    assert record["gapless"] is True
    assert record["entries_per_s"] == round(record["stored"] / 1)
