"""Leaving a room and hiding a conversation from its page
(docs/room-management.md, Leaving; docs/direct-messages.md): the room page
offers "Leave room", "Leave conversation" or "Hide conversation" where it
applies, a POST form with the CSRF token; done, the room list says so;
refused, the room page says why. In Chromium: tests/browser/test_leave.py."""

import re

import pytest
from django.test import Client

from rooms import services
from rooms.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def plans(alice, bob):
    """A private room alice moderates, bob a plain member."""
    room = services.room_create_by(by=alice, slug="plans", title="Plans", is_private=True)
    services.membership_invite_by(room=room, by=alice, username="bob")
    return room


def signed_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def control(html: str) -> str:
    """The page's leave (or hide) form, as rendered."""
    match = re.search(r'<form method="post" id="leave-form".*?</form>', html, re.S)
    assert match, "no leave form on the page"
    return match.group(0)


def is_member(room, user) -> bool:
    return Membership.objects.filter(room=room, user=user).exists()


# --- the control --------------------------------------------------------------------


def test_a_member_is_offered_to_leave_the_room_with_a_question_first(bob, plans):
    form = control(signed_in(bob).get("/rooms/plans/").content.decode())
    assert 'action="/rooms/plans/leave/"' in form and " hidden" not in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert ">Leave room</button>" in form
    assert 'data-confirm="Leave Plans? It is private: only an invitation brings you back."' in form


def test_someone_who_is_not_a_member_has_nothing_to_leave(carol, room_factory):
    room_factory("lobby", title="Lobby")
    form = control(signed_in(carol).get("/rooms/lobby/").content.decode())
    assert re.search(r"\shidden[\s>]", form)  # there for a role that may come, hidden


def test_a_conversation_of_two_is_hidden_not_left(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    form = control(signed_in(alice).get(f"/rooms/{room.slug}/").content.decode())
    assert f'action="/rooms/{room.slug}/hide/"' in form
    assert ">Hide conversation</button>" in form
    assert "data-confirm" not in form and "Leave" not in form


def test_a_group_conversation_is_left(alice, bob, carol):
    room, _ = services.direct_open(user=alice, others=[bob, carol])
    form = control(signed_in(alice).get(f"/rooms/{room.slug}/").content.decode())
    assert f'action="/rooms/{room.slug}/leave/"' in form
    assert ">Leave conversation</button>" in form
    assert "Leave the conversation with bob, carol? You cannot open it again." in form


# --- leaving ------------------------------------------------------------------------


def test_leaving_goes_to_the_room_list_which_says_so_and_no_longer_lists_the_room(bob, plans):
    client = signed_in(bob)
    response = client.post("/rooms/plans/leave/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not is_member(plans, bob)
    html = client.get("/").content.decode()
    assert "You left Plans." in html
    assert 'data-room="plans"' not in html


def test_the_last_moderator_is_told_why_they_cannot_leave(alice, plans):
    response = signed_in(alice).post("/rooms/plans/leave/")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="leave-refused">You are this room&#x27;s last moderator' in html
    assert "appoint another moderator first" in html
    assert is_member(plans, alice)


def test_a_room_one_cannot_see_is_not_found(carol, plans):
    assert signed_in(carol).post("/rooms/plans/leave/").status_code == 404
    assert signed_in(carol).post("/rooms/no-such-room/leave/").status_code == 404


def test_leaving_takes_a_post_with_the_csrf_token(bob, plans):
    assert signed_in(bob).get("/rooms/plans/leave/").status_code == 405
    assert signed_in(bob, enforce_csrf_checks=True).post("/rooms/plans/leave/").status_code == 403
    assert is_member(plans, bob)


def test_leaving_needs_a_login(client, plans):
    response = client.post("/rooms/plans/leave/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- hiding -------------------------------------------------------------------------


def test_hiding_a_conversation_goes_to_the_room_list_without_it(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    client = signed_in(alice)
    response = client.post(f"/rooms/{room.slug}/hide/")
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "The conversation with bob is hidden until its next message." in html
    assert f'data-room="{room.slug}"' not in html
    assert is_member(room, alice)  # hidden, not left


def test_a_room_is_not_hidden_and_the_page_says_why(alice, plans):
    response = signed_in(alice).post("/rooms/plans/hide/")
    assert response.status_code == 400
    assert "leave a room instead" in response.content.decode()


def test_hiding_takes_a_post(alice, bob):
    room, _ = services.direct_open(user=alice, others=[bob])
    assert signed_in(alice).get(f"/rooms/{room.slug}/hide/").status_code == 405
