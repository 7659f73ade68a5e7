"""Connection handling in Chromium: the network goes away, the server
restarts, the page is closed with unsent messages. What the user sees
afterwards is every message exactly once, in order, and nothing doubled."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_room, send, stored_count

pytestmark = pytest.mark.browser


def bodies(page):
    return page.locator("#messages .msg-body")


def row(page, slug):
    return page.locator(f'.room-row[data-room="{slug}"]')


def test_offline_browser_shows_every_missed_message_once_in_order_with_right_unread_counts(
    deployment, browse, room
):
    chat, other = room("Busy"), room("Quiet")
    alice_context = browse("alice")
    alice = open_room(alice_context, deployment, chat)
    room_list = alice_context.new_page()
    room_list.goto(deployment.worker.http_url + "/")
    expect(room_list.locator("#conn")).to_have_attribute("data-state", "connected")
    bob = open_room(browse("bob"), deployment, chat)

    alice_context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    expect(room_list.locator("#conn")).to_have_attribute("data-state", "offline")
    expected = [f"missed {n}" for n in range(1, 31)]
    for body in expected:
        send(bob, body)
    expect(bodies(bob)).to_have_text(expected)
    deployment.post_many(other, ["one", "two", "three"], as_user="bob")
    expect(bodies(alice)).to_have_count(0)  # the offline page really heard nothing

    alice_context.set_offline(False)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(bodies(alice)).to_have_text(expected)
    seqs = alice.locator("#messages .msg").evaluate_all("items => items.map(i => +i.dataset.seq)")
    assert seqs == list(range(1, 31))

    # The open room page read all 30; the quiet room's 3 are unread.
    expect(row(room_list, chat)).to_have_attribute("data-unread", "0")
    expect(row(room_list, other)).to_have_attribute("data-unread", "3")
    expect(row(room_list, other).locator(".unread")).to_have_text("3")
    room_list.reload()
    expect(row(room_list, chat)).to_have_attribute("data-unread", "0")
    expect(row(room_list, other)).to_have_attribute("data-unread", "3")


def test_room_list_counts_new_messages_live(deployment, browse, room):
    slug = room("Live counts")
    room_list = browse("alice").new_page()
    room_list.goto(deployment.worker.http_url + "/")
    expect(room_list.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(row(room_list, slug)).to_have_attribute("data-unread", "0")
    bob = open_room(browse("bob"), deployment, slug)
    for body in ("a", "b"):
        send(bob, body)
    expect(row(room_list, slug)).to_have_attribute("data-unread", "2")
    expect(row(room_list, slug).locator("time")).to_have_count(1)


def test_page_reconnects_by_itself_after_a_server_restart(deployment, browse, room):
    slug = room()
    alice = open_room(browse("alice"), deployment, slug)
    send(alice, "before the restart")
    expect(bodies(alice)).to_have_text(["before the restart"])

    deployment.worker.kill()
    expect(alice.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    expect(alice.locator("#conn")).to_contain_text("Reconnecting")
    deployment.post_many(slug, ["while down 1", "while down 2"], as_user="bob")
    deployment.restart_worker(deployment.worker)

    # Backoff may have grown while the server was down: allow for it.
    expect(alice.locator("#conn")).to_have_attribute("data-state", "connected", timeout=40_000)
    expect(bodies(alice)).to_have_text(["before the restart", "while down 1", "while down 2"])
    send(alice, "after the restart")
    expect(bodies(alice)).to_have_count(4)


def test_message_typed_offline_is_sent_once_when_back_online(deployment, browse, room):
    slug = room()
    context = browse("alice")
    alice = open_room(context, deployment, slug)
    bob = open_room(browse("bob"), deployment, slug)

    context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    send(alice, "typed offline")
    pending = alice.locator("#pending .msg")
    expect(pending).to_have_count(1)
    expect(pending.locator(".msg-status")).to_have_text("Waiting for connection…")
    expect(pending.locator(".msg-body")).to_have_text("typed offline")

    context.set_offline(False)
    expect(bodies(alice)).to_have_text(["typed offline"])
    expect(pending).to_have_count(0)
    expect(bodies(bob)).to_have_text(["typed offline"])
    alice.reload()  # the outbox is empty now: nothing is sent again
    expect(alice.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(bodies(alice)).to_have_text(["typed offline"])
    assert stored_count(deployment, slug, "typed offline") == 1


def test_outbox_survives_closing_the_page_while_offline(deployment, browse, room):
    slug = room()
    context = browse("alice")
    alice = open_room(context, deployment, slug)
    context.set_offline(True)
    expect(alice.locator("#conn")).to_have_attribute("data-state", "offline")
    send(alice, "kept in localStorage")
    expect(alice.locator("#pending .msg")).to_have_count(1)
    alice.close()
    assert stored_count(deployment, slug, "kept in localStorage") == 0

    context.set_offline(False)
    again = open_room(context, deployment, slug)
    expect(bodies(again)).to_have_text(["kept in localStorage"])
    expect(again.locator("#pending .msg")).to_have_count(0)
    # A second page of the same browser finds an empty outbox.
    third = open_room(context, deployment, slug)
    expect(bodies(third)).to_have_text(["kept in localStorage"])
    assert stored_count(deployment, slug, "kept in localStorage") == 1
