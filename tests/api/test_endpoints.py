"""The JSON API (docs/api.md) through the test client: token and session
authentication (CSRF for sessions only), the room list, keyset pages in the
message schema, idempotent publishing, and every error status with the
protocol's code. A publish reaching an open WebSocket live:
tests/integration/test_api.py.
"""

import json

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.models import Membership, Message

pytestmark = pytest.mark.django_db

ROOMS = "/api/rooms/"


def messages_url(slug: str) -> str:
    return f"/api/rooms/{slug}/messages"


@pytest.fixture
def api(alice):
    """A client that authenticates with alice's API token and, like any
    script, sends no CSRF token."""
    token = services.api_token_issue(user=alice)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def publish(client, slug="lobby", **payload):
    return client.post(messages_url(slug), json.dumps(payload), content_type="application/json")


def post(room, body="hi", **extra):
    return services.message_post(room=room, author=None, body=body, check_rate=False, **extra)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def stored(room, seq: int) -> dict:
    rows = selectors.entries_after(room_id=room.id, slug=room.slug, after=seq - 1, limit=1)
    return json.loads(rows[0][1])


# --- authentication ----------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer rooms_not-a-token", "Bearer ", "Basic YWxpY2U6cGFzcw==", "rooms_bare"],
)
def test_requests_without_a_valid_token_or_session_are_401(lobby, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = Client(headers=headers).get(ROOMS)
    assert error_of(response, 401)["code"] == "auth_required"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(api, alice, lobby):
    services.api_token_revoke_all(user=alice)
    assert error_of(api.get(ROOMS), 401)["code"] == "auth_required"


def test_a_token_of_a_deactivated_user_is_401(api, alice, lobby):
    alice.is_active = False
    alice.save()
    assert error_of(publish(api, body="hi"), 401)["code"] == "auth_required"


def test_token_requests_need_no_csrf_token(api, lobby):
    assert publish(api, body="from a bot").status_code == 201


def test_session_requests_must_pass_the_csrf_check(alice, lobby):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get(ROOMS).status_code == 200
    assert error_of(publish(browser, body="forged"), 403)["code"] == "forbidden"
    assert not Message.objects.exists()
    browser.get("/admin/login/")  # any page with a form sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        messages_url("lobby"),
        json.dumps({"body": "from the page"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201


# --- GET /api/rooms/ ----------------------------------------------------------------


def test_room_list_shows_visible_rooms_with_head_and_unread(api, alice, lobby, room_factory):
    room_factory("secret", is_private=True)
    room_factory("team", is_private=True, members=[alice])
    for n in range(3):
        post(lobby, f"m{n}")
    services.read_cursor_advance(user=alice, room=lobby, seq=1)
    rooms = {room["slug"]: room for room in api.get(ROOMS).json()["rooms"]}
    assert sorted(rooms) == ["lobby", "team"]
    assert (rooms["lobby"]["head"], rooms["lobby"]["unread"], rooms["lobby"]["title"]) == (
        3,
        2,
        "Lobby",
    )
    assert rooms["team"]["private"] is True and rooms["team"]["head"] == 0


# --- GET /api/rooms/<slug>/messages -------------------------------------------------


def test_after_pages_upwards_in_the_message_schema(api, lobby):
    for n in range(1, 6):
        post(lobby, f"m{n}")
    page = api.get(messages_url("lobby"), {"after": 1, "limit": 2}).json()
    assert [m["seq"] for m in page["messages"]] == [2, 3]
    assert page["messages"][0] == stored(lobby, 2)
    assert (page["room"], page["head"], page["has_more"]) == ("lobby", 5, True)
    last = api.get(messages_url("lobby"), {"after": 3}).json()
    assert [m["seq"] for m in last["messages"]] == [4, 5] and last["has_more"] is False


def test_before_pages_downwards_and_the_default_is_the_newest(api, lobby):
    for n in range(1, 6):
        post(lobby, f"m{n}")
    page = api.get(messages_url("lobby"), {"before": 4, "limit": 2}).json()
    assert [m["seq"] for m in page["messages"]] == [2, 3] and page["has_more"] is True
    newest = api.get(messages_url("lobby"), {"limit": 2}).json()
    assert [m["seq"] for m in newest["messages"]] == [4, 5]
    assert [m["seq"] for m in api.get(messages_url("lobby")).json()["messages"]] == [1, 2, 3, 4, 5]


def test_a_deleted_message_keeps_its_seq_with_an_empty_body(api, lobby, alice):
    services.message_post(room=lobby, author=alice, body="rude")
    services.entry_post(room=lobby, author=alice, kind="delete", target=1)
    (message,) = api.get(messages_url("lobby")).json()["messages"]
    assert (message["seq"], message["body"], message["deleted"]) == (1, "", True)
    # `after` pages through the log: the deletion is an entry of it.
    log = api.get(messages_url("lobby"), {"after": 0}).json()["messages"]
    assert [(entry["seq"], entry["kind"]) for entry in log] == [(1, "text"), (2, "delete")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"after": "-1"}, "after"),
        ({"after": "1.5"}, "after"),
        ({"after": "soon"}, "after"),
        ({"before": str(2**53)}, "before"),
        ({"after": "9" * 5000}, "after"),  # past Python's int-size guard: still a 400
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"after": "1", "before": "3"}, "before"),
    ],
)
def test_bad_page_parameters_are_400_invalid(api, lobby, query, field):
    error = error_of(api.get(messages_url("lobby"), query), 400)
    assert (error["code"], error["field"]) == ("invalid", field)


def test_unknown_and_invisible_rooms_are_404(api, room_factory):
    room_factory("secret", is_private=True)
    for slug in ("nowhere", "secret", "not%20a%20slug"):
        assert error_of(api.get(messages_url(slug)), 404)["code"] == "not_found"
        assert error_of(publish(api, slug, body="hi"), 404)["code"] == "not_found"


def test_unknown_endpoints_and_methods_get_json_errors(api, lobby):
    assert error_of(api.get("/api/nothing/here"), 404)["code"] == "not_found"
    response = api.put(messages_url("lobby"), "{}", content_type="application/json")
    assert error_of(response, 405)["code"] == "invalid"
    assert response["Allow"] == "GET, POST"


# --- POST /api/rooms/<slug>/messages ------------------------------------------------


def test_publish_stores_the_message_and_returns_it_with_201(api, lobby):
    response = publish(api, body="deploy finished ✓", client_id="ci-42")
    assert response.status_code == 201
    reply = response.json()
    assert reply["duplicate"] is False
    assert reply["message"] == stored(lobby, 1)
    assert (reply["message"]["author"], reply["message"]["client_id"]) == ("alice", "ci-42")


def test_publish_with_a_repeated_client_id_is_200_duplicate_with_the_original(api, lobby):
    first = publish(api, body="once", client_id="ci-42").json()["message"]
    response = publish(api, body="again", client_id="ci-42")
    assert response.status_code == 200
    assert response.json() == {"message": first, "duplicate": True}
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"body": "   "}', "body"),
        ('{"client_id": "c"}', "body"),
        ('{"body": 42}', "body"),
        ('{"body": "' + "x" * 4001 + '"}', "body"),
        ('{"body": "hi", "client_id": ""}', "client_id"),
        ('{"body": NaN}', None),
        ("not json", None),
        ('["body"]', None),
    ],
)
def test_publish_with_a_bad_body_is_400_invalid(api, lobby, raw, field):
    response = api.post(messages_url("lobby"), raw, content_type="application/json")
    error = error_of(response, 400)
    assert (error["code"], error.get("field")) == ("invalid", field)
    assert not Message.objects.exists()


def test_publish_by_a_read_only_member_is_403(api, alice, lobby):
    services.membership_set_role(user=alice, room=lobby, role=Membership.Role.READ_ONLY)
    assert error_of(publish(api, body="hi"), 403)["code"] == "forbidden"


def test_publish_to_an_archived_room_is_409_read_only(api, room_factory):
    room_factory("attic", is_archived=True)
    assert error_of(publish(api, "attic", body="hi"), 409)["code"] == "read_only"


def test_a_request_over_the_frame_limit_is_413(api, lobby):
    raw = json.dumps({"body": "hi", "padding": "x" * 70_000})
    response = api.post(messages_url("lobby"), raw, content_type="application/json")
    assert error_of(response, 413)["code"] == "too_large"


def test_publishing_too_fast_is_429_with_retry_after(api, lobby, settings):
    settings.ROOMS_RATE_LIMIT = (2, 60.0)
    sent = [publish(api, body=f"m{n}", client_id=f"c{n}").status_code for n in range(2)]
    assert sent == [201, 201]
    response = publish(api, body="one too many")
    error = error_of(response, 429)
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 60
    assert 1 <= int(response["Retry-After"]) <= 60
    # A repeat is still answered at the limit (G4), and stores nothing.
    assert publish(api, body="m0", client_id="c0").status_code == 200
    assert Message.objects.count() == 2


def test_a_repeat_is_still_200_duplicate_after_the_room_is_archived(api, lobby):
    first = publish(api, body="once", client_id="ci-7").json()["message"]
    services.room_update(room=lobby, is_archived=True)
    response = publish(api, body="once", client_id="ci-7")
    assert (response.status_code, response.json()["message"]) == (200, first)
    assert error_of(publish(api, body="new", client_id="ci-8"), 409)["code"] == "read_only"
