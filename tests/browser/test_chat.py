"""The room page in Chromium: two people chatting live, escaping of what
users write, and the README's screenshots."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room, send

pytestmark = pytest.mark.browser

# Written on every run to the test output (gitignored); docs/screenshots/
# holds the copies the README shows: copy them over when the UI changes.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def bodies(page):
    return page.locator("#messages .msg-body")


def test_two_users_chat_both_ways_and_see_presence_and_typing(deployment, browse, room):
    slug = room("Two of us")
    alice = open_room(browse("alice"), deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)

    for page in (alice, bob):
        expect(page.locator("#presence .presence-name")).to_have_text(["alice", "bob"])

    bob.get_by_label("Message", exact=True).press_sequentially("hel")
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    bob.get_by_label("Message", exact=True).press_sequentially("lo alice")
    bob.get_by_label("Message", exact=True).press("Enter")
    expect(bodies(alice)).to_have_text(["hello alice"])
    expect(alice.locator("#messages .msg").last).to_have_attribute("data-author", "bob")
    expect(alice.locator("#typing")).to_have_text("")

    # Shift+Enter is a new line; Enter sends.
    composer = alice.get_by_label("Message", exact=True)
    composer.press_sequentially("hi bob")
    composer.press("Shift+Enter")
    composer.press_sequentially("second line")
    composer.press("Enter")
    expect(bodies(bob)).to_have_text(["hello alice", "hi bob\nsecond line"])
    expect(bob.locator("#messages .msg").last).to_have_attribute("data-author", "alice")
    expect(composer).to_have_value("")

    # Leaving the room shows in the other's presence list.
    bob.close()
    expect(alice.locator("#presence .presence-name")).to_have_text(["alice"])


def test_message_body_with_html_renders_as_text(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    dialogs = []
    alice.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    bob = open_room(browse("bob"), deployment, slug)

    payload = "<img src=x onerror=alert(1)>"
    send(bob, payload)
    send(bob, "after")  # once this shows, the payload has been rendered for a while
    expect(bodies(alice)).to_have_text([payload, "after"])
    expect(alice.locator("#messages img")).to_have_count(0)
    assert dialogs == []


def test_body_limit_counter_blocks_an_overlong_message(deployment, browse, room):
    slug = room()
    page = open_room(browse("alice"), deployment, slug)
    limit = page.evaluate("JSON.parse(document.getElementById('rooms-config').textContent).maxBody")
    composer = page.get_by_label("Message", exact=True)
    composer.fill("é" * (limit + 1))
    expect(page.locator("#counter")).to_have_text(f"{limit + 1} / {limit}")
    expect(page.locator("#counter")).to_have_class(re.compile("counter--over"))
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    composer.press("Enter")
    expect(page.locator("#pending .msg")).to_have_count(0)
    composer.press("Backspace")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_screenshots_of_the_room_page_at_desktop_and_phone_width(deployment, browse, room):
    slug = room("Design review")
    deployment.post_many(slug, ["Welcome to Design review! Be kind, ship often."])
    deployment.post_many(
        slug,
        [
            "Morning! The new room list is live on staging.",
            "Unread counts update while the page is open, even after a reconnect.",
        ],
        as_user="alice",
    )
    deployment.post_many(
        slug,
        ["Nice. I pulled the network cable mid-conversation:\nevery missed message came back."],
        as_user="bob",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sizes = {"desktop": (1280, 800), "phone": (390, 844)}
    pages = {name: open_room(browse("alice", *s), deployment, slug) for name, s in sizes.items()}
    bob = open_room(browse("bob"), deployment, slug)
    bob.get_by_label("Message", exact=True).press_sequentially("Looks great")
    for name, page in pages.items():
        expect(bodies(page)).to_have_count(4)
        expect(page.locator("#presence .presence-name")).to_have_text(["alice", "bob"])
        expect(page.locator("#typing")).to_have_text("bob is typing…")
        page.get_by_label("Message", exact=True).fill("Shipping it today")
        path = SCREENSHOTS / f"room-{name}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000


def test_scrolled_up_reader_gets_a_jump_button_and_can_load_older(deployment, browse, room):
    slug = room()
    deployment.post_many(slug, [f"old {n}" for n in range(1, 61)], as_user="bob")
    alice = open_room(browse("alice", 1280, 600), deployment, slug)
    expect(bodies(alice)).to_have_count(50)  # the newest 50 first
    expect(bodies(alice).first).to_have_text("old 11")

    alice.locator("#scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
    bob = open_room(browse("bob"), deployment, slug)
    send(bob, "while you were reading")
    expect(alice.locator("#jump")).to_have_text("1 new message ↓")

    alice.get_by_role("button", name="Load older messages").click()
    expect(bodies(alice)).to_have_count(61)
    expect(bodies(alice).first).to_have_text("old 1")
    expect(alice.locator("#history-start")).to_be_visible()
    expect(alice.get_by_role("button", name="Load older messages")).to_be_hidden()

    alice.locator("#jump").click()
    expect(alice.locator("#jump")).to_be_hidden()
    expect(bodies(alice).last).to_be_in_viewport()
