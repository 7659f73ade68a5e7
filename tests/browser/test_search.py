"""Search in Chromium: the top bar's box, the results page, and a result
opening its room at a message far older than the newest 50, with the
messages around it loaded and the unloaded ones marked, not hidden."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def bodies(page):
    return page.locator("#messages .msg-body")


def test_search_finds_a_message_and_opens_it_in_its_room(deployment, browse, room):
    slug = room("Launch plans")
    bodies_sent = [f"status update {n}" for n in range(1, 121)]
    bodies_sent[4] = "the zebrafish tank arrives on Tuesday"
    seqs = deployment.post_many(slug, bodies_sent, as_user="bob")
    target = seqs[4]

    page = browse("alice").new_page()
    page.goto(deployment.worker.http_url + "/")
    # "/" puts the focus in the top bar's search box.
    page.locator("body").press("/")
    box = page.get_by_role("searchbox", name="Search messages")
    expect(box).to_be_focused()
    box.fill("zebrafish")
    box.press("Enter")

    page.wait_for_url("**/search/?q=zebrafish")
    result = page.locator(".search-hit-link")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("zebrafish")
    expect(result.locator(".search-hit-room")).to_have_text("#Launch plans")
    expect(result.locator(".search-hit-author")).to_have_text("bob")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search.png"))

    result.click()
    page.wait_for_url(f"**/rooms/{slug}/#seq-{target}")
    message = page.locator(f'#messages .msg[data-seq="{target}"]')
    expect(message).to_be_in_viewport()
    expect(message).to_have_class(re.compile(r"\bmsg--highlight\b"))
    expect(message.locator(".msg-body")).to_have_text("the zebrafish tank arrives on Tuesday")
    expect(message).to_be_focused()

    # The messages around it are loaded, and the ones between it and the
    # newest 50 are not: the list says so instead of running on.
    gap = page.locator(".history-gap")
    expect(gap).to_contain_text("Newer messages are not loaded here.")
    expect(bodies(page).first).to_have_text("status update 1")
    assert page.locator("#messages .msg").count() < len(seqs)
    newest = page.locator(f'#messages .msg[data-seq="{seqs[-1]}"]')
    expect(newest).not_to_be_in_viewport()

    # Loading newer messages closes the gap: every message once, in order.
    gap.get_by_role("button", name="Load newer messages").click()
    expect(gap).to_have_count(0)
    expect(bodies(page)).to_have_text(bodies_sent)

    page.get_by_role("searchbox", name="Search messages").fill("status")
    expect(page.get_by_role("checkbox", name="this room only")).not_to_be_checked()


def test_a_room_opened_at_an_old_message_can_jump_to_the_latest(deployment, browse, room):
    slug = room()
    seqs = deployment.post_many(slug, [f"line {n}" for n in range(1, 301)], as_user="bob")
    page = browse("alice").new_page()
    page.goto(f"{deployment.worker.http_url}/rooms/{slug}/#seq-{seqs[99]}")
    expect(page.locator(f'#messages .msg[data-seq="{seqs[99]}"]')).to_be_in_viewport()
    expect(page.locator(".history-gap")).to_be_visible()
    # Around it, not all the way back to it: the first screen plus one window.
    assert page.locator("#messages .msg").count() <= 100

    page.locator(".history-gap").get_by_role("button", name="Jump to the latest ↓").click()
    expect(page.locator(f'#messages .msg[data-seq="{seqs[-1]}"]')).to_be_in_viewport()
    # Older pages still load above the window.
    page.locator("#scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
    older = page.get_by_role("button", name="Load older messages")
    older.click()
    expect(bodies(page).first).to_have_text("line 26")
    older.click()
    expect(bodies(page).first).to_have_text("line 1")
    expect(page.locator("#history-start")).to_be_visible()
