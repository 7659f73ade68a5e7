"""Live access and flow control through the real ASGI application: what
removes access reaches open sockets (by its event, or by the repair loop when
the event is lost), credentials that end close sockets with 4401, and the
throttles, budgets and caps of docs/protocol.md (Access and flow control).
"""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from rooms import protocol, services
from rooms.models import ApiToken, Membership, Message, ReadCursor
from tests.harness.inprocess import post, seed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_repair(settings):
    settings.ROOMS_REPAIR_INTERVAL = 0.2


@pytest.fixture
def secret(room_factory, alice, bob):
    return room_factory("secret", is_private=True, members=[alice, bob])


# --- live access ------------------------------------------------------------------------


async def test_a_removed_member_loses_a_private_room_at_once(clients, alice, bob, secret):
    client = await clients.connect(alice)
    await client.join("secret")
    await database_sync_to_async(services.membership_remove)(room=secret, user=alice)
    left = await client.next_of("left", skip=("backfill",))
    assert left == {"type": "left", "room": "secret", "reason": "removed"}
    await post("secret", "after the removal", author=bob)
    await client.error({"type": "history", "room": "secret"}, "not_found")
    await client.error({"type": "typing", "room": "secret"}, "not_found")
    await client.error({"type": "read", "room": "secret", "seq": 1}, "not_found")
    await client.error({"type": "join", "room": "secret"}, "not_found")
    assert "message" not in await client.drain()
    member = Membership.objects.filter(room=secret, user=alice).exists
    assert not await database_sync_to_async(member)()


async def test_a_removal_whose_event_was_lost_is_found_by_the_repair_loop(clients, alice, secret):
    client = await clients.connect(alice)
    await client.join("secret")
    # No service, no event: as if the broadcast had been dropped.
    await database_sync_to_async(Membership.objects.filter(room=secret, user=alice).delete)()
    assert (await client.next_of("left", skip=("backfill",)))["reason"] == "removed"


async def test_a_public_room_made_private_drops_its_non_members(clients, alice, bob, room_factory):
    room = await database_sync_to_async(room_factory)("hall", members=[alice])
    member, outsider = await clients.connect(alice), await clients.connect(bob)
    await member.join("hall")
    await outsider.join("hall")
    await database_sync_to_async(services.room_update)(room=room, is_private=True)
    assert (await outsider.next_of("left", skip=("backfill",)))["reason"] == "removed"
    await post("hall", "members only")
    assert (await member.stream("hall", 1))[-1]["body"] == "members only"


async def test_a_role_change_reaches_open_sockets_as_a_room_frame(clients, alice, secret):
    client = await clients.connect(alice)
    await client.join("secret")
    await database_sync_to_async(services.membership_set_role)(
        room=secret, user=alice, role=Membership.Role.READ_ONLY
    )
    frame = await client.next_of("room", skip=("backfill",))
    assert (frame["room"], frame["read_only"]) == ("secret", True)
    await client.error({"type": "send", "room": "secret", "body": "hi"}, "forbidden")


async def test_reading_never_creates_a_membership(clients, alice, lobby):
    await seed("lobby", 2)
    client = await clients.connect(alice)
    await client.join("lobby")
    await client.send({"type": "read", "room": "lobby", "seq": 2})
    await client.send({"type": "ping", "ref": "p"})
    await client.next_of("pong", skip=("backfill",))
    cursor = await database_sync_to_async(ReadCursor.objects.get)(user=alice, room=lobby)
    assert cursor.seq == 2
    assert not await database_sync_to_async(Membership.objects.filter(user=alice).exists)()


async def test_a_deactivated_users_socket_is_closed_and_its_sends_refused(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    closed = await client.closed_after(("backfill", "presence", "error"))
    assert closed == protocol.CLOSE_UNAUTHENTICATED
    assert not await database_sync_to_async(Message.objects.filter(author=alice).exists)()


async def test_a_deactivated_users_send_is_not_stored_even_before_the_check(
    clients, alice, lobby, settings
):
    settings.ROOMS_REPAIR_INTERVAL = 60  # the periodic check will not come first
    client = await clients.connect(alice)
    await client.join("lobby")
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    await client.error(
        {"type": "send", "room": "lobby", "body": "hi"}, "auth_required", skip=("backfill",)
    )
    assert await client.closed() == protocol.CLOSE_UNAUTHENTICATED
    assert not await database_sync_to_async(Message.objects.exists)()


async def test_a_revoked_tokens_socket_is_closed(clients, alice, lobby):
    client = await clients.connect(alice)
    await client.join("lobby")
    await database_sync_to_async(services.api_token_revoke_all)(user=alice)
    assert await client.closed_after(("backfill", "presence", "error")) == 4401
    assert await database_sync_to_async(ApiToken.objects.filter(revoked_at=None).count)() == 0


async def test_a_logged_out_sessions_socket_is_closed(clients, alice, lobby):
    client = await clients.connect(alice, via="session")
    await client.join("lobby")
    await database_sync_to_async(Session.objects.all().delete)()  # what logout does
    assert await client.closed_after(("backfill", "presence", "error")) == 4401


async def test_a_password_change_closes_the_sockets_of_the_sessions_it_ended(clients, alice, lobby):
    """Django ends every session whose stored hash no longer matches the
    password (django.contrib.auth.get_user); so does the access check."""
    client = await clients.connect(alice, via="session")
    await client.join("lobby")
    alice.set_password("a-new-password-456")
    await database_sync_to_async(alice.save)()
    assert await client.closed_after(("backfill", "presence", "error")) == 4401


async def test_a_user_who_lost_staff_may_no_longer_delete_others_messages(
    clients, bob, lobby, user_factory, settings
):
    """The socket's user is re-read with its rights every repair interval:
    the delete rule reads `is_staff` from it."""
    carol = await database_sync_to_async(user_factory)("carol", is_staff=True)
    first, second = await post("lobby", "one", author=bob), await post("lobby", "two", author=bob)
    client = await clients.connect(carol)
    await client.join("lobby")
    await client.send({"type": "delete", "room": "lobby", "seq": first, "ref": "d1"})
    assert (await client.next_of("ack", skip=("backfill", "message")))["ref"] == "d1"
    staff = get_user_model().objects.filter(pk=carol.pk)
    await database_sync_to_async(staff.update)(is_staff=False)  # no event: only the check
    await asyncio.sleep(5 * settings.ROOMS_REPAIR_INTERVAL)
    frame = {"type": "delete", "room": "lobby", "seq": second, "ref": "d2"}
    await client.error(frame, "forbidden", ref="d2", skip=("backfill", "message"))
    deleted = Message.objects.filter(room=lobby, seq=second, deleted=True).exists
    assert not await database_sync_to_async(deleted)()


# --- throttles, budgets and caps ------------------------------------------------------------


async def test_typing_is_relayed_at_most_once_per_interval(clients, alice, bob, lobby):
    typist, watcher = await clients.connect(alice), await clients.connect(bob)
    await typist.join("lobby")
    await watcher.join("lobby")
    for _ in range(100):
        await typist.send({"type": "typing", "room": "lobby"})
    await typist.send({"type": "ping", "ref": "done"})
    await typist.next_of("pong", skip=("backfill",))
    assert (await watcher.drain()).count("typing") == 1


async def test_reads_coalesce_into_the_first_and_the_last(clients, alice, lobby):
    await seed("lobby", 50)
    reader, other_tab = await clients.connect(alice), await clients.connect(alice)
    await reader.join("lobby")
    for seq in range(1, 51):
        await reader.send({"type": "read", "room": "lobby", "seq": seq})
    assert (await other_tab.next_of("read"))["seq"] == 1
    assert (await other_tab.next_of("read"))["seq"] == 50
    assert "read" not in await other_tab.drain()
    cursor = await database_sync_to_async(ReadCursor.objects.get)(user=alice, room=lobby)
    assert cursor.seq == 50


async def test_frames_past_the_budget_get_rate_limited_and_sends_still_work(
    clients, alice, lobby, settings
):
    settings.ROOMS_FRAME_RATE = (5, 10.0)
    client = await clients.connect(alice)
    for n in range(5):
        await client.send({"type": "ping", "ref": f"p{n}"})
        await client.expect("pong")
    error = await client.error({"type": "ping", "ref": "p5"}, "rate_limited", ref="p5")
    assert 0 < error["retry_after"] <= 10
    # Shape errors keep their own code, by precedence.
    await client.error({"type": "join", "room": 5}, "invalid", field="room")
    await client.error({"type": "send", "room": "lobby", "body": "hi"}, "not_joined")


async def test_one_socket_more_than_the_cap_is_closed_with_4429(clients, alice, settings):
    settings.ROOMS_MAX_SOCKETS_PER_USER = 2
    await clients.connect(alice)
    await clients.connect(alice)
    accepted, _, extra = await clients.handshake("/ws/", await _token_header(alice))
    assert accepted
    await extra.expect("error", code="rate_limited")
    assert await extra.closed() == protocol.CLOSE_TOO_MANY_SOCKETS


async def test_one_room_more_than_the_cap_is_rate_limited(clients, alice, room_factory, settings):
    settings.ROOMS_MAX_ROOMS_PER_SOCKET = 2
    for slug in ("a", "b", "c"):
        await database_sync_to_async(room_factory)(slug)
    client = await clients.connect(alice)
    await client.join("a")
    await client.join("b")
    await client.join("a")  # a re-join is no new room
    await client.error({"type": "join", "room": "c"}, "rate_limited", skip=("backfill",))


async def test_history_pages_stay_within_256_kib_keeping_the_newest(clients, alice, lobby):
    body = "\x01" * 4000  # each escapes to six bytes of JSON
    for _ in range(50):
        await post("lobby", body, author=alice)
    client = await clients.connect(alice)
    await client.join("lobby", since=50)
    await client.send({"type": "history", "room": "lobby", "limit": 50})
    text = await _next_text_of(client, "history")
    assert len(text.encode()) <= 256 * 1024
    page = json.loads(text)
    seqs = [message["seq"] for message in page["messages"]]
    assert seqs == list(range(51 - len(seqs), 51)) and len(seqs) < 50
    assert page["has_more"] is True


async def _token_header(user):
    from tests.harness.inprocess import issue_token

    return [(b"authorization", f"Bearer {await issue_token(user)}".encode())]


async def _next_text_of(client, kind: str) -> str:
    while True:
        text = await client.recv_text()
        if json.loads(text)["type"] == kind:
            return text


# --- extension: the `rooms` frame -------------------------------------------------------


async def test_a_membership_given_reaches_every_socket_of_the_user_as_a_rooms_frame(
    clients, alice, bob, room_factory
):
    room = await database_sync_to_async(room_factory)("backstage", is_private=True, members=[bob])
    first, second = await clients.connect(alice), await clients.connect(alice)
    onlooker = await clients.connect(bob)
    await database_sync_to_async(services.membership_set_role)(room=room, user=alice)
    assert await first.next_of("rooms") == {"type": "rooms"}
    assert await second.next_of("rooms") == {"type": "rooms"}
    # Now she may join it; others' memberships told her nothing else.
    assert (await first.join("backstage"))["room"] == "backstage"
    assert "rooms" not in await onlooker.drain()


async def test_a_removal_sends_left_before_the_rooms_frame(clients, alice, secret):
    client = await clients.connect(alice)
    await client.join("secret")
    await database_sync_to_async(services.membership_remove)(room=secret, user=alice)
    assert (await client.next_of("left", skip=("backfill",)))["reason"] == "removed"
    assert await client.next_of("rooms") == {"type": "rooms"}


async def test_a_read_still_coalescing_is_stored_when_the_socket_closes(clients, alice, lobby):
    """The last read of a burst waits for the interval; a tab closed before
    it is due still moves the cursor there (else what was read would come
    back as unread, badged and notified)."""
    await seed("lobby", 5)
    reader = await clients.connect(alice)
    await reader.join("lobby")
    for seq in (1, 5):
        await reader.send({"type": "read", "room": "lobby", "seq": seq})
    await reader.send({"type": "ping", "ref": "sent"})
    await reader.next_of("pong", skip=("backfill", "read"))
    await reader.close()
    cursor = await database_sync_to_async(ReadCursor.objects.get)(user=alice, room=lobby)
    assert cursor.seq == 5
