"""Files served at their addresses (rooms/web/attachments.py,
rooms/files/serving.py): to people who may see the room only, 404 for
everyone else, anonymous visitors included; nothing sniffed, nothing run
(nosniff, CSP sandbox), anything but a raster image a download; byte
ranges when the worker sends the bytes, X-Accel-Redirect when nginx does."""

import pytest
from django.test import Client

from rooms import selectors, services
from tests.files.samples import HTML, SVG, png, stored_upload

pytestmark = pytest.mark.django_db

TEXT = b"0123456789" * 1000


@pytest.fixture
def lobby(room_factory):
    return room_factory("lobby")


def sent(room, author, content: bytes, name: str) -> dict:
    attachment = stored_upload(author, room, content, name)
    services.message_post(room=room, author=author, body="", attachments=(attachment.id,))
    return selectors.attachment_json(attachment=attachment)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_image_is_shown_in_place_with_the_guarding_headers(lobby, alice):
    image = sent(lobby, alice, png(), "a.png")
    response = client_of(alice).get(image["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="a.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"].startswith("private")
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == image["size"] == len(body(response))
    thumbnail = client_of(alice).get(image["thumbnail_url"])
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/webp")
    assert body(thumbnail)[8:12] == b"WEBP"


@pytest.mark.parametrize(("content", "name"), [(HTML, "page.html"), (SVG, "logo.svg")])
def test_html_and_svg_are_downloads_never_documents(lobby, alice, content, name):
    response = client_of(alice).get(sent(lobby, alice, content, name)["url"])
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Security-Policy"] == "sandbox"
    assert body(response) == content


def test_people_who_cannot_see_the_room_get_404_like_for_nothing(
    room_factory, alice, bob, user_factory
):
    secret = room_factory("secret", is_private=True, members=[alice])
    image = sent(secret, alice, png(), "a.png")
    for url in (image["url"], image["thumbnail_url"]):
        assert client_of(bob).get(url).status_code == 404
        assert Client().get(url).status_code == 404  # anonymous: 404, not a login page
    missing = f"/attachments/{'0' * 32}/a.png"
    assert client_of(alice).get(missing).status_code == 404
    assert client_of(alice).get(image["url"]).status_code == 200
    services.membership_remove(room=secret, user=alice)
    assert client_of(alice).get(image["url"]).status_code == 404  # checked on every request


def test_the_name_in_the_address_is_for_people_the_id_decides(lobby, alice):
    text = sent(lobby, alice, TEXT, "digits.txt")
    other_name = text["url"].rsplit("/", 1)[0] + "/whatever.exe"
    response = client_of(alice).get(other_name)
    assert response["Content-Disposition"] == 'attachment; filename="digits.txt"'


@pytest.mark.parametrize(
    ("header", "status", "expected", "content_range"),
    [
        ("bytes=0-9", 206, TEXT[:10], "bytes 0-9/10000"),
        ("bytes=9990-", 206, TEXT[9990:], "bytes 9990-9999/10000"),
        ("bytes=-5", 206, TEXT[-5:], "bytes 9995-9999/10000"),
        ("bytes=9995-20000", 206, TEXT[9995:], "bytes 9995-9999/10000"),
        ("bytes=0-1,5-6", 200, TEXT, None),  # several ranges: the whole file
        ("lines=1-2", 200, TEXT, None),
        ("bytes=10000-", 416, b"", "bytes */10000"),
    ],
)
def test_a_single_byte_range_is_served_as_206(
    lobby, alice, header, status, expected, content_range
):
    text = sent(lobby, alice, TEXT, "digits.txt")
    response = client_of(alice).get(text["url"], headers={"Range": header})
    assert response.status_code == status
    assert body(response) == expected
    assert response.get("Content-Range") == content_range


def test_head_and_a_matching_etag_send_no_bytes(lobby, alice):
    text = sent(lobby, alice, TEXT, "digits.txt")
    client = client_of(alice)
    head = client.head(text["url"])
    assert (head.status_code, head["Content-Length"], body(head)) == (200, "10000", b"")
    again = client.get(text["url"], headers={"If-None-Match": head["ETag"]})
    assert (again.status_code, body(again)) == (304, b"")
    assert client.post(text["url"]).status_code == 405


def test_behind_nginx_the_worker_authorizes_and_names_the_file(lobby, alice, bob, settings):
    settings.ROOMS_ACCEL_REDIRECT = "/_protected/"
    image = sent(lobby, alice, png(), "a.png")
    response = client_of(bob).get(image["url"])
    key = f"attachments/{image['id'][:2]}/{image['id']}"
    assert response["X-Accel-Redirect"] == f"/_protected/{key}"
    assert (response["Content-Type"], body(response)) == ("image/png", b"")
    assert response["Content-Security-Policy"] == "sandbox"
    assert Client().get(image["url"]).status_code == 404


def test_a_bot_fetches_files_with_its_api_token(lobby, alice, bob):
    text = sent(lobby, alice, TEXT, "digits.txt")
    token = services.api_token_issue(user=bob)
    response = Client(headers={"Authorization": f"Bearer {token}"}).get(text["url"])
    assert (response.status_code, body(response)) == (200, TEXT)
    wrong = Client(headers={"Authorization": "Bearer rooms_nope"})
    assert wrong.get(text["url"]).status_code == 404
    # A bad token is nobody, even beside a session.
    session = client_of(bob)
    assert session.get(text["url"], headers={"Authorization": "Bearer x"}).status_code == 404
