"""The pages and the browser client in German for a browser that asks for
it (Accept-Language: de): the server's words, the client's own words (the
JavaScript catalog), dates in German through Intl, `<html lang="de">`; and
the README's picture of a room in German."""

import re
from pathlib import Path

from playwright.sync_api import expect

from .conftest import open_room
from .test_chat import bodies

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def german(playwright_browser, logged_in, user: str, width: int = 1280, height: int = 800):
    return playwright_browser.new_context(
        storage_state=logged_in[user],
        viewport={"width": width, "height": height},
        locale="de-DE",
        extra_http_headers={"Accept-Language": "de"},
    )


def test_the_room_list_and_the_room_page_speak_german(
    deployment, playwright_browser, logged_in, room
):
    slug = room("Entwurf")
    deployment.post_many(slug, ["Guten Morgen!"], as_user="bob")
    context = german(playwright_browser, logged_in, "alice")
    try:
        page = context.new_page()
        page.goto(deployment.worker.http_url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("heading", name="Räume", exact=True)).to_be_visible()
        expect(page.locator("#room-count")).to_have_text(re.compile(r"^(1 Raum|\d+ Räume)$"))
        expect(page.get_by_role("heading", name="Direktnachrichten")).to_be_visible()
        expect(page.get_by_label("Neue Nachricht")).to_be_visible()
        expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
        # The client's own words: the connection badge, set by app.js.
        expect(page.locator("#conn .conn-text")).to_have_text("Verbunden")

        page = open_room(context, deployment, slug)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        composer = page.get_by_label("Nachricht", exact=True)
        expect(composer).to_have_attribute("placeholder", f"Nachricht an #{slug}")
        expect(page.get_by_role("button", name="Senden")).to_be_visible()
        expect(page.get_by_role("link", name="Raum verwalten")).to_have_count(0)
        expect(page.get_by_role("heading", name="Benachrichtigungen")).to_be_visible()
        expect(page.get_by_label("Benachrichtigungen für")).to_have_value("mentions")
        expect(page.locator("#presence")).to_contain_text("(Sie)")
        expect(bodies(page)).to_have_text(["Guten Morgen!"])
        # Dates in German, in the browser's time zone: "05.12.2026, 14:05".
        expect(page.locator(".msg-time").first).to_have_attribute(
            "title", re.compile(r"^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$")
        )
        page.locator("#messages .msg").first.hover()
        expect(page.get_by_role("button", name="Antworten").first).to_be_attached()
    finally:
        context.close()


def test_screenshot_of_a_room_in_german(deployment, playwright_browser, logged_in, room):
    slug = room("Entwurfsbesprechung")
    deployment.post_many(
        slug,
        ["Morgen! Die neue Raumliste ist auf Staging.", "Ungelesene Zähler bleiben aktuell."],
        as_user="alice",
    )
    deployment.post_many(
        slug, ["Schön. Ich habe das Netzwerkkabel gezogen: nichts ging verloren."], as_user="bob"
    )
    alice_context = german(playwright_browser, logged_in, "alice")
    bob_context = german(playwright_browser, logged_in, "bob")
    try:
        alice = open_room(alice_context, deployment, slug)
        bob = open_room(bob_context, deployment, slug)
        bob.get_by_label("Nachricht", exact=True).press_sequentially("Sieht gut aus")
        expect(bodies(alice)).to_have_count(3)
        expect(alice.locator("#typing")).to_have_text("bob schreibt…")
        alice.get_by_label("Nachricht", exact=True).fill("Heute geht es raus")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "room-de.png"
        alice.screenshot(path=str(path))
        assert path.stat().st_size > 10_000
    finally:
        alice_context.close()
        bob_context.close()
