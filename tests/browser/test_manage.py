"""Managing a room in Chromium (docs/room-management.md): alice creates a
private room from the room list and invites bob from its manage page; bob,
who has the room list open, sees the room appear without reloading and
opens it; removed, his open room page says so at once."""

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_invited_user_sees_the_room_appear_live_and_a_removed_one_is_told(deployment, browse):
    url = deployment.worker.http_url
    slug = f"m-{uuid.uuid4().hex[:8]}"

    bob = browse("bob").new_page()
    bob.goto(url + "/")
    expect(bob.locator("#conn")).to_have_attribute("data-state", "connected")
    bob.evaluate("window.sameDocument = true")  # gone, were the page reloaded
    row = bob.locator(f'.room-row[data-room="{slug}"]')
    expect(row).to_have_count(0)
    rooms_before = (
        bob.locator(".room-row").count()
        - bob.locator('[data-room-section="direct"] .room-row').count()
    )

    # alice makes a private room from the room list: she is its moderator.
    alice = browse("alice").new_page()
    alice.goto(url + "/")
    create = alice.locator("#create-room")
    # The address follows the name as it is typed, and may be edited.
    create.get_by_label("Name").fill("Secret plans")
    expect(create.get_by_label("Address")).to_have_value("secret-plans")
    create.get_by_label("Address").fill(slug)
    create.get_by_label("Private").check()
    create.get_by_role("button", name="Create room").click()
    alice.wait_for_url(f"{url}/rooms/{slug}/")
    alice.get_by_role("link", name="Manage room").click()
    alice.wait_for_url(f"{url}/rooms/{slug}/manage/")

    # An unknown name is an error on the form; bob is invited.
    invite = alice.locator("#invite")
    invite.get_by_label("Username").fill("nobody-here")
    invite.get_by_role("button", name="Invite").click()
    expect(alice.locator("#invite .error")).to_contain_text("No user named")
    # The field suggests usernames as they are typed.
    alice.locator("#invite").get_by_label("Username").fill("bo")
    expect(alice.locator('#invite-suggestions option[value="bob"]')).to_have_count(1)
    alice.locator("#invite").get_by_label("Username").fill("bob")
    alice.locator("#invite").get_by_role("button", name="Invite").click()
    expect(alice.locator('.member-row[data-user="bob"]')).to_have_attribute("data-role", "member")

    # bob's list shows the room, live.
    expect(row).to_contain_text("Secret plans")
    rooms_now = rooms_before + 1
    expect(bob.locator("#room-count")).to_have_text(
        f"{rooms_now} room{'s' if rooms_now != 1 else ''}"
    )
    assert bob.evaluate("window.sameDocument") is True

    row.get_by_role("link").click()
    bob.wait_for_url(f"{url}/rooms/{slug}/")
    expect(bob.locator("#room-title")).to_have_text("Secret plans")
    expect(bob.locator("#presence .presence-name")).to_contain_text(["bob"])
    expect(bob.locator("#manage-link")).to_be_hidden()

    # Removed, bob's open page says so and takes no more messages.
    # The page asks first.
    asked = []
    alice.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    alice.get_by_role("button", name="Remove bob").click()
    expect(alice.locator('.member-row[data-user="bob"]')).to_have_count(0)
    expect(bob.locator("#notice")).to_have_text("You were removed from this room.")
    assert asked == ["Remove bob from this room?"]
    expect(bob.get_by_label("Message", exact=True)).to_be_disabled()


def test_the_address_follows_the_name_until_it_is_edited_and_a_taken_one_offers_a_free_one(
    deployment, browse
):
    url = deployment.worker.http_url
    name = f"Café Plans {uuid.uuid4().hex[:6]}"
    address = name.lower().replace("é", "e").replace(" ", "-")
    alice = browse("alice").new_page()
    alice.goto(url + "/")
    create = alice.locator("#create-room")
    create.get_by_label("Name").press_sequentially(name[:4])
    expect(create.get_by_label("Address")).to_have_value("cafe")
    create.get_by_label("Name").fill(name)
    expect(create.get_by_label("Address")).to_have_value(address)
    # Edited by hand, the address stays as written.
    create.get_by_label("Address").fill("my-own")
    create.get_by_label("Name").fill(name + "!")
    expect(create.get_by_label("Address")).to_have_value("my-own")
    # Emptied, it follows the name again.
    create.get_by_label("Address").fill("")
    create.get_by_label("Name").fill(name)
    expect(create.get_by_label("Address")).to_have_value(address)
    create.get_by_role("button", name="Create room").click()
    alice.wait_for_url(f"{url}/rooms/{address}/")

    # The same name again: its address is taken; a free one is offered, filled in.
    alice.goto(url + "/")
    create = alice.locator("#create-room")
    create.get_by_label("Name").fill(name)
    create.get_by_role("button", name="Create room").click()
    expect(create.locator(".error")).to_contain_text(f"“{address}” is taken")
    expect(create.get_by_label("Address")).to_have_value(f"{address}-2")
    create.get_by_role("button", name="Create room").click()
    alice.wait_for_url(f"{url}/rooms/{address}-2/")
