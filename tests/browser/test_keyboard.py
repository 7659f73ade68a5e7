"""The keyboard alone (docs/ui.md, Accessibility): log in, open a room, send,
react and delete with nothing but `page.keyboard`: no click, no focus()
from the test. Each step asserts where the focus is and what it did."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, open_room

pytestmark = pytest.mark.browser

MAX_TABS = 60  # a bound on every walk with Tab


def focused(page) -> dict:
    """What has the focus: its tag, accessible-name attributes and text."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            tag: el.tagName.toLowerCase(), label: el.getAttribute("aria-label") ?? "",
            href: el.getAttribute("href") ?? "", text: el.textContent.trim().slice(0, 80),
            id: el.id, cls: el.className, seq: el.closest("li.msg")?.dataset.seq ?? null,
            dialog: el.closest("dialog")?.id || el.closest("dialog")?.className || null,
          };
        }"""
    )


def tab_to(page, wanted, *, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until `wanted(focused)` holds."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"not reached with Tab; the focus is on {focused(page)}")


def test_log_in_open_a_room_send_react_and_delete_with_the_keyboard_alone(
    deployment, playwright_browser
):
    url = deployment.worker.http_url
    user = f"kb{uuid.uuid4().hex[:6]}"
    deployment.create_users(user, password=PASSWORD)
    slug = f"kb-{uuid.uuid4().hex[:8]}"
    deployment.manage("createroom", slug, "--title", "Keyboard room", "--member", user)
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        keyboard = page.keyboard

        # Log in: the username field has the focus when the page opens.
        page.goto(url + "/accounts/login/")
        assert focused(page)["id"] == "id_username"
        keyboard.type(user)
        keyboard.press("Tab")
        keyboard.type(PASSWORD)
        keyboard.press("Enter")
        page.wait_for_url(url + "/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

        # The room list: Tab to the room's link, Enter opens it.
        tab_to(page, lambda now: now["href"] == f"/rooms/{slug}/")
        keyboard.press("Enter")
        page.wait_for_url(f"{url}/rooms/{slug}/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

        # "?" lists the shortcuts; Tab stays in the dialog; Escape closes it.
        keyboard.press("?")
        help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_dialog).to_be_visible()
        expect(help_dialog).to_contain_text("Alt")
        assert focused(page)["dialog"] == "shortcuts"
        keyboard.press("Tab")
        assert focused(page)["dialog"] == "shortcuts"
        keyboard.press("Escape")
        expect(help_dialog).to_be_hidden()

        # The first Tab reaches the skip link, which goes to the composer.
        keyboard.press("Tab")
        assert focused(page)["text"] == "Skip to composer"
        keyboard.press("Enter")
        assert focused(page)["id"] == "body"
        keyboard.type("Typed without a mouse")
        keyboard.press("Enter")
        mine = page.locator("#messages .msg").filter(has_text="Typed without a mouse")
        expect(mine).to_have_count(1)
        # Stored: the message in the log has its seq (not the outbox's copy).
        expect(mine).to_have_attribute("data-seq", re.compile(r"^[0-9]+$"))
        expect(page.get_by_label("Message", exact=True)).to_have_value("")

        # Alt+↑ goes from the composer to the newest message, whose actions
        # then show; Tab reaches them.
        keyboard.press("Alt+ArrowUp")
        seq = mine.get_attribute("data-seq")
        assert focused(page)["seq"] == seq and focused(page)["tag"] == "li"
        react = tab_to(page, lambda now: now["label"] == "Add reaction")
        assert react["seq"] == seq

        # The picker: the first emoji has the focus, Tab wraps inside it,
        # Enter reacts and the focus comes back to the button.
        keyboard.press("Enter")
        picker = page.get_by_role("dialog", name="Add a reaction")
        expect(picker).to_be_visible()
        assert focused(page)["label"] == "React with 👍"
        keyboard.press("Shift+Tab")
        assert focused(page)["text"] == "Add"  # the last control, not the page behind
        keyboard.press("Tab")
        assert focused(page)["label"] == "React with 👍"
        keyboard.press("Enter")
        expect(picker).to_have_count(0)
        chip = mine.locator('.reaction[data-emoji="👍"]')
        expect(chip).to_have_attribute("aria-pressed", "true")
        assert focused(page)["label"] == "Add reaction"

        # Delete asks first: Escape keeps the message and the focus on the
        # button; then Tab to the dialog's Delete, Enter deletes.
        tab_to(page, lambda now: now["label"] == "Delete")
        keyboard.press("Enter")
        dialog = page.locator("#confirm-delete")
        expect(dialog).to_be_visible()
        assert focused(page)["text"] == "Cancel"
        keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert focused(page)["label"] == "Delete" and focused(page)["seq"] == seq
        keyboard.press("Enter")
        expect(dialog).to_be_visible()
        keyboard.press("Tab")
        assert focused(page)["text"] == "Delete" and focused(page)["dialog"] == "confirm-delete"
        keyboard.press("Enter")
        deleted = page.locator(f'#messages .msg[data-seq="{seq}"]')
        expect(deleted.locator(".msg-body")).to_have_text("message deleted")
        assert focused(page)["id"] == "body"

        # Escape on a message goes back to the composer.
        keyboard.press("Alt+ArrowUp")
        assert focused(page)["tag"] == "li"
        keyboard.press("Escape")
        assert focused(page)["id"] == "body"
    finally:
        context.close()


def test_a_dialog_closing_leaves_the_focus_where_it_was_moved_meanwhile(deployment, browse, room):
    """A dialog's `close` event comes a task after it closes: the focus the
    person put elsewhere by then (here the composer, in the same task) stays
    there rather than going back to what opened the dialog."""
    page = open_room(browse("alice"), deployment, room())
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.evaluate(
        """() => new Promise((resolve) => {
          const dialog = document.getElementById("shortcuts");
          dialog.addEventListener("close", () => resolve(), { once: true });
          dialog.close();
          document.getElementById("body").focus();
        })"""
    )
    assert focused(page)["id"] == "body"
