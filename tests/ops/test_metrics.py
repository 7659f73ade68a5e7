"""/metrics (rooms/ops/views.py) in-process: who may read it, its format,
the metrics issue 13 asks for, and the counters' helpers. A real worker's
numbers before and after traffic: tests/integration/test_metrics.py. The Grafana
dashboard: tests/ops/test_dashboard.py."""

import logging

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from rooms import protocol
from rooms.ops import metrics
from tests.harness.inprocess import until_live

TOKEN = "metrics-test-" + "t" * 40

# Every metric family of rooms/ops/metrics.py, as the registry names it.
REQUIRED = {
    "rooms_open_sockets": "gauge",
    "rooms_subscriptions": "gauge",
    "rooms_rooms_served": "gauge",
    "rooms_frames_in": "counter",
    "rooms_frames_out": "counter",
    "rooms_entries_stored": "counter",
    "rooms_entry_commit_seconds": "histogram",
    "rooms_commit_batch_size": "histogram",
    "rooms_backfill_entries": "counter",
    "rooms_backfill_seconds": "histogram",
    "rooms_backfill_reads": "counter",
    "rooms_joins": "counter",
    "rooms_gap_repairs": "counter",
    "rooms_head_repairs": "counter",
    "rooms_layer_errors": "counter",
    "rooms_layer_reconnects": "counter",
    "rooms_rate_limited": "counter",
    "rooms_delivery_lag_seconds": "histogram",
    "rooms_notifications_sent": "counter",
    "rooms_task_queue_depth": "gauge",
}


def samples(text: str) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, from the Prometheus text format."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(settings):
    settings.ROOMS_METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_is_404_when_the_setting_is_unset(client, settings):
    settings.ROOMS_METRICS_TOKEN = None
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_metrics_refuses_a_request_without_the_token_with_401(client, token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"rooms_" not in response.content


def test_a_refused_scrape_is_logged_once_with_its_reason_and_no_token(client, token, caplog):
    with caplog.at_level(logging.INFO, logger="rooms"):
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-right-one")
        client.get("/metrics")
    refusals = [r.getMessage() for r in caplog.records if "metrics refused" in r.getMessage()]
    assert refusals == [
        "metrics refused (401): wrong token",
        "metrics refused (401): no bearer token",
    ]
    assert "not-the-right-one" not in caplog.text and TOKEN not in caplog.text


def test_metrics_with_the_token_is_the_prometheus_text_format(client, token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    families = {
        family.name: family.type
        for family in text_string_to_metric_families(response.content.decode())
        if family.name.startswith("rooms_")
    }
    assert families == REQUIRED


def test_every_metric_of_the_module_is_in_the_default_registry():
    registered = {name for name in REGISTRY._names_to_collectors if name.startswith("rooms_")}
    for name, kind in REQUIRED.items():
        assert name in registered or f"{name}_total" in registered, (name, kind)


@pytest.mark.parametrize(
    "frame, kind",
    [
        (protocol.hello("alice"), "hello"),
        (protocol.message("lobby", '{"seq":1}'), "message"),
        (protocol.backfill("lobby", ['{"seq":1}']), "backfill"),
        (protocol.presence("lobby", {"alice"}), "presence"),
        (protocol.pong(ref=None, heads={}), "pong"),
        (protocol.error("invalid", "No."), "error"),
        (protocol.ack(ref="r", room="lobby", seq=1, client_id=None, duplicate=False), "ack"),
        ('{"something":"else"}', "other"),
        ("", "other"),
    ],
)
def test_frames_out_are_counted_by_the_type_their_text_starts_with(frame, kind):
    before = dict(metrics.FRAMES_OUT.counts)
    metrics.frame_out(frame)
    changed = {k: v - before[k] for k, v in metrics.FRAMES_OUT.counts.items() if v != before[k]}
    assert changed == {kind: 1}


def test_frames_in_of_an_unknown_type_count_as_other():
    before = dict(metrics.FRAMES_IN.counts)
    metrics.frame_in("join")
    metrics.frame_in("x" * 1000)
    assert metrics.FRAMES_IN.counts["join"] == before["join"] + 1
    assert metrics.FRAMES_IN.counts["other"] == before["other"] + 1
    assert len(metrics.FRAMES_IN.counts) == len(before)


def test_the_delivery_lag_is_read_from_the_entrys_created_at():
    from datetime import UTC, datetime, timedelta

    created = datetime.now(UTC) - timedelta(seconds=3)
    entry = protocol.entry_json(
        seq=1, room="lobby", kind="text", author="alice", created_at=created, client_id=None
    )
    count = REGISTRY.get_sample_value("rooms_delivery_lag_seconds_count") or 0
    total = REGISTRY.get_sample_value("rooms_delivery_lag_seconds_sum") or 0
    metrics.entry_delivered(entry)
    assert REGISTRY.get_sample_value("rooms_delivery_lag_seconds_count") == count + 1
    lag = REGISTRY.get_sample_value("rooms_delivery_lag_seconds_sum") - total
    assert 3 <= lag < 13
    metrics.entry_delivered('{"seq":1,"created_at":"not a time"}')
    metrics.entry_delivered('{"seq":1}')
    assert REGISTRY.get_sample_value("rooms_delivery_lag_seconds_count") == count + 1


@pytest.fixture
def garden(room_factory):
    return room_factory("garden")


@pytest.mark.django_db(transaction=True)
async def test_the_gauges_count_the_sockets_and_rooms_of_the_process(
    clients, alice, bob, lobby, garden
):
    def gauges() -> tuple:
        return tuple(
            REGISTRY.get_sample_value(name)
            for name in ("rooms_open_sockets", "rooms_subscriptions", "rooms_rooms_served")
        )

    assert gauges() == (0, 0, 0)
    first = await clients.connect(alice)
    second = await clients.connect(bob)
    await first.join("lobby")
    await first.join("garden")
    await second.join("lobby")
    await until_live("garden")
    assert gauges() == (2, 3, 2)
    await first.close()
    assert gauges() == (1, 1, 1)
