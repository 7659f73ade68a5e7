"""Access and flow control against real workers (docs/protocol.md, Access and
flow control): two daphne processes on PostgreSQL + Redis, real `websockets`
clients, and the management commands run as separate processes, so every
change reaches the sockets across a process boundary. The in-process tests of
the same rules are tests/realtime/test_consumer_access.py.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import psycopg
import pytest

from tests.harness.deployment import Deployment
from tests.harness.network import Client, close_all

from .conftest import ROOM, Site

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Short, so that "within the repair interval" is quick to check; the slack
# covers a loaded machine's scheduling, not a second interval.
REPAIR_INTERVAL = 1.0
SLACK = 1.0
RATE = (20, 10)
TYPING_INTERVAL = 2.0


@pytest.fixture
def site(tmp_path: Path, postgres_url: str, redis_url: str):
    """Two daphne workers sharing PostgreSQL and Redis, with a short repair
    interval and the default stored-entry rate limit."""
    deployment = Deployment(
        tmp_path / "site",
        database=postgres_url,
        redis_url=redis_url,
        env={
            "ROOMS_REPAIR_INTERVAL": str(REPAIR_INTERVAL),
            "ROOMS_RATE_LIMIT": "{}/{}".format(*RATE),
        },
    )
    try:
        for _ in range(2):
            deployment.start_worker()
        yield Site(deployment)
    finally:
        deployment.stop()


async def manage(site: Site, *args: str) -> float:
    """Run a management command in its own process; the moment it ended
    (the change it made is committed by then)."""
    await asyncio.to_thread(site.deployment.manage, *args)
    return time.monotonic()


async def frame_of(client: Client, kind: str, within: float, **fields) -> dict:
    """Wait for the first frame of `kind` (holding `fields`) on `client`."""
    found: list[dict] = []

    def seen() -> bool:
        found[:] = [
            frame
            for frame in client.frames
            if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items())
        ][:1]
        return bool(found)

    await client.wait_until(seen, within, lambda: f"{kind} frame {fields}")
    return found[0]


class Recording(Client):
    """A Client that also keeps every frame it received, with its arrival time."""

    def __init__(self, ws, name: str):
        self.frames: list[dict] = []
        super().__init__(ws, name)

    def _on_frame(self, raw, frame: dict) -> None:
        self.frames.append({**frame, "_at": time.monotonic()})
        if frame["type"] in ("backfill", "message") and frame["room"] not in self.streams:
            return  # of a room not joined (a leak): kept in `frames` for the test to see
        super()._on_frame(raw, frame)

    async def closed_with(self, within: float) -> int | None:
        """The close code, once the server has closed the socket."""
        try:
            return await self.wait_closed(within)
        except TimeoutError:
            raise AssertionError(f"{self.name}: still open after {within}s") from None


async def connect(site: Site, worker: int, user: str) -> Recording:
    url = site.workers[worker].ws_url
    return await Recording.connect(url, site.tokens[user], name=f"{user}@{worker}")


# --- live access ----------------------------------------------------------------------


async def test_a_member_removed_by_another_process_loses_the_room_on_her_worker(site):
    site.provision(["alice", "bob", "carol"])
    await manage(site, "createroom", "secret", "--private", "--member", "alice", "--member", "bob")
    await manage(site, "createroom", "secret", "--member", "carol")

    async def scenario():
        alice = await connect(site, 0, "alice")
        carol = await connect(site, 0, "carol")  # stays: her worker keeps the room's feed
        bob = await connect(site, 1, "bob")
        for client in (alice, carol, bob):
            await client.join("secret", since=0)
        first = (await bob.send("secret", "before"))["seq"]
        await alice.wait_for_seq("secret", first)

        removed_at = await manage(site, "createroom", "secret", "--remove", "alice")
        left = await frame_of(alice, "left", REPAIR_INTERVAL + SLACK + 5, room="secret")
        delay = left["_at"] - removed_at
        assert delay <= REPAIR_INTERVAL + SLACK, f"left came {delay:.2f}s after the removal"
        assert {k: v for k, v in left.items() if k != "_at"} == {
            "type": "left",
            "room": "secret",
            "reason": "removed",
        }

        history = alice.submit({"type": "history", "room": "secret"})
        refused = await asyncio.wait_for(history, 10)
        assert (refused["type"], refused["code"]) == ("error", "not_found")

        # Bob posts; carol, on alice's worker, is the marker that it got there.
        after = (await bob.send("secret", "after the removal"))["seq"]
        await carol.wait_for_seq("secret", after)
        pong = await alice.request({"type": "ping"})
        assert pong["heads"] == {}
        since_left = alice.frames[alice.frames.index(left) + 1 :]
        leaks = [f for f in since_left if f.get("room") == "secret"]
        assert leaks == [], "alice got frames of the room after she was removed"
        assert carol.streams["secret"].problems == []
        await close_all([alice, carol, bob])

    await asyncio.wait_for(scenario(), 60)
    site.assert_clean_logs()


async def test_a_revoked_token_and_a_deactivated_user_close_their_open_sockets_with_4401(site):
    site.provision(["alice", "carol", "bob"])

    async def scenario():
        # Each on both workers: every worker checks its own sockets.
        alice = [await connect(site, w, "alice") for w in (0, 1)]
        carol = [await connect(site, w, "carol") for w in (0, 1)]
        bob = await connect(site, 1, "bob")
        for client in (*alice, *carol, bob):
            await client.join(ROOM, since=0)

        revoked_at = await manage(site, "issuetoken", "alice", "--revoke")
        for client in alice:
            assert await client.closed_with(REPAIR_INTERVAL + SLACK + 5) == 4401
            assert client.frames[-1].get("code") == "auth_required", client.frames[-1]
            delay = client.frames[-1]["_at"] - revoked_at
            assert delay <= REPAIR_INTERVAL + SLACK, f"closed {delay:.2f}s after the revocation"

        deactivate = (
            "from django.contrib.auth import get_user_model\n"
            "get_user_model().objects.filter(username='carol').update(is_active=False)\n"
        )
        await asyncio.to_thread(site.deployment.shell, deactivate)
        deactivated_at = time.monotonic()
        for client in carol:
            assert await client.closed_with(REPAIR_INTERVAL + SLACK + 5) == 4401
            assert client.frames[-1].get("code") == "auth_required", client.frames[-1]
            delay = client.frames[-1]["_at"] - deactivated_at
            assert delay <= REPAIR_INTERVAL + SLACK, f"closed {delay:.2f}s after deactivation"

        # Nobody else's socket was touched.
        assert (await bob.request({"type": "ping"}))["heads"] == {ROOM: 0}
        await bob.close()

    await asyncio.wait_for(scenario(), 60)
    site.assert_clean_logs()


# --- flow control ---------------------------------------------------------------------


async def test_a_thousand_typing_frames_reach_the_others_at_most_once_per_two_seconds(site):
    site.provision(["alice", "bob", "carol"])
    bursts, per_burst, pause = 10, 100, 0.5  # 1,000 frames over about 4.5 seconds

    async def scenario():
        typist = await connect(site, 0, "alice")
        remote = await connect(site, 1, "bob")
        local = await connect(site, 0, "carol")
        for client in (typist, remote, local):
            await client.join(ROOM, since=0)

        frame = '{"type":"typing","room":"%s"}' % ROOM  # noqa: UP031
        started = time.monotonic()
        for burst in range(bursts):
            if burst:
                await asyncio.sleep(pause)  # pacing the flood, not waiting for anything
            for _ in range(per_burst):
                await typist.ws.send(frame)
        # The marker: a socket's frames are handled in order, so by its ack
        # the worker has handled every typing frame (the window is at most
        # that long), and once the others have it, whatever typing was
        # relayed has arrived.
        marker = (await typist.send(ROOM, "done typing"))["seq"]
        window = time.monotonic() - started
        allowed = int(window // TYPING_INTERVAL) + 1
        for watcher in (remote, local):
            await watcher.wait_for_seq(ROOM, marker)
            typing = [f for f in watcher.frames if f["type"] == "typing"]
            assert 1 <= len(typing) <= allowed, (
                f"{watcher.name}: {len(typing)} typing frames in {window:.2f}s (at most {allowed})"
            )
            assert all(f == {**typing[0], "_at": f["_at"]} for f in typing)
            assert typing[0]["user"] == "alice"
            gaps = [b["_at"] - a["_at"] for a, b in itertools.pairwise(typing)]
            assert all(gap >= TYPING_INTERVAL - 0.5 for gap in gaps), gaps  # delivery jitter
        assert [f for f in typist.frames if f["type"] in ("typing", "error")] == []
        await close_all([typist, remote, local])

    await asyncio.wait_for(scenario(), 60)
    site.assert_clean_logs()


async def test_the_stored_entry_rate_limit_is_exact_across_two_workers(site, postgres_url):
    site.provision(["alice", "bob", "carol"], rooms=[ROOM, "hold"])
    count, window = RATE
    per_worker = 15

    async def scenario():
        # One send per socket: a socket's frames are handled one after the
        # other, so only many sockets make many sends wait in a worker at once.
        sockets = [await connect(site, w, "alice") for _ in range(per_worker) for w in (0, 1)]
        for client in sockets:
            await client.join(ROOM, since=0)
        blockers = [await connect(site, 0, "bob"), await connect(site, 1, "carol")]
        for client in blockers:
            await client.join("hold", since=0)

        async with await psycopg.AsyncConnection.connect(postgres_url) as lock:
            # Line the race up: with the room "hold" locked here, a send of bob
            # and one of carol stall each worker's database thread, alice's 30
            # sends queue behind them, and the commit starts both workers'
            # batches of alice's sends at the same moment.
            await lock.execute("SELECT id FROM rooms_room WHERE slug = 'hold' FOR UPDATE")
            held = [client.submit(_send("hold", "blocker")) for client in blockers]
            await _until_waiting_for_locks(postgres_url, 2)
            replies = [client.submit(_send(ROOM, f"from {client.name}")) for client in sockets]
            # No frame can tell that the 30 have reached the workers: each
            # frame waits for the stalled database thread (Channels closes old
            # connections there first), a ping too. Too short a pause would
            # only make the race less tight, never the test wrong.
            await asyncio.sleep(0.5)
            assert not any(reply.done() for reply in [*held, *replies])
        assert all(r["type"] == "ack" for r in await asyncio.wait_for(asyncio.gather(*held), 30))
        replies = await asyncio.wait_for(asyncio.gather(*replies), 30)
        acks = [reply for reply in replies if reply["type"] == "ack"]
        refused = [reply for reply in replies if reply["type"] != "ack"]
        assert len(acks) == count, f"{len(acks)} of {len(replies)} sends stored"
        assert sorted(ack["seq"] for ack in acks) == list(range(1, count + 1))
        assert {(r["type"], r["code"]) for r in refused} == {("error", "rate_limited")}
        assert all(0 < r["retry_after"] <= window for r in refused), refused
        await close_all([*sockets, *blockers])

    await asyncio.wait_for(scenario(), 60)
    stored = await asyncio.to_thread(_messages_by, postgres_url, "alice")
    assert stored == count
    site.assert_clean_logs()


def _send(room: str, body: str) -> dict:
    return {"type": "send", "room": room, "body": body}


async def _until_waiting_for_locks(database: str, backends: int, within: float = 20) -> None:
    """Poll PostgreSQL until `backends` sessions wait for a lock (the state
    the test wants has no frame to await)."""
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        deadline = time.monotonic() + within
        while True:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).fetchone()
            if row[0] >= backends:
                return
            assert time.monotonic() < deadline, f"{row[0]} of {backends} sessions wait"
            await asyncio.sleep(0.02)


def _messages_by(database: str, username: str) -> int:
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rooms_message m JOIN auth_user u ON u.id = m.author_id "
            "WHERE u.username = %s",
            [username],
        ).fetchone()
    return row[0]
