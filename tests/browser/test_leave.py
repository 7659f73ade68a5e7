"""Leaving a room from its page in Chromium (docs/room-management.md,
Leaving): bob, a member of a private room, leaves it with the sidebar's
"Leave room", answers the page's question, and lands on his room list,
which says so and no longer lists the room. The page's forms without a
browser: tests/web/test_leaving.py."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room

pytestmark = pytest.mark.browser


def test_a_member_leaves_a_private_room_from_its_page_and_it_leaves_their_list(deployment, browse):
    url = deployment.worker.http_url
    slug = f"leave-{uuid.uuid4().hex[:8]}"
    title = f"Plans {slug[-4:]}"
    deployment.manage(
        "createroom", slug, "--title", title, "--private", "--moderator", "alice", "--member", "bob"
    )
    context = browse("bob")
    listing = context.new_page()
    listing.goto(url + "/")
    expect(listing.locator(f'.room-row[data-room="{slug}"]')).to_contain_text(title)

    page = open_room(context, deployment, slug)
    leave = page.get_by_role("button", name="Leave room")
    expect(leave).to_be_visible()

    # The page asks first; saying no keeps bob in the room.
    page.evaluate("window.sameDocument = true")  # gone, had the form been sent
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    leave.click()
    assert asked == [f"Leave {title}? It is private: only an invitation brings you back."]
    assert page.evaluate("window.sameDocument") is True

    page.once("dialog", lambda dialog: dialog.accept())
    leave.click()
    page.wait_for_url(f"{url}/")
    expect(page.locator("#page-messages")).to_have_text(f"You left {title}.")
    expect(page.locator(f'.room-row[data-room="{slug}"]')).to_have_count(0)
    # His other open room list drops the row live (the `rooms` frame).
    expect(listing.locator(f'.room-row[data-room="{slug}"]')).to_have_count(0)
    # And the room is no longer his to open.
    assert page.goto(f"{url}/rooms/{slug}/").status == 404
