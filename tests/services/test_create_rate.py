"""What one person may start per period (docs/room-management.md, Limits):
rooms created, direct conversations opened and invitations count together
against ROOMS_CREATE_RATE, counted from the database; past it, `rate_limited`
with the seconds until a slot frees. Operators' writes and staff are not
limited, nor is reopening a conversation that exists."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rooms import services
from rooms.errors import RoomsError
from rooms.models import Room

pytestmark = pytest.mark.django_db


def create(user, n: int):
    return services.room_create_by(by=user, slug=f"{user.get_username()}-{n}")


def rate_limited(call, **kwargs) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        call(**kwargs)
    assert caught.value.code == "rate_limited", caught.value.message
    return caught.value


def test_the_31st_room_in_the_period_is_refused_with_retry_after(settings, alice):
    settings.ROOMS_CREATE_RATE = (30, 3600)
    for n in range(30):
        create(alice, n)
    error = rate_limited(services.room_create_by, by=alice, slug="alice-30")
    assert error.status == 429
    assert 3500 < error.retry_after <= 3600
    assert not Room.objects.filter(slug="alice-30").exists()


def test_rooms_conversations_and_invitations_share_one_budget(settings, alice, user_factory):
    settings.ROOMS_CREATE_RATE = (3, 60)
    room = create(alice, 0)
    services.membership_invite_by(room=room, by=alice, username=user_factory("bob").username)
    services.direct_open(user=alice, others=[user_factory("carol")])
    dave = user_factory("dave")
    rate_limited(services.membership_invite_by, room=room, by=alice, username=dave.username)
    rate_limited(services.direct_open, user=alice, others=[dave])
    rate_limited(services.room_create_by, by=alice, slug="alice-1")


def test_a_slot_frees_when_the_oldest_start_leaves_the_period(settings, alice):
    from rooms.models import RecentStart  # the table of starts (new with the limit)

    settings.ROOMS_CREATE_RATE = (2, 60)
    create(alice, 0)
    create(alice, 1)
    first = RecentStart.objects.filter(user=alice).order_by("created_at").first()
    RecentStart.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=50)
    )
    error = rate_limited(services.room_create_by, by=alice, slug="alice-2")
    assert 9 < error.retry_after <= 10.5
    RecentStart.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=61)
    )
    assert create(alice, 2).slug == "alice-2"


def test_off_disables_the_limit(settings, alice):
    settings.ROOMS_CREATE_RATE = None
    for n in range(35):
        create(alice, n)


def test_two_users_have_separate_budgets(settings, alice, bob):
    settings.ROOMS_CREATE_RATE = (2, 3600)
    create(alice, 0)
    create(alice, 1)
    rate_limited(services.room_create_by, by=alice, slug="alice-2")
    create(bob, 0)
    create(bob, 1)


def test_reopening_a_conversation_is_not_a_start(settings, alice, bob):
    settings.ROOMS_CREATE_RATE = (1, 3600)
    room, created = services.direct_open(user=alice, others=[bob])
    assert created
    for _ in range(3):
        assert services.direct_open(user=alice, others=[bob]) == (room, False)
        assert services.direct_open(user=bob, others=[alice]) == (room, False)


def test_a_refused_start_spends_nothing(settings, alice):
    settings.ROOMS_CREATE_RATE = (2, 3600)
    create(alice, 0)
    with pytest.raises(RoomsError) as caught:
        services.room_create_by(by=alice, slug="alice-0")  # taken
    assert caught.value.code == "invalid"
    assert create(alice, 1).slug == "alice-1"  # the refused one did not count
    rate_limited(services.room_create_by, by=alice, slug="alice-2")


def test_operators_and_staff_are_not_limited(settings, alice, user_factory):
    settings.ROOMS_CREATE_RATE = (1, 3600)
    boss = user_factory("boss", is_staff=True)
    for n in range(3):
        room = services.room_create(slug=f"ops-{n}", moderator=alice)
        services.membership_set_role(room=room, user=boss, role="member")
        services.room_create_by(by=boss, slug=f"boss-{n}")
        services.membership_invite_by(room=room, by=boss, username=f"guest-{n}")


@pytest.fixture(autouse=True)
def guests(user_factory):
    for n in range(3):
        user_factory(f"guest-{n}")


def test_the_api_answers_429_with_retry_after_past_the_limit(settings, alice, bob):
    settings.ROOMS_CREATE_RATE = (1, 3600)
    token = services.api_token_issue(user=alice)
    api = Client(headers={"Authorization": f"Bearer {token}"})
    create = api.post("/api/rooms/", {"slug": "mine"}, content_type="application/json")
    assert create.status_code == 201
    refused = api.post("/api/direct", {"users": ["bob"]}, content_type="application/json")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and 3500 < error["retry_after"] <= 3600
    assert int(refused["Retry-After"]) > 3500
