"""The HTML pages through Django's test client: login and sign-up, the room
list with its create form, the room page, and the state each page hands to
its script. The live behaviour is in tests/browser/."""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

from rooms import services
from rooms.models import Membership, Room

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('id="rooms-config"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def alice(client, user_factory):
    user = user_factory("alice")
    client.force_login(user)
    return user


def test_pages_require_login(client, room_factory):
    room_factory("lobby")
    for url in ("/", "/rooms/lobby/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@override_settings(ROOMS_SIGNUP=True)
def test_login_page_offers_signup_only_when_enabled(client):
    assert reverse("signup") in client.get("/accounts/login/").content.decode()
    with override_settings(ROOMS_SIGNUP=False):
        assert reverse("signup") not in client.get("/accounts/login/").content.decode()


def test_login_form_logs_in_and_logout_logs_out(client, user_factory):
    user_factory("alice")
    response = client.post("/accounts/login/", {"username": "alice", "password": "test-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


@override_settings(ROOMS_SIGNUP=True)
def test_signup_creates_the_user_and_logs_in(client, django_user_model):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert django_user_model.objects.filter(username="newbie").exists()
    assert client.get("/").status_code == 200


@override_settings(ROOMS_SIGNUP=True)
def test_signup_rejects_a_weak_password_with_the_validators_message(client, django_user_model):
    response = client.post(
        "/accounts/signup/", {"username": "newbie", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not django_user_model.objects.filter(username="newbie").exists()


@override_settings(ROOMS_SIGNUP=False)
def test_signup_is_not_found_when_switched_off(client):
    assert client.get("/accounts/signup/").status_code == 404
    post = {"username": "x", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}
    assert client.post("/accounts/signup/", post).status_code == 404


def test_room_list_shows_visible_rooms_with_unread_counts(
    client, alice, room_factory, user_factory, settings
):
    from rooms import services

    settings.ROOMS_ROOM_CREATION = "staff"

    lobby = room_factory("lobby", title="The <Lobby>")
    room_factory("secret", is_private=True, members=[user_factory("bob")])
    for body in ("one", "two"):
        services.message_post(room=lobby, author=None, body=body)
    response = client.get("/")
    html = response.content.decode()
    assert "The &lt;Lobby&gt;" in html and "<Lobby>" not in html
    assert "secret" not in html
    config = page_config(response)
    assert config["page"] == "room-list" and config["user"] == "alice"
    assert [(r["slug"], r["head"], r["unread"]) for r in config["rooms"]] == [("lobby", 2, 2)]
    assert "Create a room" not in html  # not staff, and only staff may


def test_staff_creates_a_room_and_becomes_a_member(client, user_factory):
    admin = user_factory("boss", is_staff=True)
    client.force_login(admin)
    assert "Create a room" in client.get("/").content.decode()
    response = client.post("/", {"title": "Plans", "slug": "plans", "is_private": "on"})
    assert response.status_code == 302 and response["Location"] == "/rooms/plans/"
    room = Room.objects.get(slug="plans")
    assert room.title == "Plans" and room.is_private
    assert Membership.objects.filter(room=room, user=admin).exists()


def test_add_room_permission_allows_creating_without_staff(client, alice, settings):
    settings.ROOMS_ROOM_CREATION = "staff"
    alice.user_permissions.add(Permission.objects.get(codename="add_room"))
    response = client.post("/", {"title": "Ideas", "slug": "ideas"})
    assert response.status_code == 302
    assert Room.objects.filter(slug="ideas").exists()


def test_the_create_form_asks_for_a_name_and_offers_the_address_it_makes(client, alice):
    """People name a room; its address (the slug) is made from the name by the
    page's script as they type, and may be edited before it is sent."""
    html = client.get("/").content.decode()
    start = html.index('id="create-room"')
    form = html[start : html.index("</form>", start)]
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', form)
    assert labels[:2] == [("id_title", "Name"), ("id_slug", "Address")]
    assert re.search(r'<input[^>]*name="title"[^>]*required', form)
    assert not re.search(r'<input[^>]*name="slug"[^>]*required', form)
    assert '<script type="module" src="/static/rooms/room-create.js"></script>' in html


def test_an_empty_address_is_made_from_the_name(client, alice):
    response = client.post("/", {"title": "Weekend Plans: Café!", "slug": ""})
    assert response.status_code == 302 and response["Location"] == "/rooms/weekend-plans-cafe/"
    assert Room.objects.get(slug="weekend-plans-cafe").title == "Weekend Plans: Café!"


def test_a_taken_address_is_an_error_that_offers_a_free_one(client, alice, room_factory):
    room_factory("plans", title="Original")
    room_factory("plans-2")
    response = client.post("/", {"title": "Plans", "slug": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "“plans” is taken" in html and "“plans-3” is free" in html
    # The free one is filled in: sending the form again creates the room there.
    assert re.search(r'<input[^>]*name="slug"[^>]*value="plans-3"', html)
    assert Room.objects.get(slug="plans").title == "Original"
    assert client.post("/", {"title": "Plans", "slug": "plans-3"}).status_code == 302


def test_create_room_rejects_bad_and_taken_addresses(client, user_factory, room_factory):
    client.force_login(user_factory("boss", is_staff=True))
    room_factory("taken", title="Original")
    response = client.post("/", {"title": "Hijack", "slug": "taken"})
    assert response.status_code == 400
    assert "is taken" in response.content.decode()
    assert Room.objects.get(slug="taken").title == "Original"
    response = client.post("/", {"title": "Spaces", "slug": "no spaces!"})
    assert response.status_code == 400
    assert "An address holds" in response.content.decode()
    assert not Room.objects.filter(title="Spaces").exists()
    # A name with nothing to make an address of asks for one.
    response = client.post("/", {"title": "!!!", "slug": ""})
    assert response.status_code == 400 and "Choose an address" in response.content.decode()
    # No name at all.
    assert client.post("/", {"title": "", "slug": "nameless"}).status_code == 400


def test_user_without_permission_cannot_create_rooms(client, alice, settings):
    settings.ROOMS_ROOM_CREATION = "staff"
    assert client.post("/", {"title": "Mine", "slug": "mine"}).status_code == 403
    assert not Room.objects.filter(slug="mine").exists()


def test_room_page_hands_the_script_its_room(client, alice, room_factory):
    room_factory("lobby", title="Lobby", is_archived=True)
    response = client.get("/rooms/lobby/")
    assert response.status_code == 200
    config = page_config(response)
    assert config["room"] == {
        "slug": "lobby",
        "title": "Lobby",
        "head": 0,
        "readOnly": True,
        "read": None,
        "canModerate": False,
    }
    assert config["maxBody"] > 0
    html = response.content.decode()
    assert '<script type="module" src="/static/rooms/app.js">' in html


def test_room_page_hides_private_rooms_of_others(client, alice, room_factory, user_factory):
    room_factory("secret", is_private=True, members=[user_factory("bob")])
    assert client.get("/rooms/secret/").status_code == 404
    assert client.get("/rooms/nope/").status_code == 404


def test_refused_and_missing_pages_are_the_sites_own(client, alice, bob, room_factory, settings):
    """A 403 and a 404 are pages of the site (its bar, a way back), not the
    server's bare text; the 404 says nothing of what a private room holds."""
    settings.DEBUG = False
    room_factory("lobby", members=[alice])
    room_factory("vault", is_private=True, members=[alice])
    client.force_login(bob)
    refused = client.get("/rooms/lobby/manage/")
    assert refused.status_code == 403
    assert b"Not allowed" in refused.content and b"Only the room" in refused.content
    assert b'href="/"' in refused.content
    for path in ("/rooms/vault/", "/rooms/no-such-room/"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert b"Not found" in missing.content and b"vault" not in missing.content


def test_the_start_of_a_room_names_the_room(client, alice, room_factory):
    room_factory("lobby", title="Lobby")
    html = client.get("/rooms/lobby/").content.decode()
    assert "This is the very beginning of Lobby." in html


def test_the_start_of_a_direct_conversation_names_the_conversation_with_the_others(
    client, alice, user_factory
):
    room, _ = services.direct_open(user=alice, others=[user_factory("bob")])
    html = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "This is the beginning of your conversation with bob." in html
    assert "very beginning of bob" not in html
