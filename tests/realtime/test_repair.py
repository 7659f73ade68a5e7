"""The hub's repair loop (rooms/realtime/repair.py): what no event announced
reaches the sockets within one ROOMS_REPAIR_INTERVAL (a post, a room's new
title, a membership gone, credentials that ended), and a hub that cannot
read the database for MAX_REPAIR_FAILURES intervals closes its sockets with
4503. Changes are made without their events, as if the layer had lost them;
a socket's user is brought up to date (staff lost), a session that a
logout or a password change ended closes its socket.
Fake sockets and layer, a clock the test moves; rows through the services."""

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from rooms import protocol, selectors, services
from rooms.models import Membership, Room
from rooms.realtime.repair import MAX_REPAIR_FAILURES
from tests.harness.inprocess import post

from .fakes import FakeSocket, join

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def secret(room_factory, alice):
    return room_factory("secret", is_private=True, members=[alice])


@contextlib.contextmanager
def events_lost(hub):
    """What is published meanwhile never reaches the hub (a layer that
    dropped it, or a process on the in-memory layer)."""
    hub.ingest = lambda message, local=False: None
    try:
        yield
    finally:
        del hub.ingest


async def connect(hub, user) -> FakeSocket:
    """A socket of `user` opened with an API token, as the consumer attaches
    it to the hub."""
    token = await database_sync_to_async(services.api_token_issue)(user=user)
    credentials = ("token", services.token_hash(token))
    socket = FakeSocket(user.username, user=user, credentials=credentials)
    await hub.attach_user(user.pk, socket)
    await asyncio.get_running_loop().idle()  # the hub's loops count from here
    return socket


async def next_repair(hub, clock) -> None:
    await clock.advance(hub.repair_interval)


# --- the heads and the rooms --------------------------------------------------


async def test_a_post_no_event_announced_is_delivered_at_the_next_repair(hub, clock, alice, lobby):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    with events_lost(hub):
        seq = await post("lobby", "unannounced")
    await clock.idle()
    assert socket.seqs() == []
    await next_repair(hub, clock)
    assert socket.seqs() == [seq]


async def test_a_room_renamed_without_its_event_sends_the_room_frame_at_the_next_repair(
    hub, clock, alice, lobby
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)
    await database_sync_to_async(Room.objects.filter(pk=lobby.pk).update)(title="Renamed")
    await next_repair(hub, clock)
    assert socket.of_type("room") == [
        {"type": "room", "room": "lobby", "title": "Renamed", "read_only": False}
    ]


async def test_after_max_repair_failures_in_a_row_the_sockets_are_closed_with_4503(
    hub, clock, alice, lobby, monkeypatch
):
    socket = FakeSocket("alice")
    await join(hub, socket, alice, lobby)

    def unavailable(**kwargs):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(selectors, "room_states", unavailable)
    for _ in range(MAX_REPAIR_FAILURES - 1):
        await next_repair(hub, clock)
    assert socket.closed_with is None
    await next_repair(hub, clock)
    assert socket.closed_with == protocol.CLOSE_UNAVAILABLE


# --- what the sockets may still do --------------------------------------------


async def test_a_private_rooms_member_removed_without_the_event_loses_it_at_the_next_repair(
    hub, clock, alice, secret
):
    socket = await connect(hub, alice)
    subscription = await join(hub, socket, alice, secret)
    membership = Membership.objects.filter(room=secret, user=alice)
    await database_sync_to_async(membership.delete)()
    await next_repair(hub, clock)
    assert socket.lost == [subscription]
    assert socket.ended == []


async def test_a_role_changed_without_the_event_sends_the_room_frame_at_the_next_repair(
    hub, clock, alice, secret
):
    socket = await connect(hub, alice)
    await join(hub, socket, alice, secret)
    membership = Membership.objects.filter(room=secret, user=alice)
    await database_sync_to_async(membership.update)(role=Membership.Role.READ_ONLY)
    await next_repair(hub, clock)
    assert socket.of_type("room") == [
        {"type": "room", "room": "secret", "title": "secret", "read_only": True}
    ]
    assert socket.lost == []


async def test_a_revoked_token_ends_its_socket_at_the_next_repair(hub, clock, alice, bob, lobby):
    revoked, kept = await connect(hub, alice), await connect(hub, bob)
    await database_sync_to_async(services.api_token_revoke_all)(user=alice)
    await next_repair(hub, clock)
    assert revoked.ended == [(protocol.CLOSE_UNAUTHENTICATED, "The API token was revoked.")]
    assert kept.ended == []


async def test_a_deactivated_users_socket_ends_at_the_next_repair(hub, clock, alice, lobby):
    socket = await connect(hub, alice)
    await join(hub, socket, alice, lobby)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    await next_repair(hub, clock)
    assert socket.ended == [(protocol.CLOSE_UNAUTHENTICATED, "The account is deactivated.")]


@database_sync_to_async
def login(user) -> str:
    """A session of `user` as a login makes it (with the password's hash)."""
    browser = Client()
    browser.force_login(user)
    return browser.cookies["sessionid"].value


async def connect_with_session(hub, clock, user, session_key: str) -> FakeSocket:
    """A socket of `user` opened with a session cookie; the hub's loops are
    started (and so count their first interval) when it returns."""
    socket = FakeSocket(user.username, user=user, credentials=("session", session_key))
    await hub.attach_user(user.pk, socket)
    await clock.idle()
    return socket


async def test_a_logged_out_sessions_socket_ends_at_the_next_repair(hub, clock, alice, bob):
    key = await login(alice)
    ended, kept = await connect_with_session(hub, clock, alice, key), await connect(hub, bob)
    await database_sync_to_async(Session.objects.filter(session_key=key).delete)()
    await next_repair(hub, clock)
    assert ended.ended == [(protocol.CLOSE_UNAUTHENTICATED, "The session has ended.")]
    assert kept.ended == []


async def test_a_password_change_ends_the_sockets_of_the_sessions_it_ended(hub, clock, alice):
    """Django's get_user: a session whose stored hash is not the password's
    current one is over. The session the password was changed from was given
    the new hash (update_session_auth_hash) and goes on."""
    before = await connect_with_session(hub, clock, alice, await login(alice))
    alice.set_password("a-new-password-456")
    await database_sync_to_async(alice.save)()
    after = await connect_with_session(hub, clock, alice, await login(alice))
    await next_repair(hub, clock)
    assert before.ended == [(protocol.CLOSE_UNAUTHENTICATED, "The session has ended.")]
    assert after.ended == []


async def test_a_session_of_another_user_ends_the_socket(hub, clock, alice, bob):
    """A socket's session must still log in its own user."""
    socket = await connect_with_session(hub, clock, alice, await login(bob))
    await next_repair(hub, clock)
    assert socket.ended == [(protocol.CLOSE_UNAUTHENTICATED, "The session has ended.")]


async def test_lost_staff_reaches_the_sockets_user_at_the_next_repair(hub, clock, user_factory):
    """The group commit decides a delete with the socket's user: its rights
    are re-read with `is_active`, so a frame after the next repair is decided
    with what the user may do now."""
    carol = await database_sync_to_async(user_factory)("carol", is_staff=True, is_superuser=True)
    socket = await connect(hub, carol)
    rights = get_user_model().objects.filter(pk=carol.pk)
    await database_sync_to_async(rights.update)(is_staff=False, is_superuser=False)
    await next_repair(hub, clock)
    assert (socket.user.is_staff, socket.user.is_superuser) == (False, False)
    assert socket.ended == []
    await database_sync_to_async(rights.update)(is_staff=True)
    await next_repair(hub, clock)
    assert socket.user.is_staff
