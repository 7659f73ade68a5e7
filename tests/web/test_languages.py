"""The pages in the person's language (docs/ui.md, Languages): their own
setting, else the browser's Accept-Language, else English, with `<html
lang>` saying which; the settings page's Language and Theme; the theme on
`<html data-theme>`; the browser client's catalog per language."""

import re

import pytest
from django.test import Client

from rooms import selectors, services
from rooms.errors import RoomsError
from rooms.models import UserSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(user_factory):
    return user_factory("alice")


def browser(user, language: str | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.content.decode())[0]


def test_without_a_choice_the_pages_are_in_english(alice):
    response = browser(alice).get("/")
    assert html_tag(response) == '<html lang="en" data-theme="auto">'
    assert ">Rooms</h1>" in response.content.decode()
    assert response["Content-Language"] == "en"


def test_the_browser_asking_for_german_gets_german(alice, room_factory):
    room_factory("lobby")
    response = browser(alice, "de-DE,de;q=0.9,en;q=0.5").get("/")
    page = response.content.decode()
    assert 'lang="de"' in html_tag(response) and response["Content-Language"] == "de"
    assert ">Räume</h1>" in page and "1 Raum<" in page and "Abmelden" in page
    assert "/jsi18n/de.js?v=" in page


def test_a_language_the_site_does_not_have_falls_back_to_english(alice):
    response = browser(alice, "fr-FR,fr;q=0.9").get("/")
    assert 'lang="en"' in html_tag(response)


def test_the_persons_setting_wins_over_the_browser(alice):
    services.user_settings_set(user=alice, language="de", theme="auto")
    assert 'lang="de"' in html_tag(browser(alice, "en-US,en;q=0.9").get("/"))
    services.user_settings_set(user=alice, language="en", theme="auto")
    assert 'lang="en"' in html_tag(browser(alice, "de").get("/"))
    services.user_settings_set(user=alice, language="", theme="auto")  # the browser's again
    assert 'lang="de"' in html_tag(browser(alice, "de").get("/"))


def test_the_theme_is_on_the_html_element(alice):
    services.user_settings_set(user=alice, language="", theme="dark")
    assert 'data-theme="dark"' in html_tag(browser(alice).get("/settings/"))


def test_the_settings_page_saves_language_and_theme_and_answers_in_the_new_language(alice):
    client = browser(alice, "en")
    response = client.post("/settings/", {"form": "display", "language": "de", "theme": "light"})
    assert response.status_code == 302
    assert selectors.user_display(user=alice) == selectors.Display(language="de", theme="light")
    page = client.get("/settings/")
    text = page.content.decode()
    assert 'lang="de" data-theme="light"' in html_tag(page)
    assert "Ihre Einstellungen sind gespeichert." in text
    assert '<option value="de" selected>Deutsch</option>' in text
    assert '<option value="light" selected>Hell</option>' in text


def test_the_settings_page_refuses_a_language_it_does_not_offer(alice):
    client = browser(alice)
    response = client.post("/settings/", {"form": "display", "language": "xx", "theme": "auto"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not UserSettings.objects.filter(user=alice).exists()


def test_the_email_form_still_saves_alone(alice):
    client = browser(alice)
    client.post("/settings/", {"email": "alice@example.com", "enabled": "on"})
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert not UserSettings.objects.filter(user=alice).exists()


def test_the_service_refuses_what_the_page_cannot_offer(alice):
    with pytest.raises(RoomsError) as refused:
        services.user_settings_set(user=alice, language="xx", theme="auto")
    assert refused.value.field == "language"
    with pytest.raises(RoomsError) as refused:
        services.user_settings_set(user=alice, language="de", theme="pink")
    assert refused.value.field == "theme"


def test_a_refusal_of_the_services_is_in_the_pages_language(alice, room_factory):
    room_factory("lobby")
    client = browser(alice, "de")
    response = client.post("/", {"title": "Zweite Lobby", "slug": "lobby"})
    assert "„lobby“ ist vergeben" in response.content.decode()


def test_the_catalog_of_the_browser_client_is_cacheable_per_language(alice):
    client = browser(alice, "de")
    url = re.search(r'src="(/jsi18n/de\.js\?v=[0-9a-f]+)"', client.get("/").content.decode())[1]
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"]
    body = response.content.decode()
    assert '"Verbunden"' in body and "django.ngettext" in body
    # Without the current digest it is checked again on every use.
    assert Client().get("/jsi18n/de.js")["Cache-Control"] == "no-cache"
    assert Client().get("/jsi18n/xx.js").status_code == 404
