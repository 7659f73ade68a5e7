"""The WebSocket consumer (rooms/realtime/consumer.py) through the real ASGI
application: every client frame, every server frame, every error code, and
the join/backfill rules of docs/protocol.md. Sockets are channels' in-process
communicators; live events flow through the real hub and in-memory layer.
"""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms import services
from rooms.models import Membership, Message, ReadCursor
from tests.harness.inprocess import post, seed, until_live

pytestmark = pytest.mark.django_db(transaction=True)


def seqs(messages) -> list[int]:
    return [message["seq"] for message in messages]


# --- join and backfill -------------------------------------------------------------


async def test_join_replies_joined_presence_then_backfill(clients, alice, lobby):
    await post("lobby", "first", author=alice, client_id="c-1")
    await seed("lobby", 2)
    client = await clients.connect(alice)
    await client.send({"type": "join", "room": "lobby", "since": 0, "ref": "j1"})
    joined = await client.expect("joined", room="lobby", ref="j1", head=3, since=0)
    assert joined["truncated"] is False
    assert (joined["title"], joined["read_only"]) == ("Lobby", False)
    await client.expect("presence", room="lobby", users=["alice"])
    backfill = await client.expect("backfill", room="lobby")
    assert seqs(backfill["messages"]) == [1, 2, 3]
    first = backfill["messages"][0]
    assert (first["author"], first["body"], first["client_id"]) == ("alice", "first", "c-1")
    assert (first["kind"], first["room"], first["deleted"]) == ("text", "lobby", False)
    assert (first["reply_to"], first["edited_at"], first["reactions"]) == (None, None, {})
    assert joined["read"] is None


async def test_join_since_is_clamped_to_the_head(clients, alice, lobby):
    await seed("lobby", 3)
    client = await clients.connect(alice)
    assert (await client.join("lobby", since=99))["since"] == 3
    await post("lobby", "next")
    assert seqs(await client.stream("lobby", 4)) == [4]


async def test_join_without_since_starts_at_the_read_cursor(clients, alice, lobby):
    await seed("lobby", 5)
    await database_sync_to_async(ReadCursor.objects.create)(user=alice, room=lobby, seq=2)
    client = await clients.connect(alice)
    assert (await client.join("lobby"))["since"] == 2
    assert seqs(await client.stream("lobby", 5)) == [3, 4, 5]


async def test_join_without_since_or_cursor_backfills_the_last_50(clients, alice, lobby):
    await seed("lobby", 55)
    client = await clients.connect(alice)
    joined = await client.join("lobby")
    assert (joined["since"], joined["truncated"]) == (5, False)
    assert seqs(await client.stream("lobby", 55)) == list(range(6, 56))


async def test_join_limit_truncates_the_backfill(clients, alice, lobby):
    await seed("lobby", 5)
    client = await clients.connect(alice)
    joined = await client.join("lobby", since=0, limit=2)
    assert (joined["since"], joined["truncated"]) == (3, True)
    assert seqs(await client.stream("lobby", 5)) == [4, 5]
    roomy = await client.join("lobby", since=1, limit=10)
    assert (roomy["since"], roomy["truncated"]) == (1, False)


async def test_join_after_retention_starts_at_the_oldest_kept(clients, alice, lobby):
    await seed("lobby", 5)
    old = timezone.now() - timedelta(days=10)
    await database_sync_to_async(Message.objects.filter(seq__lte=3).update)(created_at=old)
    await database_sync_to_async(services.messages_prune)(older_than=timedelta(days=1))
    client = await clients.connect(alice)
    joined = await client.join("lobby", since=0)
    assert (joined["since"], joined["truncated"]) == (3, True)
    assert seqs(await client.stream("lobby", 5)) == [4, 5]


async def test_rejoin_restarts_the_stream_after_the_new_since(clients, alice, lobby):
    await seed("lobby", 3)
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    assert seqs(await client.stream("lobby", 3)) == [1, 2, 3]
    rejoined = await client.join("lobby", since=1, ref="again")
    assert (rejoined["since"], rejoined["ref"]) == (1, "again")
    assert seqs(await client.stream("lobby", 3)) == [2, 3]
    await post("lobby", "live")
    assert seqs(await client.stream("lobby", 4)) == [4]
    assert await client.quiet()


async def test_backfill_frames_hold_at_most_500_messages(clients, alice, lobby):
    await seed("lobby", 1100)
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    frames = [await client.next_of("backfill")]
    while frames[-1]["messages"][-1]["seq"] < 1100:
        frames.append(await client.next_of("backfill"))
    assert all(len(frame["messages"]) <= 500 for frame in frames)
    assert [seq for frame in frames for seq in seqs(frame["messages"])] == list(range(1, 1101))


async def test_backfill_frames_stay_within_256_kib(clients, alice, lobby):
    # 40 bodies of 4,000 four-byte characters: about 640 KB of JSON.
    await seed("lobby", 40, body="😀" * 3990)
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    sizes, received = [], []
    while len(received) < 40:
        text = await client.recv_text()
        frame = json.loads(text)
        if frame["type"] == "backfill":
            sizes.append(len(text.encode()))
            received.extend(seqs(frame["messages"]))
    assert received == list(range(1, 41))
    assert len(sizes) >= 3
    assert max(sizes) <= 256 * 1024


async def test_message_posted_elsewhere_reaches_a_joined_socket_live(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    await until_live("lobby")
    await post("lobby", "from a thread")
    frame = await client.next_of("message")
    assert frame["room"] == "lobby"
    assert (frame["message"]["seq"], frame["message"]["body"]) == (1, "from a thread")
    assert (frame["message"]["author"], frame["message"]["kind"]) == (None, "system")


async def test_messages_posted_during_a_join_arrive_once_in_order(clients, alice, lobby):
    await seed("lobby", 20)
    client = await clients.connect(alice)

    async def posting():
        for n in range(60):
            await post("lobby", f"racing {n}")

    poster = asyncio.create_task(posting())
    await client.join("lobby", since=0)
    received = await client.stream("lobby", 80)
    await poster
    assert seqs(received) == list(range(1, 81))
    assert await client.quiet()


async def test_a_gap_in_broadcasts_is_filled_from_the_database(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    await until_live("lobby")
    await seed("lobby", 2)  # stored without a broadcast, as if the layer dropped them
    await post("lobby", "announced")
    assert seqs(await client.stream("lobby", 3)) == [1, 2, 3]


async def test_unannounced_messages_arrive_within_the_repair_interval(
    clients, alice, lobby, settings
):
    settings.ROOMS_REPAIR_INTERVAL = 0.2
    client = await clients.connect(alice)
    await client.join("lobby", since=0)
    await until_live("lobby")
    await seed("lobby", 2)  # no broadcast follows: only the repair loop can tell
    messages = await client.stream("lobby", 2)
    assert seqs(messages) == [1, 2]


# --- send ------------------------------------------------------------------------------


async def test_send_is_acked_and_broadcast_to_every_joined_socket(clients, alice, bob, lobby):
    sender, listener = await clients.connect(alice), await clients.connect(bob)
    await sender.join("lobby")
    await listener.join("lobby")
    await until_live("lobby")
    await sender.send({"type": "send", "room": "lobby", "body": "hello", "client_id": "c-1"})
    # The ack and the sender's own message frame may come in either order.
    frames = {}
    while not {"ack", "message"} <= frames.keys():
        frame = await sender.recv()
        frames[frame["type"]] = frame
    ack = frames["ack"]
    assert (ack["room"], ack["seq"], ack["client_id"], ack["duplicate"]) == (
        "lobby",
        1,
        "c-1",
        False,
    )
    assert frames["message"]["message"]["seq"] == 1
    heard = await listener.next_of("message")
    assert (heard["message"]["author"], heard["message"]["body"]) == ("alice", "hello")


async def test_duplicate_send_acks_the_original_seq_without_broadcast(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    await until_live("lobby")
    frame = {"type": "send", "room": "lobby", "body": "once", "client_id": "c-1", "ref": "s"}
    await client.send(frame)
    await client.next_of("ack", skip=("message", "backfill"))
    await client.send(frame)
    again = await client.next_of("ack", skip=("message", "backfill"))
    assert (again["seq"], again["duplicate"], again["ref"]) == (1, True, "s")
    assert await client.quiet()
    assert await database_sync_to_async(Message.objects.count)() == 1


async def test_send_without_client_id_is_acked_with_null_client_id(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    await client.send({"type": "send", "room": "lobby", "body": "plain"})
    ack = await client.next_of("ack", skip=("message", "backfill"))
    assert (ack["seq"], ack["client_id"], ack["duplicate"]) == (1, None, False)


async def test_pipelined_sends_from_many_sockets_get_distinct_acked_seqs(
    clients, alice, bob, lobby, settings
):
    settings.ROOMS_RATE_LIMIT = None  # alice sends 41 times
    senders = [await clients.connect(user) for user in (alice, bob, alice)]
    for sender in senders:
        await sender.join("lobby")
    await until_live("lobby")
    # Sent without waiting for acks, so they are stored in shared group commits.
    for n in range(20):
        for index, sender in enumerate(senders):
            frame = {"type": "send", "room": "lobby", "body": f"{index}/{n}", "ref": f"{n}"}
            await sender.send({**frame, "client_id": f"s{index}-{n}"})
    await senders[0].send({"type": "send", "room": "lobby", "body": "x", "client_id": "s0-3"})
    acked = []
    for index, sender in enumerate(senders):
        acks, stream = [], []
        while len(acks) < 20 + (index == 0) or seqs(stream)[-1:] != [60]:
            frame = await sender.recv()
            if frame["type"] == "ack":
                acks.append(frame)
            elif frame["type"] == "message":
                stream.append(frame["message"])
        assert [ack["ref"] for ack in acks[:20]] == [str(n) for n in range(20)]
        acked.extend(ack["seq"] for ack in acks if not ack["duplicate"])
        assert seqs(stream) == list(range(1, 61))
        if index == 0:  # the repeated client_id: acked with the original seq
            assert (acks[20]["duplicate"], acks[20]["seq"]) == (True, acks[3]["seq"])
    assert sorted(acked) == list(range(1, 61))


# --- leave, presence, typing, read -----------------------------------------------


async def test_leave_replies_left_and_ends_the_stream(clients, alice, bob, lobby):
    leaver, stayer = await clients.connect(alice), await clients.connect(bob)
    await stayer.join("lobby")
    await stayer.expect("presence", users=["bob"])
    await leaver.join("lobby")
    await stayer.expect("presence", users=["alice", "bob"])
    await leaver.send({"type": "leave", "room": "lobby", "ref": "bye"})
    await leaver.next_of("left")
    await stayer.expect("presence", users=["bob"])
    await post("lobby", "after")
    await stayer.next_of("message")
    assert await leaver.quiet()
    await leaver.error({"type": "leave", "room": "lobby"}, "not_joined")


async def test_presence_counts_users_not_sockets(clients, alice, bob, lobby):
    watcher = await clients.connect(bob)
    await watcher.join("lobby")
    await watcher.expect("presence", users=["bob"])
    first_tab, second_tab = await clients.connect(alice), await clients.connect(alice)
    await first_tab.join("lobby")
    await watcher.expect("presence", users=["alice", "bob"])
    await second_tab.join("lobby")
    await first_tab.close()
    assert await watcher.quiet()  # alice is still there in her other tab
    await second_tab.close()
    await watcher.expect("presence", users=["bob"])


async def test_rejoin_does_not_change_presence_for_others(clients, alice, bob, lobby):
    watcher, rejoiner = await clients.connect(bob), await clients.connect(alice)
    await watcher.join("lobby")
    await watcher.expect("presence", users=["bob"])
    await rejoiner.join("lobby")
    await watcher.expect("presence", users=["alice", "bob"])
    await rejoiner.join("lobby", since=0)
    assert await watcher.drain() == []


async def test_typing_reaches_other_users_only(clients, alice, bob, lobby):
    typist, typist_tab = await clients.connect(alice), await clients.connect(alice)
    other = await clients.connect(bob)
    for client in (typist, typist_tab, other):
        await client.join("lobby")
    await typist.send({"type": "typing", "room": "lobby"})
    assert await other.next_of("typing") == {"type": "typing", "room": "lobby", "user": "alice"}
    for client in (typist, typist_tab):
        assert "typing" not in await client.drain()


async def test_read_syncs_the_cursor_to_the_users_other_sockets(clients, alice, bob, lobby):
    await seed("lobby", 3)
    reader, other_tab = await clients.connect(alice), await clients.connect(alice)
    other_user = await clients.connect(bob)
    await reader.join("lobby")
    await other_user.join("lobby")
    await reader.send({"type": "read", "room": "lobby", "seq": 2})
    assert await other_tab.expect("read") == {"type": "read", "room": "lobby", "seq": 2}
    await reader.send({"type": "read", "room": "lobby", "seq": 99})
    await other_tab.expect("read", seq=3)  # clamped to the head
    cursor = await database_sync_to_async(ReadCursor.objects.get)(user=alice, room=lobby)
    assert cursor.seq == 3
    # A cursor is no membership: reading a public room joins nobody to it.
    assert not await database_sync_to_async(Membership.objects.filter(user=alice).exists)()
    assert "read" not in await other_user.drain()
    assert "read" not in await reader.drain()


# --- history, ping, changes, room ------------------------------------------------------


async def test_history_pages_backwards_with_has_more(clients, alice, lobby):
    await seed("lobby", 5)
    client = await clients.connect(alice)
    await client.join("lobby", since=5)
    await client.send({"type": "history", "room": "lobby", "limit": 2, "ref": "h1"})
    page = await client.next_of("history")
    assert (seqs(page["messages"]), page["has_more"], page["ref"]) == ([4, 5], True, "h1")
    await client.send({"type": "history", "room": "lobby", "before": 4})
    page = await client.next_of("history")
    assert (seqs(page["messages"]), page["has_more"]) == ([1, 2, 3], False)


async def test_ping_replies_pong_with_the_heads_of_joined_rooms(clients, alice, room_factory):
    await database_sync_to_async(room_factory)("lobby")
    await database_sync_to_async(room_factory)("other")
    await seed("lobby", 2)
    client = await clients.connect(alice)
    await client.send({"type": "ping", "ref": "p1"})
    assert await client.expect("pong") == {"type": "pong", "heads": {}, "ref": "p1"}
    await client.join("lobby")
    await client.join("other")
    await post("other", "news")
    await client.stream("other", 1)
    await client.send({"type": "ping"})
    assert (await client.next_of("pong", skip=("backfill",)))["heads"] == {
        "lobby": 2,
        "other": 1,
    }


async def test_a_moderators_deletion_reaches_joined_sockets_as_an_entry(clients, alice, bob, lobby):
    await post("lobby", "rude", author=alice)
    await database_sync_to_async(services.membership_set_role)(
        user=bob, room=lobby, role=Membership.Role.MODERATOR
    )
    reader = await clients.connect(alice)
    await reader.join("lobby")
    await reader.stream("lobby", 1)
    moderator = await clients.connect(bob)
    await moderator.join("lobby")
    await moderator.send({"type": "delete", "room": "lobby", "seq": 1, "ref": "d"})
    assert (await moderator.next_of("ack", skip=("backfill", "message")))["seq"] == 2
    (change,) = await reader.stream("lobby", 1)
    assert (change["kind"], change["target"], change["author"]) == ("delete", 1, "bob")
    await reader.send({"type": "history", "room": "lobby"})
    (first,) = (await reader.next_of("history"))["messages"]
    assert (first["seq"], first["body"], first["deleted"]) == (1, "", True)


async def test_room_changes_reach_joined_sockets(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    await database_sync_to_async(services.room_create_or_update)(slug="lobby", title="Hall")
    changed = await client.next_of("room")
    assert changed == {"type": "room", "room": "lobby", "title": "Hall", "read_only": False}
    await database_sync_to_async(services.room_update)(room=lobby, is_archived=True)
    assert (await client.next_of("room"))["read_only"] is True
    await client.error({"type": "send", "room": "lobby", "body": "hi", "ref": "r"}, "read_only")
