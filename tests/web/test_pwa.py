"""The installable app's HTTP side through Django's test client (docs/ui.md,
"Installable app and push"): the service worker served from the site root
with the headers a worker at "/" needs, the web app manifest and its icons,
the offline page, and the pages' links to them. The worker's behaviour is
in tests/js/push.test.mjs and tests/browser/test_push.py."""

import json
import struct
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from tests.web.test_security import DIRECTIVES, INLINE, policy

pytestmark = pytest.mark.django_db

SERVICE_WORKER = Path(__file__).resolve().parents[2] / "rooms/static/rooms/sw.js"


@pytest.fixture
def alice_client(client, user_factory):
    client.force_login(user_factory("alice"))
    return client


def body_of(response) -> bytes:
    """A response's bytes; ServeStatic streams its files asynchronously."""
    if not response.streaming:
        return response.content

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_service_worker_is_served_from_the_root_to_control_every_page(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert response.content == SERVICE_WORKER.read_bytes()
    assert b"self.onpush" in response.content
    assert client.post("/sw.js").status_code == 405


def test_the_manifest_names_the_app_and_icons_that_exist(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Rooms"
    assert manifest["short_name"] == "Rooms"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    assert [icon["sizes"] for icon in manifest["icons"]] == ["192x192", "512x512"]
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        assert icon["src"].startswith("/static/rooms/icons/")
        image = client.get(icon["src"])
        assert image.status_code == 200, icon["src"]
        size = int(icon["sizes"].partition("x")[0])
        assert png_size(body_of(image)) == (size, size)


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_offline_page_says_the_app_is_offline(client, user_factory, signed_in):
    if signed_in:
        client.force_login(user_factory("alice"))
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are offline" in html and "The app is offline" in html


def test_every_page_links_the_manifest_with_its_theme_colour(client, alice_client):
    manifest = json.loads(client.get("/manifest.webmanifest").content)
    theme = f'<meta name="theme-color" content="{manifest["theme_color"]}">'
    for url in ("/", "/offline/", "/search/"):
        html = alice_client.get(url).content.decode()
        assert '<link rel="manifest" href="/manifest.webmanifest">' in html, url
        assert theme in html, url
    alice_client.logout()
    login = client.get("/accounts/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in login


def test_signed_in_pages_load_the_push_script_and_the_room_list_has_its_slot(client, user_factory):
    script = '<script type="module" src="/static/rooms/push.js"></script>'
    assert script not in client.get("/accounts/login/").content.decode()
    client.force_login(user_factory("alice"))
    html = client.get("/").content.decode()
    assert script in html
    assert '<div id="push-device"></div>' in html


def test_the_new_responses_carry_the_policy_and_the_offline_page_needs_no_inline_code(
    alice_client,
):
    for url in ("/sw.js", "/manifest.webmanifest", "/offline/"):
        response = alice_client.get(url)
        directives = policy(response)
        for directive, sources in DIRECTIVES.items():
            assert directives.get(directive) == sources, (url, directive)
    assert INLINE.findall(alice_client.get("/offline/").content.decode()) == []
