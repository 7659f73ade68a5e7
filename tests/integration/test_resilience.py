"""G2/G3/G5 when things break: a socket cut without a close frame, a worker
killed with SIGKILL, broadcasts that never arrive (another process's post on
the in-memory layer, a group membership deleted in Redis), and a Redis
server restarted under two workers.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.deployment import http_get
from tests.harness.network import Client, close_all, reader_and_writer

from .conftest import ROOM, embedded_site

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


def bodies(prefix: str, count: int) -> list[str]:
    return [f"{prefix} {n}" for n in range(count)]


async def test_resume_on_the_other_worker_after_a_cut_connection_gets_exactly_the_missed(scaled):
    site = scaled.provision(["reader", "writer"])
    first, second = site.workers

    async def scenario():
        reader, writer = await reader_and_writer(
            ROOM, (first.ws_url, site.tokens["reader"]), (second.ws_url, site.tokens["writer"])
        )
        await writer.send_many(ROOM, bodies("before", 20))
        seen = await reader.wait_for_seq(ROOM, 20)
        assert seen.problems == []

        reader.abort()  # no close frame: the TCP connection just ends
        await reader.wait_closed()
        missed = await writer.send_many(ROOM, bodies("meanwhile", 30))
        assert [ack["seq"] for ack in missed] == list(range(21, 51))

        resumed = await Client.connect(second.ws_url, site.tokens["reader"], name="resumed")
        joined = await resumed.join(ROOM, since=seen.last)
        assert (joined["since"], joined["head"]) == (20, 50)
        stream = await resumed.wait_for_seq(ROOM, 50)
        assert stream.seqs == list(range(21, 51))
        assert [m["body"] for m in stream.messages] == bodies("meanwhile", 30)

        await writer.send(ROOM, "after")
        await resumed.wait_for_seq(ROOM, 51)
        assert stream.seqs == list(range(21, 52))
        assert stream.problems == []
        await close_all([resumed, writer])

    await asyncio.wait_for(scenario(), 90)
    site.assert_clean_logs()


async def test_acked_messages_survive_a_killed_worker_and_the_reader_resumes(scaled):
    site = scaled.provision(["reader", "writer", "other"])
    victim, survivor = site.workers

    async def scenario():
        reader = await Client.connect(victim.ws_url, site.tokens["reader"], name="reader")
        writer = await Client.connect(victim.ws_url, site.tokens["writer"], name="writer")
        other = await Client.connect(survivor.ws_url, site.tokens["other"], name="other")
        for client in (reader, writer, other):
            await client.join(ROOM, since=0)

        # All at once, so that many are in flight when the worker dies.
        sent = bodies("doomed", 300)
        replies = [writer.submit({"type": "send", "room": ROOM, "body": b}) for b in sent]
        await writer.wait_until(
            lambda: sum(reply.done() for reply in replies) >= 20, 30, lambda: "20 acks"
        )
        restarting = asyncio.create_task(asyncio.to_thread(site.deployment.restart_worker, victim))
        await reader.wait_closed()
        meanwhile = await other.send_many(ROOM, bodies("meanwhile", 20))
        await restarting
        await writer.wait_closed()

        acked = {
            reply.result()["seq"]: body
            for reply, body in zip(replies, sent, strict=True)
            if reply.done() and not reply.exception()
        }
        acked |= {
            ack["seq"]: body for ack, body in zip(meanwhile, bodies("meanwhile", 20), strict=True)
        }
        assert len(acked) >= 20 + 20  # the writer had 20 acks before the kill

        before = reader.streams.get(ROOM) or reader.all_streams[-1]
        assert before.problems == []
        resumed = await Client.connect(victim.ws_url, site.tokens["reader"], name="resumed")
        joined = await resumed.join(ROOM, since=before.last)
        head = joined["head"]
        assert head >= max(acked)
        stream = await resumed.wait_for_seq(ROOM, head)
        assert stream.problems == []
        everything = before.messages + stream.messages
        assert [m["seq"] for m in everything] == list(range(1, head + 1))
        by_seq = {m["seq"]: m["body"] for m in everything}
        assert {seq: by_seq.get(seq) for seq in acked} == acked  # G3: nothing acked lost
        print(f"killed with {len(acked) - 20} of 300 acked; head {head}")
        await close_all([resumed, other])

    await asyncio.wait_for(scenario(), 120)


async def test_a_post_no_broadcast_announces_arrives_live_through_the_repair_interval(embedded):
    # `manage.py post` runs in its own process; the in-memory layer cannot
    # reach the worker, so only the worker's repair loop can deliver it.
    site = embedded.provision(["reader", "writer"])
    worker = site.workers[0]

    async def scenario():
        reader, writer = await reader_and_writer(
            ROOM, (worker.ws_url, site.tokens["reader"]), (worker.ws_url, site.tokens["writer"])
        )
        assert (await writer.send(ROOM, "one"))["seq"] == 1
        posted = await asyncio.to_thread(site.deployment.manage, "post", ROOM, "two")
        assert posted.stdout.strip() == "2"
        await reader.wait_for_seq(ROOM, 2, within=30)
        assert (await writer.send(ROOM, "three"))["seq"] == 3
        stream = await reader.wait_for_seq(ROOM, 3)
        assert stream.problems == []
        assert [(m["seq"], m["body"], m["author"]) for m in stream.messages] == [
            (1, "one", "writer"),
            (2, "two", None),
            (3, "three", "writer"),
        ]
        assert stream.live_frames == 3
        await close_all([reader, writer])

    await asyncio.wait_for(scenario(), 60)
    site.assert_clean_logs()


async def test_a_gap_is_filled_from_the_database_before_the_next_message(tmp_path):
    # A repair interval longer than the test: the post between the two sends
    # can only reach the reader through the gap the third message reveals.
    with embedded_site(tmp_path / "site", ROOMS_REPAIR_INTERVAL="600") as site:
        site.provision(["reader", "writer"])
        worker = site.workers[0]

        async def scenario():
            reader, writer = await reader_and_writer(
                ROOM, (worker.ws_url, site.tokens["reader"]), (worker.ws_url, site.tokens["writer"])
            )
            await writer.send(ROOM, "one")
            await asyncio.to_thread(site.deployment.manage, "post", ROOM, "two")
            await writer.send(ROOM, "three")
            stream = await reader.wait_for_seq(ROOM, 3)
            assert stream.problems == []
            assert [m["body"] for m in stream.messages] == ["one", "two", "three"]
            assert stream.live_frames == 3
            await close_all([reader, writer])

        await asyncio.wait_for(scenario(), 60)
        site.assert_clean_logs()


async def test_a_worker_dropped_from_the_redis_group_still_gets_every_message_in_order(scaled):
    site = scaled.provision(["reader", "writer"])
    sender_worker, reader_worker = site.workers
    redis, prefix = site.redis_client()
    group_key = f"{prefix}:group:rooms.room.{site.room_ids[ROOM]}"

    async def scenario():
        reader = await Client.connect(reader_worker.ws_url, site.tokens["reader"], name="reader")
        await reader.join(ROOM, since=0)
        # Only the reader's worker is in the room's group so far.
        members = await asyncio.to_thread(redis.zrange, group_key, 0, -1)
        assert len(members) == 1, f"expected one member in {group_key}: {members}"
        writer = await Client.connect(sender_worker.ws_url, site.tokens["writer"], name="writer")
        await writer.join(ROOM, since=0)

        # Behind the worker's back: it believes it is subscribed.
        assert await asyncio.to_thread(redis.zrem, group_key, members[0]) == 1
        await writer.send_many(ROOM, bodies("dropped", 10))
        await asyncio.to_thread(redis.zadd, group_key, {members[0]: 2**31})
        await writer.send_many(ROOM, bodies("announced", 10))

        stream = await reader.wait_for_seq(ROOM, 20, within=30)
        assert stream.problems == []
        assert stream.seqs == list(range(1, 21))
        assert stream.live_frames == 20
        await close_all([reader, writer])

    try:
        await asyncio.wait_for(scenario(), 60)
    finally:
        redis.close()
    site.assert_clean_logs()


async def test_readers_keep_receiving_across_a_redis_restart(scaled_private_redis):
    site = scaled_private_redis.provision(["reader", "writer"])
    sender_worker, reader_worker = site.workers

    async def reader_catches_up(reader: Client, head: int) -> Client:
        """The reader reaches `head` live, or is closed with 4503 and then
        resumes with since (G5); it is never left silently deaf."""
        try:
            await reader.wait_for_seq(ROOM, head, within=30)
            return reader
        except AssertionError:
            if reader.close_code != 4503:
                raise
        print("reader closed with 4503: resuming")
        stream = reader.all_streams[-1]
        resumed = await Client.connect(reader_worker.ws_url, site.tokens["reader"], name="again")
        await resumed.join(ROOM, since=stream.last)
        await resumed.wait_for_seq(ROOM, head, within=30)
        return resumed

    async def scenario():
        reader, writer = await reader_and_writer(
            ROOM,
            (reader_worker.ws_url, site.tokens["reader"]),
            (sender_worker.ws_url, site.tokens["writer"]),
        )
        await writer.send_many(ROOM, bodies("before", 5))
        await reader.wait_for_seq(ROOM, 5)

        await asyncio.to_thread(site.redis.restart)  # SIGKILL: every group is gone
        during = await writer.send_many(ROOM, bodies("after restart", 20))
        assert [ack["seq"] for ack in during] == list(range(6, 26))
        reader = await reader_catches_up(reader, 25)

        # Once the layer is back the workers answer /healthz again...
        for worker in site.workers:
            await wait_healthy(worker)
        # ...and messages flow live again.
        await writer.send_many(ROOM, bodies("later", 5))
        reader = await reader_catches_up(reader, 30)
        for client in (reader, writer):
            assert client.problems() == []
        streams = reader.all_streams
        received = [seq for stream in streams for seq in stream.seqs]
        assert sorted(set(received)) == list(range(1, 31))
        await close_all([reader, writer])

    await asyncio.wait_for(scenario(), 120)
    # Warnings about the lost Redis carry tracebacks; crashes must not appear.
    site.assert_clean_logs(tracebacks=True)


async def wait_healthy(worker, within: float = 30.0) -> None:
    """Poll /healthz until 200: nothing can be awaited for a layer coming back."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        status, body = await asyncio.to_thread(http_get, worker.http_url + "/healthz")
        if status == 200:
            return
        assert loop.time() < deadline, f"/healthz still {status} {body!r} after {within}s"
        await asyncio.sleep(0.2)
