"""The installable app and Web Push in Chromium (docs/ui.md, "Installable app
and push"): every signed-in page registers the service worker for the whole
site, the manifest parses and its icons load, a push delivered through the
DevTools protocol shows one notification tagged as the pages' own, the
worker's click handler brings the room's window to the message, a page that
cannot load shows the offline page, and the "Notify me on this device"
control subscribes, unsubscribes and forgets the device on logout.

Headless Chromium has no push service and no notification to click: the
push comes through `ServiceWorker.deliverPushMessage`, the click is the
worker's own `onnotificationclick` run on the real notification, and the
control's test stands in for PushManager and the server's push API.
"""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, open_room

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

pytestmark = pytest.mark.browser

READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return { scope: registration.scope, active: registration.active?.scriptURL ?? null };
}"""
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map(
    (n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url }));
}"""


def controlled(page):
    """`page`, once the service worker is active and controls it."""
    page.evaluate(READY)
    page.wait_for_function(CONTROLLED)
    return page


def push_to(context, page, origin: str, payload: dict) -> None:
    """Deliver `payload` to the site's service worker as its push service would."""
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r["isDeleted"]
        ),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if registrations:
            break
        page.wait_for_timeout(50)
    assert registrations, "no service worker registration reported"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registrations[-1], "data": json.dumps(payload)},
    )
    cdp.detach()


def wait_for_notifications(page, count: int) -> list[dict]:
    """The worker's notifications, once there are `count` of them (or 5 s passed)."""
    for _ in range(100):
        shown = page.evaluate(NOTIFICATIONS)
        if len(shown) == count:
            return shown
        page.wait_for_timeout(50)
    return shown


def test_every_signed_in_page_registers_the_service_worker_for_the_whole_site(
    deployment, browse, room
):
    context = browse("alice")
    page = open_room(context, deployment, room())
    assert page.evaluate(READY) == {
        "scope": deployment.worker.http_url + "/",
        "active": deployment.worker.http_url + "/sw.js",
    }


def test_the_manifest_parses_and_its_icons_load(deployment, browse):
    page = browse("alice").new_page()
    page.goto(deployment.worker.http_url + "/")
    manifest = page.evaluate("""async () => {
      const href = document.querySelector('link[rel="manifest"]').href;
      const manifest = await (await fetch(href)).json();
      const icons = [];
      for (const icon of manifest.icons) {
        const response = await fetch(new URL(icon.src, href));
        const bitmap = await createImageBitmap(await response.blob());
        icons.push({ sizes: icon.sizes, type: response.headers.get("Content-Type"),
                     loaded: `${bitmap.width}x${bitmap.height}` });
      }
      return { ...manifest, icons,
               theme: document.querySelector('meta[name="theme-color"]').content };
    }""")
    assert manifest["name"] == "Rooms" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme"] == manifest["theme_color"]
    assert manifest["icons"] == [
        {"sizes": "192x192", "type": "image/png", "loaded": "192x192"},
        {"sizes": "512x512", "type": "image/png", "loaded": "512x512"},
    ]


def test_a_push_shows_one_notification_tagged_as_the_pages_own(deployment, browse, room):
    slug = room()
    origin = deployment.worker.http_url
    context = browse("alice")
    context.grant_permissions(["notifications"], origin=origin)
    page = context.new_page()
    page.goto(origin + "/")
    controlled(page)
    url = f"{origin}/rooms/{slug}/#seq-7"
    payload = {
        "room": slug,
        "seq": 7,
        "title": "bob mentioned you",
        "body": "hi @alice",
        "url": url,
    }
    push_to(context, page, origin, payload)
    assert wait_for_notifications(page, 1) == [
        {"title": "bob mentioned you", "body": "hi @alice", "tag": f"rooms:{slug}:7", "url": url}
    ]
    # The same message again (another push, or a tab's own notification of it): still one.
    push_to(context, page, origin, payload | {"title": "bob mentioned you again"})
    page.wait_for_function(
        """async () => (await (await navigator.serviceWorker.ready).getNotifications())
              .some((n) => n.title === "bob mentioned you again")"""
    )
    assert len(page.evaluate(NOTIFICATIONS)) == 1
    # Another message is another notification.
    push_to(context, page, origin, payload | {"seq": 8, "url": f"{origin}/rooms/{slug}/#seq-8"})
    tags = sorted(n["tag"] for n in wait_for_notifications(page, 2))
    assert tags == [f"rooms:{slug}:7", f"rooms:{slug}:8"]


def test_a_click_on_the_notification_brings_the_rooms_window_to_the_message(
    deployment, browse, room
):
    slug = room()
    origin = deployment.worker.http_url
    context = browse("alice")
    context.grant_permissions(["notifications"], origin=origin)
    page = controlled(open_room(context, deployment, slug))
    other = context.new_page()
    other.goto(origin + "/search/")
    url = f"{origin}/rooms/{slug}/#seq-3"
    push_to(context, page, origin, {"room": slug, "seq": 3, "title": "t", "body": "b", "url": url})
    assert len(wait_for_notifications(page, 1)) == 1
    (worker,) = context.service_workers or [context.wait_for_event("serviceworker")]
    # The worker's own click handler, on the notification it showed.
    outcome = worker.evaluate("""async () => {
      const [notification] = await self.registration.getNotifications();
      let settled = Promise.resolve();
      self.onnotificationclick({ notification, waitUntil: (promise) => { settled = promise; } });
      try {
        const client = await settled;
        return { focused: client.focused, url: client.url };
      } catch (error) {
        return { error: `${error.name}: ${error.message}` };
      }
    }""")
    # Only a real click may focus a window: that refusal is all that is
    # allowed to go wrong here.
    assert outcome in (
        {"focused": True, "url": url},
        {"error": "InvalidAccessError: Not allowed to focus a window."},
    ), outcome
    expect(page).to_have_url(url)
    assert other.url == origin + "/search/"
    assert [p.url for p in context.pages] == [url, origin + "/search/"]
    assert wait_for_notifications(page, 0) == []  # the click closed it


def test_a_page_that_cannot_load_shows_the_offline_page(deployment, browse, room):
    context = browse("alice")
    origin = deployment.worker.http_url
    page = context.new_page()
    page.goto(origin + "/")
    controlled(page)
    context.set_offline(True)
    try:
        page.goto(f"{origin}/rooms/{room()}/")
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        expect(page.get_by_text("The app is offline")).to_be_visible()
        # Styled like the other pages, from the copy of the stylesheet the worker kept.
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 10
        # Fetched without cookies: no name and no CSRF token in the kept copy.
        assert page.locator(".me").count() == 0
        assert page.locator("input[name=csrfmiddlewaretoken]").count() == 0
    finally:
        context.set_offline(False)
    page.goto(origin + "/")
    expect(page.locator("#room-list, .empty").first).to_be_visible()


# What the browser's push service would do, in the page: PushManager's
# subscription kept in window.__subscription, each call to the server's push
# API recorded (by the routes below).
FAKE_PUSH_MANAGER = """
window.__subscription = null;
const fake = (key) => ({
  endpoint: "https://push.example/send/device-1",
  options: { applicationServerKey: key },
  toJSON() { return { endpoint: this.endpoint, keys: { p256dh: "BPk", auth: "au" } }; },
  async unsubscribe() { window.__subscription = null; return true; },
});
PushManager.prototype.getSubscription = async function () { return window.__subscription; };
PushManager.prototype.subscribe = async function (options) {
  if (!options.userVisibleOnly) throw new Error("userVisibleOnly");
  window.__subscription = fake(new Uint8Array(options.applicationServerKey).buffer);
  return window.__subscription;
};
"""
KEY = "AQIDBA"  # four bytes are enough for the fake


@pytest.fixture
def fresh_login(playwright_browser, deployment):
    """fresh_login(user) -> a page of a new context logged in through the form:
    a session of its own, which the test may log out (the `browse` contexts
    share one session per user)."""
    contexts = []

    def login(user: str):
        context = playwright_browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.goto(deployment.worker.http_url + "/accounts/login/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(deployment.worker.http_url + "/")
        return page

    yield login
    for context in contexts:
        context.close()


def serve_push_api(page, key: str | None, calls: list) -> None:
    def key_route(route):
        if key is None:
            route.fulfill(status=404, json={"error": {"code": "not_found"}})
        else:
            route.fulfill(json={"public_key": key})

    def subscriptions_route(route):
        request = route.request
        calls.append(
            (request.method, request.post_data_json, request.headers.get("x-csrftoken", ""))
        )
        status = {"POST": 201, "DELETE": 204}[request.method]
        route.fulfill(status=status, body="" if status == 204 else "{}")

    page.route("**/api/push/key", key_route)
    page.route("**/api/push/subscriptions", subscriptions_route)


def test_the_device_control_asks_on_click_subscribes_stops_and_forgets_the_device_on_logout(
    deployment, fresh_login
):
    origin = deployment.worker.http_url
    page = fresh_login("alice")
    context = page.context
    page.add_init_script(FAKE_PUSH_MANAGER)
    calls = []
    serve_push_api(page, KEY, calls)
    page.goto(origin + "/")
    button = page.locator("#push-device button")
    expect(button).to_have_text("Notify me on this device")
    # Nothing asked on load: the permission is still the browser's default.
    assert page.evaluate("Notification.permission") == "default"
    context.grant_permissions(["notifications"], origin=origin)
    button.click()
    expect(button).to_have_text("Stop on this device")
    ((method, body, token),) = calls
    assert method == "POST" and token
    assert body == {
        "endpoint": "https://push.example/send/device-1",
        "keys": {"p256dh": "BPk", "auth": "au"},
    }
    button.click()
    expect(button).to_have_text("Notify me on this device")
    assert calls[1][:2] == ("DELETE", {"endpoint": "https://push.example/send/device-1"})
    assert page.evaluate("window.__subscription") is None
    # On again, then log out from this device: the server forgets it first.
    button.click()
    expect(button).to_have_text("Stop on this device")
    page.on(
        "request",
        lambda request: (
            request.url.endswith("/accounts/logout/") and calls.append(("logout", None, None))
        ),
    )
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{origin}/accounts/login/")
    assert [call[0] for call in calls] == ["POST", "DELETE", "POST", "DELETE", "logout"]
    calls.pop()
    assert calls[-1][1] == {"endpoint": "https://push.example/send/device-1"} and calls[-1][2]
    page.goto(origin + "/")
    expect(page).to_have_url(f"{origin}/accounts/login/?next=/")


def test_the_device_control_says_when_the_server_has_no_push_key(deployment, browse):
    context = browse("alice")
    page = context.new_page()
    page.add_init_script(FAKE_PUSH_MANAGER)
    calls = []
    serve_push_api(page, None, calls)
    page.goto(deployment.worker.http_url + "/")
    button = page.locator("#push-device button")
    expect(button).to_have_text("Push notifications are not set up on this server")
    expect(button).to_be_disabled()
    assert calls == []


def test_the_settings_page_saves_the_address_and_offers_this_devices_push(deployment, browse):
    context = browse("alice", width=1100, height=720)
    page = context.new_page()
    page.add_init_script(FAKE_PUSH_MANAGER)
    serve_push_api(page, None, [])
    page.goto(deployment.worker.http_url + "/")
    page.get_by_role("link", name="alice").click()  # the top bar's way to one's settings
    page.get_by_label("Email address").fill("alice@example.com")
    # The email card's Save (the language and theme card has its own).
    page.locator("form:has(#id_email)").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value("alice@example.com")
    expect(page.locator("#push-device button")).to_be_disabled()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "settings.png")
