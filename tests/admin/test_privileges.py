"""Who may act as someone else in the admin (rooms/admin/): issuing an API
token for another user and posting as another user are for superusers only;
a staff user with just "add API token" issues tokens for themselves, one with
just "add message" posts as a system message or as themselves, through the
rate limit. Every token issued and every post is logged by `rooms.admin`,
never with the token.
"""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from rooms import services
from rooms.models import ApiToken, Message

pytestmark = pytest.mark.django_db

ISSUE = reverse("admin:rooms_apitoken_add")
POST = reverse("admin:rooms_message_post")


@pytest.fixture
def staff(client, user_factory):
    """staff(*codenames) -> a staff user (not a superuser) holding only those
    permissions, logged in on `client`."""

    def make(*perms: str):
        user = user_factory("clerk", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=perms))
        client.force_login(user)
        return user

    return make


@pytest.fixture
def superuser(client, user_factory):
    user = user_factory("root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def admin_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rooms.admin"]


# --- API tokens ---------------------------------------------------------------------------


def test_staff_with_add_token_issues_a_token_only_for_themselves(client, staff, alice, caplog):
    caplog.set_level(logging.INFO, logger="rooms.admin")
    clerk = staff("add_apitoken")
    page = client.get(ISSUE).content.decode()
    assert "alice" not in page and "clerk" in page
    response = client.post(ISSUE, {"user": alice.pk})
    assert response.status_code == 200 and response.context["token"] is None
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()
    response = client.post(ISSUE, {"user": clerk.pk})
    token = response.context["token"]
    assert services.api_token_authenticate(token=token) == clerk
    assert admin_lines(caplog) == ["admin: 'clerk' issued their own API token"]


def test_superuser_issues_a_token_for_another_user_and_it_is_logged_without_it(
    client, superuser, alice, caplog
):
    caplog.set_level(logging.INFO, logger="rooms.admin")
    token = client.post(ISSUE, {"user": alice.pk}).context["token"]
    assert services.api_token_authenticate(token=token) == alice
    assert admin_lines(caplog) == ["admin: 'root' issued 'alice''s API token"]
    assert not any(token in r.getMessage() or token[:12] in r.getMessage() for r in caplog.records)


# --- posting ------------------------------------------------------------------------------


def test_staff_with_add_message_cannot_post_as_another_user(client, staff, lobby, alice):
    staff("add_message")
    assert "alice" not in client.get(POST).content.decode()
    response = client.post(POST, {"room": lobby.pk, "author": alice.pk, "body": "not me"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Message.objects.exists()


def test_staff_with_add_message_posts_as_themselves_or_as_the_system_and_it_is_logged(
    client, staff, lobby, caplog
):
    caplog.set_level(logging.INFO, logger="rooms.admin")
    clerk = staff("add_message")
    assert (
        client.post(POST, {"room": lobby.pk, "author": clerk.pk, "body": "mine"}).status_code == 302
    )
    assert client.post(POST, {"room": lobby.pk, "body": "notice"}).status_code == 302
    stored = [(m.author, m.body) for m in Message.objects.order_by("seq")]
    assert stored == [(clerk, "mine"), (None, "notice")]
    assert admin_lines(caplog) == [
        "admin: 'clerk' posted #1 to lobby as themselves",
        "admin: 'clerk' posted #2 to lobby as a system message",
    ]


def test_staff_posts_through_the_rate_limit(client, staff, lobby, settings):
    settings.ROOMS_RATE_LIMIT = (2, 60)
    clerk = staff("add_message")
    for body in ("one", "two", "three"):
        response = client.post(POST, {"room": lobby.pk, "author": clerk.pk, "body": body})
    assert response.status_code == 200
    assert "At most 2 entries per 60 seconds" in response.content.decode()
    assert list(Message.objects.values_list("body", flat=True)) == ["one", "two"]


def test_superuser_posts_as_another_user_past_the_rate_limit_and_it_is_logged(
    client, superuser, lobby, alice, caplog, settings
):
    caplog.set_level(logging.INFO, logger="rooms.admin")
    settings.ROOMS_RATE_LIMIT = (1, 60)
    for body in ("one", "two"):
        form = {"room": lobby.pk, "author": alice.pk, "body": body}
        assert client.post(POST, form).status_code == 302
    assert [m.author for m in Message.objects.all()] == [alice, alice]
    assert admin_lines(caplog) == [
        "admin: 'root' posted #1 to lobby as 'alice'",
        "admin: 'root' posted #2 to lobby as 'alice'",
    ]
