"""Connection handling in Chromium: the network goes away, the server
restarts or freezes, the page is closed with unsent messages, the user has
too many sockets or is signed out. What the user sees afterwards is every
message exactly once, in order, and nothing doubled; or why not."""

import contextlib
import re
import signal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, open_room, send, stored_count

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
    expect(room_list.locator("#conn")).to_have_attribute("data-state", "connected")
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


@contextlib.contextmanager
def extra_worker(deployment, **env):
    """A daphne of its own on the shared database, for a test that freezes
    it or configures it differently; stopped (and thawed) afterwards."""
    worker = deployment.start_worker(env={key: str(value) for key, value in env.items()})
    try:
        yield worker
    finally:
        worker.process.send_signal(signal.SIGCONT)
        worker.stop()


def open_room_at(context, worker, slug: str):
    page = context.new_page()
    page.goto(f"{worker.http_url}/rooms/{slug}/")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    return page


def test_a_frozen_server_is_noticed_by_the_ping_and_the_page_resumes_on_its_own(
    deployment, browse, room
):
    """A server that stops answering without closing anything (SIGSTOP: like a
    route that died without a FIN): no frame within 10 s of a ping and the
    page gives the socket up, reconnects, and gets what it missed once."""
    slug = room()
    with extra_worker(deployment) as worker:
        context = browse("alice")
        context.clock.install()  # time flows, and the test may jump ahead
        alice = open_room_at(context, worker, slug)
        send(alice, "before the freeze")
        expect(bodies(alice)).to_have_text(["before the freeze"])

        worker.process.send_signal(signal.SIGSTOP)
        deployment.post_many(slug, ["while frozen 1", "while frozen 2"], as_user="bob")
        alice.clock.fast_forward(25_000)  # the ping goes out, into the void
        expect(alice.locator("#conn")).to_have_attribute("data-state", "connected")
        alice.clock.fast_forward(10_000)  # no frame since: the socket is dead
        expect(alice.locator("#conn")).to_have_attribute("data-state", "reconnecting")
        expect(alice.locator("#conn")).to_have_attribute("data-reason", "timeout")

        worker.process.send_signal(signal.SIGCONT)
        expect(alice.locator("#conn")).to_have_attribute("data-state", "connected")
        expected = ["before the freeze", "while frozen 1", "while frozen 2"]
        expect(bodies(alice)).to_have_text(expected)
        send(alice, "after the thaw")
        expect(bodies(alice)).to_have_count(4)
    assert stored_count(deployment, slug, "after the thaw") == 1


def test_too_many_sockets_shows_a_notice_and_the_page_connects_once_one_is_closed(
    deployment, browse, room
):
    slug = room()
    with extra_worker(deployment, ROOMS_MAX_SOCKETS_PER_USER=1) as worker:
        context = browse("alice")
        first = open_room_at(context, worker, slug)
        second = context.new_page()
        second.goto(f"{worker.http_url}/rooms/{slug}/")
        badge = second.locator("#conn")
        expect(badge).to_have_attribute("data-reason", "too-many-sockets")
        expect(badge).to_contain_text("Too many connections")
        expect(badge).to_have_attribute("title", re.compile("too many open connections"))
        expect(second.locator("#notice")).to_contain_text("Too many open connections")
        expect(first.locator("#conn")).to_have_attribute("data-state", "connected")

        first.close()
        # "Retry now" skips the longer wait; the server may take a moment to
        # count the closed socket out.
        for _ in range(10):
            badge.get_by_role("button", name="Retry now").click()
            with contextlib.suppress(AssertionError):
                expect(badge).to_have_attribute("data-state", "connected", timeout=2_000)
                break
        expect(badge).to_have_attribute("data-state", "connected")
        send(second, "one socket is enough")
        expect(bodies(second)).to_have_text(["one socket is enough"])


def test_signed_out_elsewhere_the_page_stops_reconnecting_and_offers_to_log_in(
    deployment, playwright_browser, room
):
    """Logging out closes the session's other sockets with 4401: the page
    says so, links to the login, and does not retry in a loop."""
    slug = room()
    # A session of its own: logging out ends it for good, and the other
    # tests share the package's logged-in sessions.
    context = playwright_browser.new_context()
    try:
        login = context.new_page()
        login.goto(deployment.worker.http_url + "/accounts/login/")
        login.get_by_label("Username").fill("alice")
        login.get_by_label("Password").fill(PASSWORD)
        login.get_by_role("button", name="Log in").click()
        login.wait_for_url(deployment.worker.http_url + "/")
        alice = open_room(context, deployment, slug)
        sockets = []
        alice.on("websocket", lambda socket: sockets.append(socket))

        login.get_by_role("button", name="Log out").click()
        badge = alice.locator("#conn")
        expect(badge).to_have_attribute("data-state", "signed-out")
        expect(badge).to_contain_text("Signed out")
        expect(alice.locator("#notice")).to_contain_text("signed out")
        link = badge.get_by_role("link", name="Log in")
        expect(link).to_have_attribute("href", f"/accounts/login/?next=%2Frooms%2F{slug}%2F")
        alice.wait_for_timeout(3_000)  # longer than any first backoff delay
        assert sockets == [], "no reconnect after 4401"
        expect(badge).to_have_attribute("data-state", "signed-out")

        link.click()
        alice.get_by_label("Username").fill("alice")
        alice.get_by_label("Password").fill(PASSWORD)
        alice.get_by_role("button", name="Log in").click()
        alice.wait_for_url(f"{deployment.worker.http_url}/rooms/{slug}/")
        expect(badge).to_have_attribute("data-state", "connected")
    finally:
        context.close()
