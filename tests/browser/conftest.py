"""Browser fixtures: Debian's Chromium driven by Playwright against a real
daphne started by tests.harness.deployment.Deployment (DEBUG off, static files collected
and served by ServeStatic, as in production).

One deployment and one browser serve the whole browser suite, to keep it
fast; every test works in rooms of its own (`room` fixture), and every
browser context is fresh.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import missing_service
from tests.harness.deployment import Deployment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS = ("alice", "bob")
PASSWORD = "test-pass-123"


@pytest.fixture(scope="package")
def playwright_browser():
    if not os.path.exists(CHROMIUM):
        missing_service(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Generous: two cores are shared with other suites; the assertions
    # still wait only as long as they need to.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def deployment(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("browser"))
    deployment.collect_static()  # DEBUG is off
    deployment.create_users(*USERS, password=PASSWORD)
    deployment.worker = deployment.start_worker()
    yield deployment
    deployment.stop()


@pytest.fixture(scope="package")
def logged_in(playwright_browser, deployment):
    """{username: storage state}: each user logged in once through the form."""
    states = {}
    for user in USERS:
        context = playwright_browser.new_context()
        page = context.new_page()
        page.goto(deployment.worker.http_url + "/accounts/login/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(deployment.worker.http_url + "/")
        states[user] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def browse(playwright_browser, logged_in):
    """browse(user, width=1280, height=800) -> a fresh context logged in as user."""
    contexts = []

    def open_context(user: str, width: int = 1280, height: int = 800):
        context = playwright_browser.new_context(
            storage_state=logged_in[user], viewport={"width": width, "height": height}
        )
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def room(deployment):
    """room(title=None) -> the slug of a new public room."""

    def make(title: str | None = None) -> str:
        slug = f"r-{uuid.uuid4().hex[:8]}"
        extra = ["--title", title] if title else []
        deployment.manage("createroom", slug, *extra)
        return slug

    return make


def open_room(context, deployment: Deployment, slug: str):
    """A new page on the room, once its socket is connected."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(f"{deployment.worker.http_url}/rooms/{slug}/")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    return page


def send(page, text: str) -> None:
    """Type into the composer and press Enter."""
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def stored_count(deployment: Deployment, slug: str, body: str) -> int:
    """How many messages of room `slug` have exactly `body`, in the database."""
    out = deployment.shell(
        "from rooms.models import Message\n"
        f"print('@@', Message.objects.filter(room__slug={slug!r}, body={body!r}).count())\n"
    )
    return int(next(line for line in out.splitlines() if line.startswith("@@ "))[3:])
