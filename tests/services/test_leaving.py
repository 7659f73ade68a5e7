"""Leaving (docs/room-management.md, Leaving; docs/direct-messages.md):
a member leaves a room or a group conversation, never as a room's last
moderator; a one-to-one conversation cannot be left but is hidden from the
room list until its next message."""

import pytest
from channels.db import database_sync_to_async

from rooms import broadcast, events, selectors, services
from rooms.errors import RoomsError
from rooms.models import Membership

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def published(monkeypatch):
    """The events published after commit, in order."""
    sent = []
    monkeypatch.setattr(broadcast, "publish", sent.append)
    return sent


def refused(code: str, call, **kwargs) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def listed(user) -> list[str]:
    return [room["slug"] for room in selectors.rooms_for_user(user=user)]


def watched(user) -> list[str]:
    return [room["slug"] for room in selectors.direct_conversations(user=user)]


def is_member(room, user) -> bool:
    return Membership.objects.filter(room=room, user=user).exists()


# --- rooms --------------------------------------------------------------------------


def test_a_member_leaves_a_private_room_and_their_sockets_lose_it(
    alice, bob, published, django_capture_on_commit_callbacks
):
    room = services.room_create_by(by=alice, slug="plans", is_private=True)
    services.membership_invite_by(room=room, by=alice, username="bob")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_leave(room=room, user=bob)
    assert not is_member(room, bob)
    # What a removal publishes: bob's sockets re-check and get `left`.
    assert published == [events.AccessChanged(user_id=bob.pk, room_id=room.pk)]
    assert "plans" not in listed(bob)


def test_a_member_leaves_a_public_room(alice, bob):
    room = services.room_create_by(by=alice, slug="open")
    services.membership_invite_by(room=room, by=alice, username="bob")
    services.membership_leave(room=room, user=bob)
    assert not is_member(room, bob)
    assert "open" in listed(bob)  # still public


def test_the_last_moderator_may_not_leave(alice):
    room = services.room_create_by(by=alice, slug="plans")
    error = refused("invalid", services.membership_leave, room=room, user=alice)
    assert "appoint another moderator first" in error.message
    assert is_member(room, alice)


def test_a_moderator_leaves_when_another_stays(alice, bob):
    room = services.room_create_by(by=alice, slug="plans")
    services.membership_invite_by(room=room, by=alice, username="bob", role=Role.MODERATOR)
    services.membership_leave(room=room, user=alice)
    assert not is_member(room, alice)


def test_leaving_a_room_one_is_not_a_member_of_is_not_found(alice, bob):
    room = services.room_create_by(by=alice, slug="open")
    refused("not_found", services.membership_leave, room=room, user=bob)


# --- direct conversations -------------------------------------------------------------------


def test_a_group_conversation_is_left_and_its_people_stay_fixed(alice, bob, carol, published):
    room, _ = services.direct_open(user=alice, others=[bob, carol])
    services.membership_leave(room=room, user=carol)
    assert not is_member(room, carol)
    assert selectors.direct_people(user=alice, room_id=room.id) == ["bob"]
    # Leaving is the only change of its people: nobody is added or removed.
    refused("invalid", services.membership_remove, room=room, user=bob)
    refused("invalid", services.membership_set_role, room=room, user=carol)


def test_a_one_to_one_conversation_cannot_be_left(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    refused("invalid", services.membership_leave, room=room, user=bob)
    assert is_member(room, bob)


def test_a_group_left_down_to_two_people_cannot_be_left_further(alice, bob, carol):
    room, _ = services.direct_open(user=alice, others=[bob, carol])
    services.membership_leave(room=room, user=carol)
    refused("invalid", services.membership_leave, room=room, user=bob)


def test_a_hidden_conversation_leaves_the_lists_until_its_next_message(alice, bob, published):
    room, _ = services.direct_open(user=alice, others=[bob])
    services.message_post(room=room, author=alice, body="hi")
    services.direct_hide(room=room, user=bob)
    assert Membership.objects.get(room=room, user=bob).hidden_at_seq == 1
    assert room.slug not in listed(bob)
    assert room.slug not in watched(bob)
    assert room.slug in listed(alice)  # hidden for bob alone
    services.message_post(room=room, author=alice, body="again")
    assert room.slug in listed(bob)
    assert room.slug in watched(bob)


def test_hiding_tells_the_users_pages_and_a_new_message_brings_it_back_live(
    alice, bob, published, django_capture_on_commit_callbacks
):
    room, _ = services.direct_open(user=alice, others=[bob])
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.direct_hide(room=room, user=bob)
    assert published == [events.AccessChanged(user_id=bob.pk, room_id=room.pk)]
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(room=room, author=alice, body="hi")
    assert events.AccessChanged(user_id=bob.pk, room_id=room.pk) in published
    assert Membership.objects.get(room=room, user=bob).hidden_at_seq is None
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(room=room, author=alice, body="and again")
    assert not any(isinstance(event, events.AccessChanged) for event in published)


def test_only_a_direct_conversation_of_ones_own_is_hidden(alice, bob, carol):
    room = services.room_create_by(by=alice, slug="open")
    refused("invalid", services.direct_hide, room=room, user=alice)
    conversation, _ = services.direct_open(user=alice, others=[bob])
    refused("not_found", services.direct_hide, room=conversation, user=carol)


@pytest.mark.django_db(transaction=True)
async def test_a_socket_joined_to_a_private_room_its_user_leaves_gets_left(clients, alice, bob):
    @database_sync_to_async
    def plans():
        room = services.room_create_by(by=alice, slug="plans", is_private=True)
        services.membership_invite_by(room=room, by=alice, username="bob")
        return room

    room = await plans()
    socket = await clients.connect(bob)
    await socket.join("plans")
    await database_sync_to_async(services.membership_leave)(room=room, user=bob)
    left = await socket.next_of("left", skip=("backfill",))
    assert left == {"type": "left", "room": "plans", "reason": "removed"}
