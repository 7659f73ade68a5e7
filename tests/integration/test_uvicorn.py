"""The same application under uvicorn, the faster server of the benchmark
(docs/benchmarks.md): the protocol's streams, limits and handshake rules hold
there too, on the embedded default and on PostgreSQL + Redis."""

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.harness import frames
from tests.harness.deployment import Deployment
from tests.harness.network import Client

pytestmark = pytest.mark.integration


def _site(tmp_path, **databases) -> tuple[Deployment, list, str]:
    deployment = Deployment(tmp_path, **databases)
    deployment.create_users("alice")
    deployment.manage("createroom", "lobby")
    workers = [deployment.start_worker(server="uvicorn") for _ in range(2 if databases else 1)]
    return deployment, workers, deployment.token("alice")


async def _backfill_then_live_across_workers(deployment, workers, token):
    await asyncio.to_thread(deployment.post_many, "lobby", [f"m{n}" for n in range(1, 701)])
    reader = await Client.connect(workers[-1].ws_url, token)
    writer = await Client.connect(workers[0].ws_url, token)
    joined = await reader.join("lobby", since=100)
    assert (joined["head"], joined["since"]) == (700, 100)
    await writer.join("lobby", since=700)
    acks = await writer.send_many("lobby", [f"live {n}" for n in range(50)])
    assert [ack["seq"] for ack in acks] == list(range(701, 751))
    stream = await reader.wait_for_seq("lobby", 750)
    assert stream.problems == []
    assert stream.seqs == list(range(101, 751))
    await reader.close()
    await writer.close()


async def test_uvicorn_worker_backfills_then_streams_live(tmp_path):
    deployment, workers, token = _site(tmp_path)
    try:
        await asyncio.wait_for(_backfill_then_live_across_workers(deployment, workers, token), 90)
    finally:
        deployment.stop()
    assert deployment.tracebacks() == []


async def test_uvicorn_workers_on_postgres_and_redis_stream_across_workers(
    tmp_path, postgres_url, redis_url
):
    deployment, workers, token = _site(tmp_path, database=postgres_url, redis_url=redis_url)
    try:
        await asyncio.wait_for(_backfill_then_live_across_workers(deployment, workers, token), 90)
    finally:
        deployment.stop()
    assert deployment.tracebacks() == []


async def test_uvicorn_worker_keeps_the_limits_and_handshake_rules(tmp_path):
    deployment, (worker,), token = _site(tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(
                worker.ws_url, additional_headers={**auth, "Origin": "http://evil.example"}
            )
        assert refused.value.response.status_code == 403
        async with websockets.connect(worker.ws_url, additional_headers=auth) as ws:
            assert frames.received(await ws.recv())["type"] == "hello"
            await ws.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
            error = frames.received(await asyncio.wait_for(ws.recv(), 10))
            assert error["code"] == "too_large"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 4413
    finally:
        deployment.stop()
    assert deployment.tracebacks() == []
