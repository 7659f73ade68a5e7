"""`/api/push/key` and `/api/push/subscriptions`: the browser's Web Push
subscription, stored once per endpoint (201 new, 200 again, 204 deleted),
for a logged-in user or a token only."""

import json

import pytest
from django.test import Client

from rooms.delivery import push
from rooms.models import PushSubscription

pytestmark = pytest.mark.django_db

SUBSCRIPTION = {
    "endpoint": "https://push.example/send/abc",
    "expirationTime": None,
    "keys": {
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u"
        "-Ts1XbjhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}


@pytest.fixture
def browser(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/")
    return client


def send(client: Client, method: str, body) -> object:
    return getattr(client, method)(
        "/api/push/subscriptions",
        json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )


def test_the_key_is_the_servers_public_key(browser, monkeypatch):
    monkeypatch.setattr(push, "vapid_public_key", lambda: "BPublicKey")
    response = browser.get("/api/push/key")
    assert response.status_code == 200 and response.json() == {"public_key": "BPublicKey"}


def test_without_a_key_there_is_no_push(browser, monkeypatch):
    monkeypatch.setattr(push, "vapid_public_key", lambda: None)
    assert browser.get("/api/push/key").status_code == 404


def test_a_subscription_is_created_then_known_then_deleted(browser, alice):
    assert send(browser, "post", SUBSCRIPTION).status_code == 201
    assert send(browser, "post", SUBSCRIPTION).status_code == 200
    (stored,) = PushSubscription.objects.all()
    assert (stored.user, stored.auth) == (alice, "tBHItJI5svbpez7KI4CCXg")
    assert stored.session_key == browser.session.session_key
    response = send(browser, "delete", {"endpoint": SUBSCRIPTION["endpoint"]})
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()


def test_an_endpoint_registered_by_another_user_moves_to_them(browser, bob):
    PushSubscription.objects.create(
        user=bob, endpoint=SUBSCRIPTION["endpoint"], p256dh="x", auth="y"
    )
    assert send(browser, "post", SUBSCRIPTION).status_code == 200
    assert PushSubscription.objects.get().user.username == "alice"


def test_a_malformed_subscription_is_refused(browser):
    assert send(browser, "post", {"endpoint": SUBSCRIPTION["endpoint"]}).status_code == 400
    plain = {**SUBSCRIPTION, "endpoint": "http://push.example/x"}
    assert send(browser, "post", plain).status_code == 400
    assert not PushSubscription.objects.exists()


def test_a_stranger_is_refused():
    anonymous = Client()
    assert anonymous.get("/api/push/key").status_code == 401
    response = anonymous.post(
        "/api/push/subscriptions", json.dumps(SUBSCRIPTION), content_type="application/json"
    )
    assert response.status_code == 401
    assert not PushSubscription.objects.exists()


def test_a_session_post_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        "/api/push/subscriptions", json.dumps(SUBSCRIPTION), content_type="application/json"
    )
    assert response.status_code == 403


def test_a_nul_in_an_endpoint_or_key_is_refused(browser):
    # PostgreSQL stores no NUL: refused before it reaches the database.
    for body in (
        {**SUBSCRIPTION, "endpoint": "https://push.example/\x00"},
        {**SUBSCRIPTION, "keys": {**SUBSCRIPTION["keys"], "auth": "a\x00"}},
    ):
        assert send(browser, "post", body).status_code == 400
    assert send(browser, "delete", {"endpoint": "\x00"}).status_code == 400
    assert not PushSubscription.objects.exists()
