"""The consumer's error frames through the real ASGI application: every code
of docs/protocol.md, its precedence, refs, and the close codes.
"""

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Membership
from tests.harness.inprocess import seed

pytestmark = pytest.mark.django_db(transaction=True)


def seqs(messages) -> list[int]:
    return [message["seq"] for message in messages]


# --- errors ----------------------------------------------------------------------------


async def test_malformed_frames_get_errors_and_the_socket_stays_open(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.error("not json", "bad_frame")
    await client.error('{"type":"ping","x":NaN}', "bad_frame")
    await client.send_bytes(b'{"type":"ping"}')
    await client.expect("error", code="bad_frame")
    await client.error({"ref": "r1"}, "bad_frame", ref="r1")
    await client.error({"type": "ack", "ref": "r2"}, "unknown_type", ref="r2")
    await client.error({"type": "join", "room": 5, "ref": "r3"}, "invalid", field="room", ref="r3")
    await client.error({"type": "join", "room": "lobby", "since": True}, "invalid", field="since")
    await client.error('{"type":"join","room":"lobby","since":5.0}', "invalid", field="since")
    await client.error({"type": "send", "room": "lobby", "body": "\u3000"}, "invalid", field="body")
    bad_ref = await client.error({"type": "ping", "ref": "x" * 65}, "invalid", field="ref")
    assert "ref" not in bad_ref
    await client.send({"type": "ping", "ref": None})
    assert "ref" not in await client.expect("pong")


async def test_unknown_impossible_and_private_rooms_are_not_found(
    clients, alice, bob, room_factory
):
    await database_sync_to_async(room_factory)("secret", is_private=True, members=[bob])
    outsider = await clients.connect(alice)
    for slug in ("nope", "not a slug", "secret"):
        await outsider.error({"type": "join", "room": slug, "ref": "j"}, "not_found", ref="j")
        await outsider.error({"type": "send", "room": slug, "body": "hi"}, "not_found")
    member = await clients.connect(bob)
    assert (await member.join("secret"))["room"] == "secret"


async def test_frames_for_a_room_not_joined_are_not_joined(clients, alice, lobby):
    client = await clients.connect(alice)
    for frame in (
        {"type": "send", "room": "lobby", "body": "hi"},
        {"type": "typing", "room": "lobby"},
        {"type": "read", "room": "lobby", "seq": 1},
        {"type": "history", "room": "lobby"},
        {"type": "leave", "room": "lobby"},
    ):
        await client.error({**frame, "ref": "n"}, "not_joined", ref="n")


async def test_read_only_member_may_read_but_not_send(clients, alice, lobby):
    await database_sync_to_async(services.membership_set_role)(
        user=alice, room=lobby, role=Membership.Role.READ_ONLY
    )
    await seed("lobby", 2)
    client = await clients.connect(alice)
    send = {"type": "send", "room": "lobby", "body": "hi", "ref": "s"}
    await client.error(send, "not_joined")  # not_joined comes before forbidden
    assert (await client.join("lobby", since=0))["read_only"] is True
    assert seqs(await client.stream("lobby", 2)) == [1, 2]
    await client.error(send, "forbidden", ref="s")
    await database_sync_to_async(services.room_update)(room=lobby, is_archived=True)
    await client.error(send, "forbidden", skip=("room",))  # forbidden before read_only


async def test_member_made_read_only_after_joining_can_no_longer_send(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    await database_sync_to_async(services.membership_set_role)(
        user=alice, room=lobby, role=Membership.Role.READ_ONLY
    )
    assert (await client.next_of("room", skip=("backfill",)))["read_only"] is True
    await client.error({"type": "send", "room": "lobby", "body": "hi"}, "forbidden")


async def test_send_to_an_archived_room_is_read_only(clients, alice, room_factory, settings):
    settings.ROOMS_RATE_LIMIT = (1, 10)
    await database_sync_to_async(room_factory)("attic", is_archived=True)
    await database_sync_to_async(room_factory)("open")
    client = await clients.connect(alice)
    assert (await client.join("attic"))["read_only"] is True
    await client.error({"type": "send", "room": "attic", "body": " "}, "invalid", field="body")
    await client.join("open")
    await client.send({"type": "send", "room": "open", "body": "uses up the limit"})
    await client.next_of("ack", skip=("message", "backfill"))
    # At the rate limit, read_only still comes first.
    await client.error(
        {"type": "send", "room": "attic", "body": "hi"}, "read_only", skip=("message", "backfill")
    )


async def test_sends_over_the_rate_limit_are_rate_limited(clients, alice, lobby, settings):
    settings.ROOMS_RATE_LIMIT = (3, 10)
    client = await clients.connect(alice)
    await client.join("lobby")
    for n in range(3):
        await client.send({"type": "send", "room": "lobby", "body": "hi", "client_id": f"c{n}"})
        await client.next_of("ack", skip=("message", "backfill"))
    limited = await client.error(
        {"type": "send", "room": "lobby", "body": "hi", "client_id": "c3", "ref": "x"},
        "rate_limited",
        ref="x",
        skip=("message", "backfill"),
    )
    assert 0 < limited["retry_after"] <= 10
    await client.send({"type": "send", "room": "lobby", "body": "hi", "client_id": "c1"})
    duplicate = await client.next_of("ack", skip=("message", "backfill"))
    assert (duplicate["seq"], duplicate["duplicate"]) == (2, True)


async def test_frame_over_64_kib_is_too_large_and_closes_4413(clients, alice):
    client = await clients.connect(alice)
    await client.error({"type": "ping", "pad": "x" * 70_000}, "too_large")
    assert await client.closed() == 4413
