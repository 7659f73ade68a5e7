"""G5 for changes on the production shape (PostgreSQL + Redis, two daphne
workers): a client that was away while another worker's client edited,
reacted, deleted (as a moderator) and replied gets exactly those entries on
re-join, and applying them as docs/protocol.md says ("How a client applies
change entries") leaves it with the state a fresh client reads.
"""

from __future__ import annotations

import asyncio
import copy

import pytest

from tests.harness.network import Client, close_all

from .conftest import ROOM

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(150),
]

MESSAGE_KINDS = ("text", "system")


def apply(held: dict[int, dict], entry: dict) -> None:
    """One entry, applied to the messages a client holds (by seq), following
    docs/protocol.md: messages are taken as they come; a change to a message
    not held, or an edit or reaction of one held as deleted, is ignored."""
    if entry["kind"] in MESSAGE_KINDS:
        held[entry["seq"]] = copy.deepcopy(entry)
        return
    message = held.get(entry["target"])
    if message is None or (message["deleted"] and entry["kind"] in ("edit", "reaction")):
        return
    if entry["kind"] == "edit":
        message["body"] = entry["body"]
        message["edited_at"] = entry["created_at"]
    elif entry["kind"] == "delete":
        message.update(deleted=True, body="", reactions={})
    elif entry["kind"] == "reaction":
        users = set(message["reactions"].get(entry["emoji"], ()))
        if entry["on"]:
            users.add(entry["author"])
        else:
            users.discard(entry["author"])
        if users:
            message["reactions"][entry["emoji"]] = sorted(users)
        else:
            message["reactions"].pop(entry["emoji"], None)
    else:
        raise AssertionError(f"unknown entry kind: {entry}")


def applied(entries: list[dict], held: dict[int, dict] | None = None) -> dict[int, dict]:
    held = {} if held is None else held
    for entry in entries:
        apply(held, entry)
    return held


async def test_a_client_resuming_on_its_worker_gets_the_changes_made_on_the_other(scaled):
    site = scaled.provision(["alice", "bob", "carol"])
    site.deployment.manage("createroom", ROOM, "--moderator", "bob")
    first, second = site.workers

    async def scenario():
        away = await Client.connect(first.ws_url, site.tokens["alice"], name="away")
        writer = await Client.connect(second.ws_url, site.tokens["bob"], name="writer")
        for client in (away, writer):
            await client.join(ROOM, since=0)
        assert (await away.send(ROOM, "hello from alice"))["seq"] == 1
        assert (await writer.send(ROOM, "hello from bob"))["seq"] == 2
        await away.request({"type": "react", "room": ROOM, "seq": 2, "emoji": "👍"})
        await away.request({"type": "send", "room": ROOM, "body": "a thread", "reply_to": 2})
        seen = await away.wait_for_seq(ROOM, 4)
        assert seen.problems == []
        held = applied(seen.messages)
        assert held[2]["reactions"] == {"👍": ["alice"]}
        await away.close()

        changes = [
            {"type": "edit", "seq": 2, "body": "hello from bob, edited"},
            {"type": "react", "seq": 1, "emoji": "🎉"},
            {"type": "react", "seq": 2, "emoji": "👍"},
            {"type": "delete", "seq": 1},  # alice's message: bob moderates the room
            {"type": "send", "body": "an answer", "reply_to": 4},
        ]
        acks = [await writer.request({**change, "room": ROOM}) for change in changes]
        assert [ack["seq"] for ack in acks] == [5, 6, 7, 8, 9]

        back = await Client.connect(first.ws_url, site.tokens["alice"], name="back")
        joined = await back.join(ROOM, since=seen.last)
        assert (joined["since"], joined["head"]) == (4, 9)
        # A live entry after the missed ones: any repeat of them would come
        # before it, and the stream records repeats and gaps as problems.
        assert (await writer.send(ROOM, "after the resume"))["seq"] == 10
        stream = await back.wait_for_seq(ROOM, 10)
        assert stream.problems == []
        assert stream.seqs == list(range(5, 11))
        missed = stream.messages[:5]
        assert [(entry["kind"], entry["author"]) for entry in missed] == [
            ("edit", "bob"),
            ("reaction", "bob"),
            ("reaction", "bob"),
            ("delete", "bob"),
            ("text", "bob"),
        ]
        assert [entry.get("target", entry.get("reply_to")) for entry in missed] == [2, 1, 2, 1, 4]
        applied(stream.messages, held)

        fresh = await Client.connect(second.ws_url, site.tokens["carol"], name="fresh")
        await fresh.join(ROOM, since=0)
        everything = await fresh.wait_for_seq(ROOM, 10)
        assert everything.problems == []
        assert everything.seqs == list(range(1, 11))
        # The messages of a backfill show their current state; the changes
        # that follow them in it change nothing more.
        current = {m["seq"]: m for m in everything.messages if m["kind"] in MESSAGE_KINDS}
        assert applied(everything.messages) == current
        assert held == current

        assert sorted(held) == [1, 2, 4, 9, 10]
        assert (held[1]["deleted"], held[1]["body"], held[1]["reactions"]) == (True, "", {})
        assert held[2]["body"] == "hello from bob, edited"
        assert held[2]["edited_at"] == missed[0]["created_at"]
        assert held[2]["reactions"] == {"👍": ["alice", "bob"]}
        assert (held[4]["reply_to"], held[9]["reply_to"]) == (2, 4)
        await close_all([back, writer, fresh])

    await asyncio.wait_for(scenario(), 120)
    site.assert_clean_logs()
