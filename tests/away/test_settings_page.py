"""`/settings/`: the user's email address and whether to email them, and the
slot of the device's push button."""

import pytest
from django.test import Client

from rooms.models import EmailPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/settings/")  # sets the csrftoken cookie
    return client


def save(client: Client, **fields):
    fields["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post("/settings/", fields)


def test_the_page_needs_a_login():
    response = Client().get("/settings/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_shows_the_address_the_setting_and_the_push_slot(browser, alice):
    alice.email = "alice@example.com"
    alice.save()
    page = browser.get("/settings/").content.decode()
    assert 'value="alice@example.com"' in page
    assert 'name="enabled"' in page and "checked" in page
    assert '<div id="push-device"></div>' in page


def test_saving_changes_the_address_and_turns_email_off(browser, alice):
    response = save(browser, email="new@example.com")  # the box left unticked
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "new@example.com"
    assert EmailPreference.objects.get(user=alice).enabled is False
    page = browser.get("/settings/").content.decode()
    assert 'value="new@example.com"' in page and "checked" not in page


def test_saving_turns_email_on_again(browser, alice):
    EmailPreference.objects.create(user=alice, enabled=False)
    save(browser, email="a@example.com", enabled="on")
    assert EmailPreference.objects.get(user=alice).enabled is True


def test_an_invalid_address_is_refused_on_the_form(browser, alice):
    response = save(browser, email="not an address", enabled="on")
    assert response.status_code == 200
    assert "valid email address" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == ""


def test_a_post_without_the_csrf_token_is_refused(browser, alice):
    assert browser.post("/settings/", {"email": "x@example.com"}).status_code == 403
