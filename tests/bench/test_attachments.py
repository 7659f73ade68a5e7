"""The attachments benchmarks' own tiny runs (bench/attachments.py): every
upload answered 201 with a thumbnail and the worker's figures recorded; the
fan-out with attachments delivers every message to every subscriber, each
with its attachment object, beside the plain runs it is compared with."""

import pytest

from bench.attachments import FanPlan, UploadPlan, fanout, overhead, uploads
from bench.servers import Target

pytestmark = pytest.mark.integration


def _run(scenario, **plan) -> list[dict]:
    records = []
    scenario(
        Target("rooms", "sqlite"),
        True,
        lambda target, name, record: records.append({"scenario": name, **record}),
        log=lambda *args: None,
        **plan,
    )
    return records


def test_a_tiny_uploads_run_stores_every_image_with_a_thumbnail():
    (record,) = _run(uploads, plan=UploadPlan(uploads=4, clients=2, size=(400, 300)))
    assert (record["ok"], record["failures"], record["statuses"]) == (4, 0, {"201": 4})
    assert record["server_cpu_seconds"] > 0
    assert record["peak_rss_kib"] > 0 and record["rss_before_kib"] > 0
    assert record["p50_ms"] <= record["p95_ms"] <= record["max_ms"]


def test_a_tiny_fanout_with_attachments_delivers_each_attachment_to_everyone():
    plan = FanPlan(subscribers=6, rate=10, duration=1, drain=5)
    records = _run(fanout, processes=1, plan=plan)
    assert [(r["messages"], r["repeat"]) for r in records] == [
        ("plain", 1),
        ("attachment", 1),
        ("attachment", 2),
        ("plain", 2),
    ]
    for record in records:
        assert record["sent"] == record["acked"] == 10
        assert record["deliveries"] == record["expected_deliveries"] == 60
        assert (record["lost"], record["duplicated"], record["send_errors"]) == (0, 0, 0)
        expected = 10 if record["messages"] == "attachment" else 0
        assert record["with_attachment"] == expected
    assert overhead(records)["plain_us"] > 0
