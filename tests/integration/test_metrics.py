"""/metrics of a real worker (daphne, and uvicorn): scraped before, during and
after some traffic, its numbers move by exactly what the traffic did; a
scrape without the token, or with a wrong one, is refused with 401."""

import asyncio
import urllib.error
import urllib.request

import pytest

from tests.harness.network import Client
from tests.integration.conftest import embedded_site
from tests.ops.test_metrics import samples, value

pytestmark = pytest.mark.integration

TOKEN = "live-metrics-" + "k" * 40


def scrape(worker, authorization: str | None = f"Bearer {TOKEN}") -> tuple[int, str]:
    request = urllib.request.Request(worker.http_url + "/metrics")
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def scraped(worker) -> dict:
    status, text = await asyncio.to_thread(scrape, worker)
    assert status == 200, text
    return samples(text)


def moved(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def gauges_reach(worker, wanted: tuple, within: float = 10.0) -> None:
    """The gauges follow sockets that close after the client's close: poll."""
    names = ("rooms_open_sockets", "rooms_subscriptions", "rooms_rooms_served")
    deadline = asyncio.get_running_loop().time() + within
    while True:
        now = await scraped(worker)
        if tuple(value(now, name) for name in names) == wanted:
            return
        assert asyncio.get_running_loop().time() < deadline, (wanted, now)
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
async def test_a_workers_metrics_move_by_exactly_what_its_traffic_did(tmp_path, server):
    env = {"ROOMS_METRICS_TOKEN": TOKEN, "ROOMS_FRAME_RATE": "4/60"}
    with embedded_site(tmp_path / "site", **env) as site:
        site.provision(["alice", "bob"])
        worker = site.workers[0]
        if server != "daphne":
            worker.stop()
            worker = site.deployment.start_worker(server=server)
        before = await scraped(worker)

        alice = await Client.connect(worker.ws_url, site.tokens["alice"], name="alice")
        await alice.join("lobby")
        await alice.send_many("lobby", ["one", "two", "three"])
        bob = await Client.connect(worker.ws_url, site.tokens["bob"], name="bob")
        await bob.join("lobby", since=0)
        await bob.wait_for_seq("lobby", 3)
        await alice.wait_for_seq("lobby", 3)
        # The frame budget is 4 a minute: join and three pings pass, the fourth is refused.
        replies = await asyncio.gather(*(alice.submit({"type": "ping"}) for _ in range(4)))
        assert [reply["type"] for reply in replies] == ["pong"] * 3 + ["error"]
        # Posted by another process: the repair loop's head check delivers it.
        assert site.deployment.post_many("lobby", ["from outside"]) == [4]
        await alice.wait_for_seq("lobby", 4)
        await bob.wait_for_seq("lobby", 4)
        await gauges_reach(worker, (2, 2, 1))

        await alice.close()
        await bob.close()
        await gauges_reach(worker, (0, 0, 0))
        after = await scraped(worker)

    def frames(direction: str, kind: str) -> float:
        return moved(before, after, f"rooms_frames_{direction}_total", type=kind)

    assert frames("in", "join") == 2
    assert frames("in", "send") == 3
    assert frames("in", "ping") == 4
    assert frames("out", "hello") == 2
    assert frames("out", "joined") == 2
    assert frames("out", "ack") == 3
    assert frames("out", "pong") == 3
    assert frames("out", "error") == 1
    assert moved(before, after, "rooms_rate_limited_total", limit="frames") == 1
    assert moved(before, after, "rooms_entries_stored_total", kind="text") == 3
    # Bob joined after the three: they reached him in backfill frames.
    backfilled = moved(before, after, "rooms_backfill_entries_total")
    assert backfilled >= 3
    # Every entry reached each socket once: live, or in a backfill.
    assert frames("out", "message") + backfilled == 4 * 2
    assert moved(before, after, "rooms_backfill_seconds_count") == 2
    # The group commits of the socket's sends hold the three entries.
    assert moved(before, after, "rooms_commit_batch_size_sum") == 3
    assert 1 <= moved(before, after, "rooms_commit_batch_size_count") <= 3
    commits = moved(before, after, "rooms_entry_commit_seconds_count")
    assert commits == moved(before, after, "rooms_commit_batch_size_count")
    # The hub delivered each of the four entries once, the last after a head check.
    assert moved(before, after, "rooms_delivery_lag_seconds_count") == 4
    # (A head check may also have caught a send of its own in flight.)
    assert moved(before, after, "rooms_head_repairs_total") >= 1
    assert moved(before, after, "rooms_gap_repairs_total") == 0
    assert not [key for key in after if key[0] == "rooms_layer_errors_total" and after[key]]


async def test_a_worker_refuses_a_scrape_without_its_token(tmp_path):
    with embedded_site(tmp_path / "site", ROOMS_METRICS_TOKEN=TOKEN) as site:
        worker = site.workers[0]
        for authorization in (None, "Bearer wrong-token-value", f"Bearer {TOKEN[:-1]}"):
            status, text = await asyncio.to_thread(scrape, worker, authorization)
            assert status == 401 and "rooms_" not in text
        assert (await asyncio.to_thread(scrape, worker))[0] == 200
        worker.stop()
        log = worker.log()
    assert log.count("metrics refused (401): no bearer token") == 1
    assert log.count("metrics refused (401): wrong token") == 2
    assert "wrong-token-value" not in log and TOKEN[:-1] not in log


async def test_a_worker_without_the_setting_has_no_metrics(tmp_path):
    with embedded_site(tmp_path / "site") as site:
        status, _ = await asyncio.to_thread(scrape, site.workers[0])
    assert status == 404
