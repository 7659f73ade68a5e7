"""Rooms people make and manage (docs/room-management.md): creation under
ROOMS_ROOM_CREATION, and what a room's moderators (and staff) do, through
the services, the manage page and the JSON API alike: rename, archive,
invite, change roles, remove. The rules: unknown users and second invites
are form errors, the last moderator stays, direct conversations are fixed,
and everyone else gets 403 (404 when they cannot see the room). What open
sockets see of it: tests/realtime/test_consumer_management.py.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from rooms import access, selectors, services
from rooms.errors import RoomsError
from rooms.models import Membership, Room

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def plans(alice, bob):
    """A private room alice made (its moderator) and bob belongs to."""
    room = services.room_create_by(by=alice, slug="plans", title="Plans", is_private=True)
    services.membership_set_role(room=room, user=bob, role=Role.MEMBER)
    return room


def role_of(room, user) -> str | None:
    return Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()


def refused(code: str, call, **kwargs) -> RoomsError:
    with pytest.raises(RoomsError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- services: creation -------------------------------------------------------------------


def test_anyone_creates_a_room_by_default_and_moderates_it(alice):
    room = services.room_create_by(by=alice, slug="mine", title="  Mine  ", is_private=True)
    assert (room.title, room.is_private) == ("Mine", True)
    assert role_of(room, alice) == Role.MODERATOR


def test_with_creation_for_staff_only_others_are_refused(settings, alice, user_factory):
    settings.ROOMS_ROOM_CREATION = "staff"
    assert not access.may_create_rooms(alice)
    refused("forbidden", services.room_create_by, by=alice, slug="mine")
    assert not Room.objects.filter(slug="mine").exists()
    boss = user_factory("boss", is_staff=True)
    assert services.room_create_by(by=boss, slug="mine").slug == "mine"
    alice.user_permissions.add(Permission.objects.get(codename="add_room"))
    alice = type(alice).objects.get(pk=alice.pk)  # no cached permissions
    assert access.may_create_rooms(alice)


def test_an_inactive_user_creates_nothing(alice):
    alice.is_active = False
    refused("forbidden", services.room_create_by, by=alice, slug="mine")


def test_a_taken_slug_or_a_long_title_is_invalid(alice, plans):
    assert refused("invalid", services.room_create_by, by=alice, slug="plans").field == "slug"
    error = refused("invalid", services.room_create_by, by=alice, slug="x", title="t" * 201)
    assert error.field == "title"


# --- services: invite, roles, removal -------------------------------------------------------


def test_a_moderator_invites_a_user_with_a_role(alice, carol, plans):
    membership = services.membership_invite_by(
        room=plans, by=alice, username="carol", role=Role.READ_ONLY
    )
    assert membership.user == carol and role_of(plans, carol) == Role.READ_ONLY
    assert access.room_access(user=carol, slug="plans") is not None


def test_inviting_an_unknown_or_inactive_user_is_invalid(alice, carol, plans):
    error = refused(
        "invalid", services.membership_invite_by, room=plans, by=alice, username="nobody"
    )
    assert error.field == "user" and "nobody" in error.message
    carol.is_active = False
    carol.save()
    refused("invalid", services.membership_invite_by, room=plans, by=alice, username="carol")
    assert role_of(plans, carol) is None


@pytest.mark.parametrize("name", ["bob\x00", "\ud800bob"])
def test_a_name_no_database_can_hold_names_nobody_rather_than_failing(alice, plans, name):
    """NUL (PostgreSQL refuses it) and a lone surrogate (no database can
    encode it): a 400 or 404 with the usual words, never a 500. Schemathesis
    found the NUL in /api/direct's names."""
    refused("invalid", services.membership_invite_by, room=plans, by=alice, username=name)
    refused("not_found", services.membership_remove_by, room=plans, by=alice, username=name)
    refused("invalid", selectors.users_named, usernames=["bob", name])
    assert selectors.usernames_starting(prefix=name) == []


def test_inviting_a_member_twice_is_invalid_and_keeps_their_role(alice, bob, plans):
    error = refused(
        "invalid",
        services.membership_invite_by,
        room=plans,
        by=alice,
        username="bob",
        role=Role.MODERATOR,
    )
    assert error.field == "user" and "already a member" in error.message
    assert role_of(plans, bob) == Role.MEMBER


def test_an_unknown_role_is_invalid(alice, carol, plans):
    error = refused(
        "invalid",
        services.membership_invite_by,
        room=plans,
        by=alice,
        username="carol",
        role="boss",
    )
    assert error.field == "role"


def test_a_moderator_changes_roles_and_removes_members(alice, bob, plans):
    services.membership_set_role_by(room=plans, by=alice, username="bob", role=Role.READ_ONLY)
    assert role_of(plans, bob) == Role.READ_ONLY
    services.membership_remove_by(room=plans, by=alice, username="bob")
    assert role_of(plans, bob) is None
    assert access.room_access(user=bob, slug="plans") is None
    error = refused(
        "not_found", services.membership_remove_by, room=plans, by=alice, username="bob"
    )
    assert error.field == "user"


def test_the_last_moderator_can_be_neither_demoted_nor_removed(alice, bob, plans):
    error = refused(
        "invalid",
        services.membership_set_role_by,
        room=plans,
        by=alice,
        username="alice",
        role=Role.MEMBER,
    )
    assert error.field == "role" and "at least one moderator" in error.message
    assert refused(
        "invalid", services.membership_remove_by, room=plans, by=alice, username="alice"
    ).field == ("user")
    assert role_of(plans, alice) == Role.MODERATOR
    # With a second moderator, either may step down.
    services.membership_set_role_by(room=plans, by=alice, username="bob", role=Role.MODERATOR)
    services.membership_remove_by(room=plans, by=alice, username="alice")
    assert role_of(plans, alice) is None and role_of(plans, bob) == Role.MODERATOR


def test_an_inactive_moderator_does_not_count_as_the_one_left(alice, bob, plans):
    services.membership_set_role_by(room=plans, by=alice, username="bob", role=Role.MODERATOR)
    bob.is_active = False
    bob.save()
    refused(
        "invalid",
        services.membership_set_role_by,
        room=plans,
        by=alice,
        username="alice",
        role=Role.MEMBER,
    )


def test_members_and_outsiders_may_not_manage(alice, bob, carol, plans, room_factory):
    refused("forbidden", services.membership_invite_by, room=plans, by=bob, username="carol")
    refused("forbidden", services.membership_remove_by, room=plans, by=bob, username="alice")
    refused("forbidden", services.room_update_by, room=plans, by=bob, title="Mine now")
    refused(
        "forbidden",
        services.membership_set_role_by,
        room=plans,
        by=bob,
        username="bob",
        role=Role.MODERATOR,
    )
    # carol cannot see the private room at all.
    refused("not_found", services.membership_invite_by, room=plans, by=carol, username="carol")
    hall = room_factory("hall")
    refused("forbidden", services.room_update_by, room=hall, by=carol, is_archived=True)
    plans.refresh_from_db()
    assert plans.title == "Plans" and role_of(plans, bob) == Role.MEMBER


def test_staff_manage_any_room_they_can_see(alice, user_factory, plans, room_factory):
    boss = user_factory("boss", is_staff=True)
    hall = room_factory("hall")
    assert services.room_update_by(room=hall, by=boss, title="Great hall", is_archived=True)
    hall.refresh_from_db()
    assert (hall.title, hall.is_archived) == ("Great hall", True)
    refused("not_found", services.room_update_by, room=plans, by=boss, title="Peek")
    services.membership_set_role(room=plans, user=boss, role=Role.MEMBER)
    services.membership_set_role_by(room=plans, by=boss, username="boss", role=Role.MODERATOR)
    assert role_of(plans, boss) == Role.MODERATOR


def direct_moderated_by(moderator, *others) -> Room:
    """A direct conversation whose `moderator` holds that role (set in the
    database: no service gives a direct conversation's people roles)."""
    direct, _ = services.direct_open(user=moderator, others=list(others))
    Membership.objects.filter(room=direct, user=moderator).update(role=Role.MODERATOR)
    return direct


def test_a_direct_conversation_cannot_be_managed(alice, bob, carol, user_factory):
    direct = direct_moderated_by(alice, bob)
    for call, kwargs in (
        (services.membership_invite_by, {"username": "carol"}),
        (services.membership_remove_by, {"username": "bob"}),
        (services.membership_set_role_by, {"username": "bob", "role": Role.READ_ONLY}),
        (services.room_update_by, {"title": "Renamed"}),
    ):
        error = refused("invalid", call, room=direct, by=alice, **kwargs)
        assert "fixed" in error.message
    refused("invalid", access.room_manager_access, user=alice, slug=direct.slug)
    assert set(Membership.objects.filter(room=direct).values_list("user__username", flat=True)) == {
        "alice",
        "bob",
    }


def test_the_manager_check_reads_visibility_then_role(alice, bob, carol, plans):
    assert access.room_manager_access(user=alice, slug="plans") == plans
    refused("forbidden", access.room_manager_access, user=bob, slug="plans")
    refused("not_found", access.room_manager_access, user=carol, slug="plans")
    refused("not_found", access.room_manager_access, user=alice, slug="nope")


def test_the_member_list_puts_moderators_first(alice, bob, carol, plans):
    services.membership_invite_by(room=plans, by=alice, username="carol", role=Role.READ_ONLY)
    members = selectors.room_members(room=plans)
    assert [(m["user"], m["role"]) for m in members] == [
        ("alice", "moderator"),
        ("bob", "member"),
        ("carol", "read_only"),
    ]


# --- the manage page -------------------------------------------------------------------------

MANAGE = "/rooms/plans/manage/"


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_room_page_links_moderators_to_the_manage_page(alice, bob, plans):
    link = f'id="manage-link" href="{MANAGE}"'
    assert f"{link}>" in logged_in(alice).get("/rooms/plans/").content.decode()
    # Hidden for a member, until a new role shows it (room-page.js).
    assert f"{link} hidden>" in logged_in(bob).get("/rooms/plans/").content.decode()


def test_the_manage_page_lists_members_and_forms(alice, plans):
    response = logged_in(alice).get(MANAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-user="bob" data-role="member"' in html
    assert 'name="csrfmiddlewaretoken"' in html and 'value="invite"' in html


ACTIONS = [
    {"action": "settings", "title": "Taken over", "is_archived": "on"},
    {"action": "invite", "user": "carol", "role": "member"},
    {"action": "role", "user": "bob", "role": "moderator"},
    {"action": "remove", "user": "alice"},
    {"action": "nonsense"},
]


@pytest.mark.parametrize("post", [None, *ACTIONS], ids=lambda p: (p and p["action"]) or "GET")
def test_a_member_who_is_not_a_moderator_gets_403(bob, carol, plans, post):
    browser = logged_in(bob)
    response = browser.get(MANAGE) if post is None else browser.post(MANAGE, post)
    assert response.status_code == 403
    plans.refresh_from_db()
    assert (plans.title, plans.is_archived, role_of(plans, carol)) == ("Plans", False, None)
    assert role_of(plans, bob) == Role.MEMBER


@pytest.mark.parametrize("post", [None, *ACTIONS], ids=lambda p: (p and p["action"]) or "GET")
def test_an_outsider_of_a_private_room_gets_404(carol, plans, post):
    browser = logged_in(carol)
    response = browser.get(MANAGE) if post is None else browser.post(MANAGE, post)
    assert response.status_code == 404
    assert role_of(plans, carol) is None


def test_an_anonymous_visitor_is_sent_to_log_in(plans):
    response = Client().post(MANAGE, {"action": "remove", "user": "bob"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_manage_page_needs_the_csrf_token(alice, bob, plans):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(MANAGE, {"action": "remove", "user": "bob"}).status_code == 403
    assert role_of(plans, bob) == Role.MEMBER


def test_a_moderator_renames_archives_and_makes_public(alice, plans):
    response = logged_in(alice).post(
        MANAGE, {"action": "settings", "title": "New plans", "is_archived": "on"}
    )
    assert response.status_code == 302 and response["Location"] == MANAGE
    plans.refresh_from_db()
    assert (plans.title, plans.is_archived, plans.is_private) == ("New plans", True, False)


def test_a_moderator_invites_changes_a_role_and_removes(alice, bob, carol, plans):
    browser = logged_in(alice)
    response = browser.post(MANAGE, {"action": "invite", "user": "carol", "role": "read_only"})
    assert response.status_code == 302
    assert "carol is now a member" in browser.get(MANAGE).content.decode()
    assert role_of(plans, carol) == Role.READ_ONLY
    browser.post(MANAGE, {"action": "role", "user": "carol", "role": "member"})
    assert role_of(plans, carol) == Role.MEMBER
    browser.post(MANAGE, {"action": "remove", "user": "bob"})
    assert role_of(plans, bob) is None


@pytest.mark.parametrize(
    ("post", "says"),
    [
        ({"action": "invite", "user": "nobody", "role": "member"}, "No user named"),
        ({"action": "invite", "user": "bob", "role": "member"}, "already a member"),
        ({"action": "invite", "user": "", "role": "member"}, "This field is required"),
        ({"action": "role", "user": "alice", "role": "member"}, "at least one moderator"),
        ({"action": "remove", "user": "alice"}, "at least one moderator"),
        ({"action": "remove", "user": "carol"}, "is not a member"),
        ({"action": "settings", "title": "t" * 201}, "at most 200 characters"),
    ],
)
def test_refused_changes_are_form_errors_with_400(alice, bob, carol, plans, post, says):
    response = logged_in(alice).post(MANAGE, post)
    assert response.status_code == 400
    html = response.content.decode()
    assert says in html.replace("&#x27;", "'")
    assert 'role="alert"' in html
    assert role_of(plans, alice) == Role.MODERATOR and role_of(plans, bob) == Role.MEMBER


def test_a_moderator_who_removes_themselves_goes_back_to_the_list(alice, bob, plans):
    services.membership_set_role_by(room=plans, by=alice, username="bob", role=Role.MODERATOR)
    response = logged_in(alice).post(MANAGE, {"action": "remove", "user": "alice"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_manage_page_of_a_direct_conversation_is_refused(alice, bob):
    direct = direct_moderated_by(alice, bob)
    response = logged_in(alice).get(f"/rooms/{direct.slug}/manage/")
    assert response.status_code == 400
    assert "fixed" in response.content.decode()


# --- creation on the room list -----------------------------------------------------------------


def test_everyone_sees_the_create_form_and_creates_by_default(alice):
    browser = logged_in(alice)
    assert "Create a room" in browser.get("/").content.decode()
    response = browser.post("/", {"slug": "ideas", "title": "Ideas", "is_private": "on"})
    assert response.status_code == 302
    assert role_of(Room.objects.get(slug="ideas"), alice) == Role.MODERATOR


def test_with_creation_for_staff_only_the_form_is_gone(settings, alice):
    settings.ROOMS_ROOM_CREATION = "staff"
    browser = logged_in(alice)
    assert "Create a room" not in browser.get("/").content.decode()
    assert browser.post("/", {"slug": "ideas"}).status_code == 403


# --- the API -------------------------------------------------------------------------------


def api_client(user) -> Client:
    token = services.api_token_issue(user=user)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def send(client, method: str, url: str, payload=None):
    body = json.dumps(payload) if payload is not None else ""
    return getattr(client, method)(url, body, content_type="application/json")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_the_api_creates_a_room_with_its_creator_as_moderator(alice):
    response = send(
        api_client(alice),
        "post",
        "/api/rooms/",
        {"slug": "ideas", "title": "Ideas", "private": True},
    )
    assert response.status_code == 201
    room = response.json()["room"]
    assert (room["slug"], room["private"], room["role"], room["can_manage"]) == (
        "ideas",
        True,
        "moderator",
        True,
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "no slug"}, "slug"),
        ({"slug": "a b"}, "slug"),
        ({"slug": "x", "private": "yes"}, "private"),
    ],
)
def test_the_api_refuses_bad_creations_with_their_field(alice, payload, field):
    assert error_of(send(api_client(alice), "post", "/api/rooms/", payload), 400)["field"] == field


def test_the_api_refuses_creation_when_only_staff_may(settings, alice):
    settings.ROOMS_ROOM_CREATION = "staff"
    response = send(api_client(alice), "post", "/api/rooms/", {"slug": "ideas"})
    assert error_of(response, 403)["code"] == "forbidden"


MANAGEMENT_CALLS = [
    ("patch", "/api/rooms/plans", {"title": "Taken over"}),
    ("patch", "/api/rooms/plans", {"archived": True}),
    ("get", "/api/rooms/plans/members", None),
    ("post", "/api/rooms/plans/members", {"user": "carol"}),
    ("patch", "/api/rooms/plans/members/bob", {"role": "moderator"}),
    ("delete", "/api/rooms/plans/members/alice", None),
    ("patch", "/api/rooms/plans/members/alice", {"role": "nonsense"}),
]


@pytest.mark.parametrize(("method", "url", "payload"), MANAGEMENT_CALLS)
def test_every_management_endpoint_is_403_for_a_member(bob, carol, plans, method, url, payload):
    assert error_of(send(api_client(bob), method, url, payload), 403)["code"] == "forbidden"
    # The session is held to the same rule.
    assert error_of(send(logged_in(bob), method, url, payload), 403)["code"] == "forbidden"
    plans.refresh_from_db()
    assert (plans.title, plans.is_archived, role_of(plans, carol)) == ("Plans", False, None)
    assert plans.memberships.get(role=Role.MODERATOR).user.get_username() == "alice"


@pytest.mark.parametrize(("method", "url", "payload"), MANAGEMENT_CALLS)
def test_every_management_endpoint_is_404_for_an_outsider(carol, plans, method, url, payload):
    assert error_of(send(api_client(carol), method, url, payload), 404)["code"] == "not_found"


def test_anyone_who_sees_a_room_reads_its_detail(bob, carol, plans, room_factory):
    detail = api_client(bob).get("/api/rooms/plans").json()["room"]
    assert (detail["title"], detail["role"], detail["can_manage"]) == ("Plans", "member", False)
    assert error_of(api_client(carol).get("/api/rooms/plans"), 404)["code"] == "not_found"


def test_a_moderator_manages_through_the_api(alice, bob, carol, plans):
    api = api_client(alice)
    response = send(api, "patch", "/api/rooms/plans", {"title": "Renamed", "archived": True})
    assert response.status_code == 200
    assert response.json()["room"]["title"] == "Renamed" and response.json()["room"]["archived"]
    response = send(api, "post", "/api/rooms/plans/members", {"user": "carol", "role": "read_only"})
    assert response.status_code == 201
    assert response.json()["member"]["user"] == "carol"
    assert response.json()["member"]["role"] == "read_only"
    response = send(api, "patch", "/api/rooms/plans/members/carol", {"role": "member"})
    assert response.status_code == 200 and response.json()["member"]["role"] == "member"
    assert send(api, "delete", "/api/rooms/plans/members/bob").status_code == 204
    members = api.get("/api/rooms/plans/members").json()["members"]
    assert [(m["user"], m["role"]) for m in members] == [
        ("alice", "moderator"),
        ("carol", "member"),
    ]


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "field"),
    [
        ("post", "/api/rooms/plans/members", {"user": "nobody"}, 400, "user"),
        ("post", "/api/rooms/plans/members", {"user": "bob"}, 400, "user"),
        ("post", "/api/rooms/plans/members", {}, 400, "user"),
        ("post", "/api/rooms/plans/members", {"user": "carol", "role": "king"}, 400, "role"),
        ("patch", "/api/rooms/plans/members/alice", {"role": "member"}, 400, "role"),
        ("delete", "/api/rooms/plans/members/alice", None, 400, "user"),
        ("patch", "/api/rooms/plans/members/carol", {"role": "member"}, 404, "user"),
        ("patch", "/api/rooms/plans", {"archived": "yes"}, 400, "archived"),
        ("patch", "/api/rooms/plans", {"title": 7}, 400, "title"),
    ],
)
def test_bad_management_input_is_an_error_with_its_field(
    alice, bob, carol, plans, method, url, payload, status, field
):
    assert error_of(send(api_client(alice), method, url, payload), status)["field"] == field
    assert role_of(plans, carol) is None and role_of(plans, alice) == Role.MODERATOR


def test_session_management_requests_must_pass_the_csrf_check(alice, bob, plans):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = send(browser, "delete", "/api/rooms/plans/members/bob")
    assert error_of(response, 403)["code"] == "forbidden"
    assert role_of(plans, bob) == Role.MEMBER
