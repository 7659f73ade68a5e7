"""The per-room notification setting: all, mentions (the default) or none,
stored per (user, room) apart from Membership, behind a session+CSRF JSON
endpoint (docs/api.md)."""

import json

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.models import Membership, NotificationSetting


def url(slug: str) -> str:
    return f"/api/rooms/{slug}/notifications"


@pytest.fixture
def browser(alice):
    """A logged-in browser whose unsafe requests must carry the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/")  # sets the csrftoken cookie
    return client


def put(client: Client, slug: str, body, csrf: bool = True):
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value} if csrf else {}
    return client.put(url(slug), json.dumps(body), content_type="application/json", headers=headers)


def test_the_default_is_mentions_only(browser, lobby):
    assert browser.get(url("lobby")).json() == {"room": "lobby", "level": "mentions"}


def test_a_setting_is_stored_per_user_and_room(browser, alice, bob, lobby, room_factory):
    room_factory("attic")
    assert put(browser, "lobby", {"level": "all"}).json() == {"room": "lobby", "level": "all"}
    assert browser.get(url("lobby")).json()["level"] == "all"
    assert browser.get(url("attic")).json()["level"] == "mentions"
    assert selectors.notification_level(user=bob, room_id=lobby.id) == "mentions"
    assert put(browser, "lobby", {"level": "none"}).status_code == 200
    assert NotificationSetting.objects.get(user=alice, room=lobby).level == "none"
    assert selectors.notification_levels(user=alice) == {"lobby": "none"}


def test_a_setting_grants_no_membership(browser, alice, lobby):
    put(browser, "lobby", {"level": "all"})
    assert not Membership.objects.filter(user=alice, room=lobby).exists()


def test_a_session_request_without_the_csrf_token_is_refused(browser, lobby):
    response = put(browser, "lobby", {"level": "all"}, csrf=False)
    assert response.status_code == 403
    assert not NotificationSetting.objects.exists()


def test_an_unknown_level_is_invalid(browser, lobby):
    response = put(browser, "lobby", {"level": "loud"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "level"


def test_a_private_room_of_others_is_not_found(browser, bob, room_factory):
    room_factory("secret", is_private=True, members=[bob])
    assert browser.get(url("secret")).status_code == 404
    assert put(browser, "secret", {"level": "all"}).status_code == 404


def test_anonymous_requests_need_authentication(client, lobby):
    assert client.get(url("lobby")).status_code == 401


def test_the_room_page_hands_the_script_its_setting_and_members(browser, alice, bob, lobby):
    services.membership_set_role(room=lobby, user=bob, role="member")
    put(browser, "lobby", {"level": "all"})
    html = browser.get("/rooms/lobby/").content.decode()
    config = json.loads(html.split('id="rooms-config" type="application/json">')[1].split("<")[0])
    assert config["notify"] == "all"
    assert "bob" in config["members"]
