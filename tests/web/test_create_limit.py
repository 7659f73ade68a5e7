"""What one person starts, refused on the pages past ROOMS_CREATE_RATE
(docs/room-management.md, Limits): the room list's create form, `/direct/`
for a new conversation and the manage page's invitation answer 429 with
`Retry-After` and say why on their form, as the API does
(tests/services/test_create_rate.py)."""

import re

import pytest
from django.test import Client

from rooms import services
from rooms.models import Membership, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def spent(settings, alice):
    """alice's one start of the period is spent (on a room she moderates)."""
    settings.ROOMS_CREATE_RATE = (1, 3600)
    return services.room_create_by(by=alice, slug="mine", title="Mine")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_refused_for_the_limit(response, form_id: str) -> None:
    assert response.status_code == 429
    assert 3500 < int(response["Retry-After"]) <= 3600
    html = response.content.decode()
    start = html.index(f'id="{form_id}"')
    form = html[start : html.index("</form>", start)]
    assert "At most 1 new rooms, conversations and invitations per 3600 seconds." in form
    assert re.search(r"Try again in (59|60) minutes\.", form)


def test_the_create_form_past_the_limit_is_429_with_the_reason(alice, spent):
    response = signed_in(alice).post("/", {"title": "Another", "slug": "another"})
    assert_refused_for_the_limit(response, "create-room")
    assert not Room.objects.filter(slug="another").exists()


def test_a_new_conversation_past_the_limit_is_429_with_the_reason(alice, bob, spent):
    response = signed_in(alice).post("/direct/", {"users": "bob"})
    assert_refused_for_the_limit(response, "direct-new")
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_an_existing_conversation_opens_past_the_limit(settings, alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    settings.ROOMS_CREATE_RATE = (1, 3600)
    response = signed_in(alice).post("/direct/", {"users": "bob"})
    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.slug}/"


def test_an_invitation_past_the_limit_is_429_with_the_reason(alice, bob, spent):
    response = signed_in(alice).post(
        "/rooms/mine/manage/", {"action": "invite", "user": "bob", "role": "member"}
    )
    assert_refused_for_the_limit(response, "invite")
    assert not Membership.objects.filter(room=spent, user=bob).exists()


def test_other_refusals_keep_their_400(alice, spent):
    response = signed_in(alice).post(
        "/rooms/mine/manage/", {"action": "invite", "user": "nobody", "role": "member"}
    )
    assert response.status_code == 400 and "Retry-After" not in response
