"""Admin writes reach open pages live: a staff member logged in to a real
daphne worker archives a room, redacts a message and posts to a room, and a
WebSocket joined to that room gets the `room`, `redact` and `message` frames.
"""

import asyncio
import http.cookiejar
import urllib.parse
import urllib.request

import pytest

from tests.harness.live import joined_socket, next_frame, start_site

pytestmark = pytest.mark.integration


class AdminSession:
    """A browser-like HTTP session: cookies, and the CSRF token in each form post."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> str:
        csrf = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf}, doseq=True)
        with self.opener.open(self.base_url + path, data.encode(), timeout=30) as response:
            return response.read().decode()

    def log_in(self, username: str, password: str) -> None:
        self.get("/admin/login/")
        page = self.post("/admin/login/", {"username": username, "password": password})
        assert "Log out" in page, "the admin login failed"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = start_site(tmp_path_factory.mktemp("admin"), "alice")
    deployment.collect_static()
    deployment.shell(
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.create_superuser('boss', 'boss@example.com', 'boss-pass-123')\n"
    )
    try:
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def admin(site):
    session = AdminSession(site.workers[0].http_url)
    session.log_in("boss", "boss-pass-123")
    return session


def object_id(site, code: str) -> int:
    return int(site.shell(f"print({code})").split()[-1])


async def test_archive_action_sends_a_live_room_frame(site, admin):
    site.manage("createroom", "attic", "--title", "Attic")
    room_id = object_id(site, "__import__('rooms.models').models.Room.objects.get(slug='attic').pk")
    async with joined_socket(site.workers[0], site.token("alice"), "attic") as ws:
        fields = {"action": "archive_rooms", "_selected_action": [room_id]}
        await asyncio.to_thread(admin.post, "/admin/rooms/room/", fields)
        frame = await next_frame(ws, lambda frame: frame["type"] == "room")
    assert frame == {"type": "room", "room": "attic", "title": "Attic", "read_only": True}


async def test_room_edit_sends_a_live_room_frame(site, admin):
    site.manage("createroom", "renamed")
    room_id = object_id(
        site, "__import__('rooms.models').models.Room.objects.get(slug='renamed').pk"
    )
    inline = {f"memberships-{name}": "0" for name in ("TOTAL_FORMS", "INITIAL_FORMS")}
    async with joined_socket(site.workers[0], site.token("alice"), "renamed") as ws:
        fields = {"title": "A new name", **inline}
        await asyncio.to_thread(admin.post, f"/admin/rooms/room/{room_id}/change/", fields)
        frame = await next_frame(ws, lambda frame: frame["type"] == "room")
    assert (frame["title"], frame["read_only"]) == ("A new name", False)


async def test_delete_action_sends_a_live_delete_entry(site, admin):
    seq = int(site.manage("post", "lobby", "something rude", "--as", "alice").stdout)
    message_id = object_id(
        site,
        f"__import__('rooms.models').models.Message.objects.get(room__slug='lobby', seq={seq}).pk",
    )
    async with joined_socket(site.workers[0], site.token("alice"), "lobby") as ws:
        fields = {"action": "delete_messages", "_selected_action": [message_id]}
        await asyncio.to_thread(admin.post, "/admin/rooms/message/", fields)
        frame = await next_frame(
            ws, lambda frame: frame["type"] == "message" and frame["message"]["kind"] == "delete"
        )
    assert (frame["message"]["target"], frame["message"]["author"]) == (seq, "boss")


async def test_post_form_sends_a_live_message_frame(site, admin):
    room_id = object_id(site, "__import__('rooms.models').models.Room.objects.get(slug='lobby').pk")
    async with joined_socket(site.workers[0], site.token("alice"), "lobby") as ws:
        fields = {"room": room_id, "body": "Staff notice"}
        await asyncio.to_thread(admin.post, "/admin/rooms/message/post/", fields)
        frame = await next_frame(
            ws, lambda frame: frame["type"] == "message" and frame["message"]["kind"] == "system"
        )
    assert frame["message"]["body"] == "Staff notice" and frame["message"]["author"] is None
    assert not site.tracebacks()
