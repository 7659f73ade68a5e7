"""Leaving a room and hiding a conversation through the API
(docs/room-management.md, Leaving; docs/direct-messages.md): `DELETE
/api/rooms/<slug>/members/<own username>` leaves, whoever the caller is in
the room; `POST /api/rooms/<slug>/hide` hides a conversation of two. The
rules themselves: tests/services/test_leaving.py."""

import pytest
from django.test import Client

from rooms import services
from rooms.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


def api_client(user) -> Client:
    token = services.api_token_issue(user=user)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def listed(client) -> list[str]:
    return [room["slug"] for room in client.get("/api/rooms/").json()["rooms"]]


def is_member(room, user) -> bool:
    return Membership.objects.filter(room=room, user=user).exists()


@pytest.fixture
def plans(alice, bob):
    """A private room alice moderates, bob a plain member."""
    room = services.room_create_by(by=alice, slug="plans", title="Plans", is_private=True)
    services.membership_invite_by(room=room, by=alice, username="bob")
    return room


# --- leaving ------------------------------------------------------------------------


def test_a_plain_member_leaves_by_deleting_their_own_username(bob, plans):
    api = api_client(bob)
    response = api.delete("/api/rooms/plans/members/bob")
    assert response.status_code == 204 and response.content == b""
    assert not is_member(plans, bob)
    assert "plans" not in listed(api)  # private: gone with the membership


def test_a_plain_member_still_may_not_remove_someone_else(bob, carol, plans):
    services.membership_invite_by(room=plans, by=plans.memberships.first().user, username="carol")
    response = api_client(bob).delete("/api/rooms/plans/members/carol")
    assert error_of(response, 403)["code"] == "forbidden"
    assert is_member(plans, carol)


def test_a_moderator_still_removes_someone_else(alice, bob, plans):
    assert api_client(alice).delete("/api/rooms/plans/members/bob").status_code == 204
    assert not is_member(plans, bob)


def test_the_last_moderator_is_told_to_appoint_another_first(alice, plans):
    error = error_of(api_client(alice).delete("/api/rooms/plans/members/alice"), 400)
    assert (error["code"], error["field"]) == ("invalid", "user")
    assert "appoint another moderator first" in error["message"]
    assert is_member(plans, alice)


def test_a_conversation_of_two_cannot_be_left(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    error = error_of(api_client(alice).delete(f"/api/rooms/{room.slug}/members/alice"), 400)
    assert error["code"] == "invalid" and "hide it" in error["message"]
    assert is_member(room, alice)


def test_a_group_conversation_is_left(alice, bob, carol):
    room, _ = services.direct_open(user=alice, others=[bob, carol])
    assert api_client(carol).delete(f"/api/rooms/{room.slug}/members/carol").status_code == 204
    assert not is_member(room, carol) and is_member(room, alice)


def test_leaving_a_room_one_cannot_see_is_404(carol, plans):
    error = error_of(api_client(carol).delete("/api/rooms/plans/members/carol"), 404)
    assert error["code"] == "not_found" and "field" not in error


def test_leaving_a_public_room_one_is_not_a_member_of_is_404_on_the_user(carol, room_factory):
    room_factory("lobby")
    error = error_of(api_client(carol).delete("/api/rooms/lobby/members/carol"), 404)
    assert (error["code"], error["field"]) == ("not_found", "user")


def test_a_session_leaves_only_with_the_csrf_token(bob, plans):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    assert error_of(browser.delete("/api/rooms/plans/members/bob"), 403)["code"] == "forbidden"
    assert is_member(plans, bob)


# --- hiding -------------------------------------------------------------------------


def test_a_conversation_of_two_is_hidden_until_its_next_message(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    api = api_client(alice)
    response = api.post(f"/api/rooms/{room.slug}/hide")
    assert response.status_code == 204 and response.content == b""
    assert room.slug not in listed(api)
    assert room.slug in listed(api_client(bob))  # hidden for alice only
    services.message_post(room=room, author=bob, body="still there?")
    assert room.slug in listed(api)
    assert api.post(f"/api/rooms/{room.slug}/hide/").status_code == 204  # either spelling


def test_a_room_is_not_hidden_but_left(alice, plans):
    error = error_of(api_client(alice).post("/api/rooms/plans/hide"), 400)
    assert error["code"] == "invalid" and "leave" in error["message"]


def test_hiding_a_conversation_of_others_is_404(alice, bob, carol):
    room, _ = services.direct_open(user=alice, others=[bob])
    assert error_of(api_client(carol).post(f"/api/rooms/{room.slug}/hide"), 404)["code"] == (
        "not_found"
    )
    assert room.slug in listed(api_client(alice))


def test_hide_takes_only_post(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    response = api_client(alice).get(f"/api/rooms/{room.slug}/hide")
    assert error_of(response, 405)["code"] == "invalid"
    assert response["Allow"] == "POST"
