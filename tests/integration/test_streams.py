"""G1/G2 against real daphne workers: backfill then live, joins racing a
flood of sends, and concurrent senders on one and on two worker processes.

Every stream a client receives is checked frame by frame by
tests.harness.network (gapless, in order, exactly once, backfill frame
limits); the tests add what each stream must end with.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.network import Client, close_all, connect_all

from .conftest import ROOM

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(params=["embedded", "scaled"])
def site(request):
    """The embedded default (SQLite, in-memory layer, one worker), then
    PostgreSQL + Redis with two workers."""
    return request.getfixturevalue(request.param)


def round_robin(site, names: list[str]) -> list[tuple[str, str]]:
    """(worker URL, token) for each user, spread over the site's workers."""
    workers = site.workers
    return [(workers[i % len(workers)].ws_url, site.tokens[name]) for i, name in enumerate(names)]


async def test_join_since_backfills_exactly_the_missed_messages_then_continues_live(embedded):
    site = embedded.provision(["alice"])
    # Short bodies first (the 500-message limit splits those frames), then
    # ~1 KB ones (the 256 KiB limit splits those).
    bodies = [f"short {n}" for n in range(1, 601)] + [
        f"long {n} " + "x" * 1000 for n in range(601, 1201)
    ]
    posted = await asyncio.to_thread(site.deployment.post_many, ROOM, bodies)
    assert posted == list(range(1, 1201))

    async def scenario():
        client = await Client.connect(site.workers[0].ws_url, site.tokens["alice"])
        joined = await client.join(ROOM, since=100)
        assert (joined["head"], joined["since"], joined["truncated"]) == (1200, 100, False)
        stream = await client.wait_for_seq(ROOM, 1200)
        assert stream.problems == []
        assert stream.seqs == list(range(101, 1201))
        assert [m["body"] for m in stream.messages] == bodies[100:]
        assert stream.live_frames == 0
        assert stream.backfill_frames >= 4  # 500 short, then >= 600 KB of long ones

        ack = await client.send(ROOM, "live one")
        assert (ack["seq"], ack["duplicate"]) == (1201, False)
        await client.wait_for_seq(ROOM, 1201)
        assert stream.live_frames == 1
        assert stream.messages[-1]["body"] == "live one"
        assert stream.problems == []
        await client.close()

    await asyncio.wait_for(scenario(), 90)
    site.assert_clean_logs()


async def _joiner(url: str, token: str, name: str, done: asyncio.Event) -> list[Client]:
    """Join with since=0 over and over while the sender runs: re-joins at
    once (cancelling a running backfill), re-joins after catching up with the
    head, and fresh sockets. Returns every socket it opened."""
    clients = [await Client.connect(url, token, name=f"{name}-0")]
    for round_ in range(30):
        if done.is_set():
            break
        if round_ % 3 == 2:
            await clients[-1].close()
            clients.append(await Client.connect(url, token, name=f"{name}-{len(clients)}"))
        joined = await clients[-1].join(ROOM, since=0)
        if round_ % 3 == 1:
            await clients[-1].wait_for_seq(ROOM, joined["head"])
    return clients


@pytest.mark.parametrize(
    "site",
    [
        "embedded",
        "scaled",
    ],
    indirect=True,
)
async def test_every_join_racing_a_flood_of_sends_gets_a_gapless_stream_to_the_head(site):
    total = 2000
    joiner_names = [f"joiner{i}" for i in range(4)]
    site.provision(["sender", *joiner_names])

    async def scenario():
        sender = await Client.connect(site.workers[0].ws_url, site.tokens["sender"], name="sender")
        await sender.join(ROOM, since=0)
        done = asyncio.Event()

        async def send_all():
            try:
                return await sender.send_many(ROOM, [f"m{n}" for n in range(1, total + 1)])
            finally:
                done.set()

        acks, *joiners = await asyncio.gather(
            send_all(),
            *(
                _joiner(url, token, name, done)
                for (url, token), name in zip(
                    round_robin(site, joiner_names), joiner_names, strict=True
                )
            ),
        )
        assert [ack["seq"] for ack in acks] == list(range(1, total + 1))
        clients = [sender, *(client for clients in joiners for client in clients)]
        for clients_of_joiner in joiners:
            final = clients_of_joiner[-1]
            stream = await final.wait_for_seq(ROOM, total)
            assert stream.seqs == stream.expected(total)
        await sender.wait_for_seq(ROOM, total)

        streams = [stream for client in clients for stream in client.all_streams]
        problems = [problem for client in clients for problem in client.problems()]
        assert problems == []
        for stream in streams:
            assert stream.seqs == list(range(stream.since + 1, stream.last + 1))
        mid_flood = sum(1 for stream in streams if 0 < stream.head_at_join < total)
        print(f"{len(streams)} streams, {mid_flood} joined mid-flood")
        await close_all(clients)

    await asyncio.wait_for(scenario(), 150)
    site.assert_clean_logs()


async def test_concurrent_senders_get_seqs_1_to_n_and_everyone_sees_all_in_order(site):
    senders, per_sender = 20, 50
    total = senders * per_sender
    names = [f"user{i:02d}" for i in range(senders)]
    site.provision(names)

    async def scenario():
        clients = await connect_all(round_robin(site, names))
        for client in clients:
            joined = await client.join(ROOM, since=0)
            assert joined["head"] == 0
        # Every client sends all its messages at once.
        bodies = [[f"{name} #{n}" for n in range(per_sender)] for name in names]
        acks = await asyncio.gather(
            *(
                client.send_many(ROOM, mine, window=per_sender)
                for client, mine in zip(clients, bodies, strict=True)
            )
        )
        sent = {
            ack["seq"]: (name, body)
            for name, mine, theirs in zip(names, bodies, acks, strict=True)
            for body, ack in zip(mine, theirs, strict=True)
        }
        assert sorted(sent) == list(range(1, total + 1))
        assert not any(ack["duplicate"] for theirs in acks for ack in theirs)

        for client in clients:
            stream = await client.wait_for_seq(ROOM, total)
            assert stream.problems == []
            assert stream.seqs == list(range(1, total + 1))
            assert stream.live_frames == total
            received = {m["seq"]: (m["author"], m["body"]) for m in stream.messages}
            assert received == sent
        await close_all(clients)

    await asyncio.wait_for(scenario(), 150)
    site.assert_clean_logs()
