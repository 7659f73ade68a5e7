"""`POST /api/rooms/<slug>/attachments` (docs/attachments.md) through the
test client: the 201 object, token or session + CSRF like every write,
the limit refused on the declared length and on the bytes counted (413
`too_large`), the statuses of who may not, and messages published over
HTTP that carry uploads."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rooms import services
from rooms.models import Attachment
from tests.files.samples import jpeg_with_gps, png

pytestmark = pytest.mark.django_db


def url(slug: str = "lobby") -> str:
    return f"/api/rooms/{slug}/attachments"


@pytest.fixture
def api(alice):
    token = services.api_token_issue(user=alice)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def upload(client, content=b"plain words", name="notes.txt", slug="lobby", **extra):
    claimed = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(url(slug), {"file": claimed, **extra})


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_an_upload_answers_201_with_the_attachment(api, lobby):
    response = upload(api, jpeg_with_gps((640, 480)), "holiday.jpg")
    assert response.status_code == 201, response.content
    attachment = response.json()["attachment"]
    assert set(attachment) == {
        "id",
        "name",
        "size",
        "content_type",
        "url",
        "thumbnail_url",
        "width",
        "height",
    }
    assert (attachment["name"], attachment["content_type"]) == ("holiday.jpg", "image/jpeg")
    assert (attachment["width"], attachment["height"]) == (640, 480)
    assert attachment["url"] == f"/attachments/{attachment['id']}/holiday.jpg"
    assert attachment["thumbnail_url"] == f"/attachments/thumbnails/{attachment['id']}.webp"
    text = upload(api).json()["attachment"]
    assert (text["content_type"], text["thumbnail_url"], text["width"]) == (
        "text/plain; charset=utf-8",
        None,
        None,
    )


def test_a_session_upload_must_pass_the_csrf_check(alice, lobby):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert error_of(upload(browser), 403)["code"] == "forbidden"
    browser.get("/admin/login/")  # any page with a form sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        url(), {"file": SimpleUploadedFile("a.txt", b"words")}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content
    anonymous = Client(enforce_csrf_checks=True)
    assert error_of(upload(anonymous), 401)["code"] == "auth_required"


def test_past_the_limit_by_its_declared_length_is_413_before_anything(api, lobby, settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    error = error_of(upload(api, b"x" * 70_000), 413)
    assert error["code"] == "too_large"
    assert not Attachment.objects.exists()


def test_past_the_limit_by_the_bytes_counted_is_413(api, lobby, settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    error = error_of(upload(api, b"x" * 1001), 413)
    assert (error["code"], error["message"]) == ("too_large", "A file may be at most 1000 bytes.")
    assert upload(api, b"x" * 1000).status_code == 201


def test_a_refusal_is_said_in_the_language_the_client_asks_for(api, lobby, settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000

    def german(content: bytes):
        file = SimpleUploadedFile("a.txt", content)
        return api.post(url(), {"file": file}, headers={"Accept-Language": "de"})

    empty = error_of(german(b""), 400)
    assert (empty["code"], empty["message"]) == ("invalid", "Die Datei ist leer.")
    large = error_of(german(b"x" * 1001), 413)
    assert large["message"] == "Eine Datei darf höchstens 1000 Bytes groß sein."


def test_who_may_not_upload_gets_the_status_of_why(api, room_factory, alice, bob):
    room_factory("secret", is_private=True, members=[bob])
    assert error_of(upload(api, slug="secret"), 404)["code"] == "not_found"
    assert error_of(upload(api, slug="nowhere"), 404)["code"] == "not_found"
    quiet = room_factory("quiet")
    services.membership_set_role(room=quiet, user=alice, role="read_only")
    assert error_of(upload(api, slug="quiet"), 403)["code"] == "forbidden"


@pytest.mark.parametrize(
    "body",
    [
        {},  # no file
        {"other": SimpleUploadedFile("a.txt", b"x")},  # not in `file`
        {"file": [SimpleUploadedFile("a.txt", b"x"), SimpleUploadedFile("b.txt", b"y")]},
    ],
)
def test_one_file_in_the_field_file_or_400(api, lobby, body):
    assert error_of(api.post(url(), body), 400)["field"] == "file"


def test_a_body_that_is_not_multipart_is_400(api, lobby):
    response = api.post(url(), "{}", content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid"
    broken = api.post(url(), b"--x\r\nnonsense", content_type="multipart/form-data; boundary=")
    assert error_of(broken, 400)["code"] == "invalid"


def test_an_unreadable_image_is_400_invalid(api, lobby):
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert error_of(upload(api, broken, "a.png"), 400)["field"] == "file"


def test_uploads_past_the_rate_are_429_with_retry_after(api, lobby, settings):
    settings.ROOMS_UPLOAD_RATE = (1, 60)
    assert upload(api).status_code == 201
    response = upload(api)
    assert error_of(response, 429)["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 60


def test_only_post(api, lobby):
    assert api.get(url()).status_code == 405


def test_a_message_published_over_http_carries_its_uploads(api, lobby):
    first = upload(api, png(), "a.png").json()["attachment"]
    second = upload(api).json()["attachment"]
    payload = {"attachments": [first["id"], second["id"]], "client_id": "c-1"}
    response = api.post(
        "/api/rooms/lobby/messages", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    message = response.json()["message"]
    assert message["body"] == "" and message["attachments"] == [first, second]
    page = api.get("/api/rooms/lobby/messages").json()["messages"]
    assert page[-1]["attachments"] == [first, second]
    again = api.post(
        "/api/rooms/lobby/messages", json.dumps(payload), content_type="application/json"
    )
    assert (again.status_code, again.json()["message"]) == (200, message)


def test_a_message_naming_an_upload_it_may_not_use_is_400(api, lobby, bob):
    foreign = services.attachment_upload_by(
        by=bob, slug="lobby", upload=SimpleUploadedFile("a.txt", b"x")
    )
    for attachments in ([foreign.id], "nope", ["0" * 32] * 11):
        response = api.post(
            "/api/rooms/lobby/messages",
            json.dumps({"body": "hi", "attachments": attachments}),
            content_type="application/json",
        )
        assert error_of(response, 400)["field"] == "attachments"
