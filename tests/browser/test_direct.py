"""Direct messages in Chromium (docs/direct-messages.md): alice, in a room,
clicks bob in the presence list, picks "Message bob", lands in their
conversation and writes; bob's room list, open in a hidden tab, shows the
conversation under "Direct messages" without a reload, with alice online,
an unread badge, the tab's count and a notification (all messages notify
in a direct conversation)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room, send
from tests.browser.test_notice import HIDDEN_WITH_NOTIFICATIONS, SCREENSHOTS

pytestmark = pytest.mark.browser


def test_a_direct_message_from_the_presence_list_reaches_the_other_user_with_a_badge(
    deployment, browse, room
):
    slug = room("Meeting")
    bob_context = browse("bob")
    bob_context.grant_permissions(["notifications"], origin=deployment.worker.http_url)
    bob_context.add_init_script(HIDDEN_WITH_NOTIFICATIONS)
    bob_list = bob_context.new_page()
    bob_list.goto(deployment.worker.http_url + "/")
    expect(bob_list.locator("#conn")).to_have_attribute("data-state", "connected")
    direct_rows = bob_list.locator('[data-room-section="direct"] .room-row--direct')
    expect(direct_rows).to_have_count(0)
    # Other tests' rooms may hold unread messages of bob's: the list counts them too.
    list_title = bob_list.title()
    before = int(re.match(r"^\((\d+)\) Rooms$", list_title).group(1)) if "(" in list_title else 0
    # bob is in the room too (alice sees him online there): that page hears
    # of his direct conversations as well.
    bob_room = open_room(bob_context, deployment, slug)

    alice = open_room(browse("alice"), deployment, slug)
    bob_there = alice.locator("#presence").get_by_role("button", name="bob", exact=True)
    bob_there.click()
    menu_item = alice.get_by_role("menuitem", name="Message bob")
    expect(menu_item).to_be_focused()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=SCREENSHOTS / "direct-menu.png")
    menu_item.click()
    alice.wait_for_url(re.compile(r"/rooms/dm-[0-9a-f]+/$"))
    expect(alice.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(alice.locator("#room-title")).to_have_text("bob")
    direct_slug = alice.url.rstrip("/").rsplit("/", 1)[1]

    # The conversation appears on bob's open list (the `rooms` frame), and
    # his list joins it with presence: alice, in it, shows online.
    row = bob_list.locator(f'.room-row--direct[data-room="{direct_slug}"]')
    expect(row.locator(".room-title")).to_have_text("alice")
    expect(row.locator(".direct-status")).to_have_text("alice online")
    expect(row).to_have_class(re.compile("room-row--online"))
    expect(bob_list.locator(f'#room-list .room-row[data-room="{direct_slug}"]')).to_have_count(0)

    send(alice, "hello bob, just us")
    expect(row.locator(".unread")).to_have_text("1")
    expect(bob_list).to_have_title(f"({before + 1}) Rooms")
    # (A mention left unread by another test makes the dot a mention's.)
    expect(bob_list.locator("html")).to_have_attribute("data-badge", re.compile("unread|mention"))
    # The room page bob left open counts it on its way back to the list.
    expect(bob_room.locator("#direct-badge")).to_have_text("1")
    expect(bob_room.locator("#back")).to_have_attribute(
        "aria-label", "All rooms: 1 new direct message"
    )
    # One notification, from whichever of his two (hidden) pages claimed it.
    pages = (bob_list, bob_room)
    count = "window.__notifications.length"
    for _ in range(100):  # wait_for_function needs eval, which the CSP forbids
        if sum(page.evaluate(count) for page in pages):
            break
        bob_list.wait_for_timeout(100)
    notifications = [n for page in pages for n in page.evaluate("window.__notifications")]
    assert [(n["title"], n["body"]) for n in notifications] == [
        ("alice messaged you", "hello bob, just us")
    ]
    bob_list.screenshot(path=SCREENSHOTS / "direct-list.png")

    # Bob opens it from his list: the header names alice, the message is there.
    bob_list.evaluate(
        "window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))"
    )
    row.locator(".room-link").click()
    bob_list.wait_for_url(re.compile(f"/rooms/{direct_slug}/$"))
    expect(bob_list.locator("#room-title")).to_have_text("alice")
    expect(bob_list.locator("#messages .msg-body")).to_have_text(["hello bob, just us"])
