"""Web Push (rooms/delivery/push.py) against a push service of the tests' own:
a small HTTP server on 127.0.0.1 that records each request, holding the
browser's side of a real subscription, so it decrypts what was sent (RFC 8291)
and checks the VAPID signature (RFC 8292) the way a real push service would.
"""

import base64
import io
import json
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from rooms.delivery import push

SUBJECT = "mailto:ops@rooms.example"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """Answers every request with `status` and `headers` (after `delay`
    seconds) and keeps what it received."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as push services allow

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.requests.append(
                    {
                        "path": self.path,
                        "headers": self.headers,
                        "body": body,
                        "client": self.client_address,  # (host, port): which connection
                    }
                )
                time.sleep(service.delay)
                self.send_response(service.status)
                for name, value in service.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, status: int, **headers: str) -> None:
        self.status, self.headers = status, {k.replace("_", "-"): v for k, v in headers.items()}


class Browser:
    """The browser's half of a subscription: an ECDH P-256 key pair and a
    16-byte auth secret, as PushManager.subscribe() makes them."""

    def __init__(self, endpoint: str):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = bytes(range(16))
        self.endpoint = endpoint
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh = b64url(point)
        self.auth = b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict:
        plaintext = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plaintext)


@pytest.fixture
def service():
    service = PushService()
    thread = threading.Thread(target=service.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()
    thread.join()


@pytest.fixture
def vapid(settings):
    private_key, public_key = push.vapid_keys_generate()
    settings.ROOMS_VAPID_PRIVATE_KEY = private_key
    settings.ROOMS_VAPID_SUBJECT = SUBJECT
    return public_key


@pytest.fixture
def browser(service):
    return Browser(f"{service.origin}/wpush/v2/subscription-abc")


def payload():
    return push.push_payload(
        room_slug="lobby", seq=42, title="Ada in #lobby", body="hello", url="http://x/#seq-42"
    )


def send(browser, **overrides):
    arguments = {
        "endpoint": browser.endpoint,
        "p256dh": browser.p256dh,
        "auth": browser.auth,
        "payload": payload(),
    }
    return push.send_push(**(arguments | overrides))


def verified_claims(authorization: str, public_key: str) -> dict:
    """The JWT claims of `vapid t=<jwt>, k=<key>`, once its ES256 signature
    has been checked against k."""
    scheme, _, parameters = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in parameters.split(","))
    assert fields["k"] == public_key
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64url(claims))


# --- what is sent ---------------------------------------------------------------


def test_the_browser_decrypts_the_message_signed_by_the_sites_vapid_key(service, vapid, browser):
    assert send(browser, ttl=3600) == "sent"

    (request,) = service.requests
    assert request["path"] == "/wpush/v2/subscription-abc"
    assert request["headers"]["Content-Encoding"] == "aes128gcm"
    assert request["headers"]["TTL"] == "3600"
    assert browser.decrypt(request["body"]) == {
        "room": "lobby",
        "seq": 42,
        "title": "Ada in #lobby",
        "body": "hello",
        "url": "http://x/#seq-42",
    }
    assert push.vapid_public_key() == vapid
    claims = verified_claims(request["headers"]["Authorization"], vapid)
    assert claims["aud"] == service.origin
    assert claims["sub"] == SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 12 * 60 * 60 + 5


def test_a_message_kept_a_day_by_default(service, vapid, browser):
    send(browser)
    assert service.requests[0]["headers"]["TTL"] == "86400"


def test_a_signature_by_another_key_does_not_verify(service, vapid, browser):
    send(browser)
    _, other = push.vapid_keys_generate()
    with pytest.raises(AssertionError):
        verified_claims(service.requests[0]["headers"]["Authorization"], other)
    forged = service.requests[0]["headers"]["Authorization"].replace(vapid, other)
    with pytest.raises(InvalidSignature):
        verified_claims(forged, other)


def test_the_payload_cuts_the_body_to_200_characters():
    long = push.push_payload(room_slug="r", seq=1, title="t", body="é" * 500, url="u")
    assert long["body"] == "é" * 200
    assert push.push_payload(room_slug="r", seq=1, title="t", body="short", url="u")["body"] == (
        "short"
    )


# --- what the push service answered ---------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "sent"), (201, "sent"), (410, "gone"), (404, "gone"), (400, "failed"), (403, "failed")],
)
def test_the_outcome_follows_the_push_services_answer(service, vapid, browser, status, outcome):
    service.answer(status)
    assert send(browser) == outcome


def test_too_many_requests_is_retried_after_the_seconds_the_service_asked(service, vapid, browser):
    service.answer(429, Retry_After="7")
    outcome = send(browser)
    assert outcome == push.PushOutcome.RETRY
    assert outcome.retry_after == 7


def test_a_server_error_is_retried_after_the_date_the_service_gave(service, vapid, browser):
    service.answer(503, Retry_After=formatdate(time.time() + 30, usegmt=True))
    outcome = send(browser)
    assert outcome == "retry"
    assert 28 <= outcome.retry_after <= 30


def test_a_server_error_without_retry_after_is_retried_when_the_caller_likes(
    service, vapid, browser
):
    service.answer(500)
    outcome = send(browser)
    assert outcome == "retry"
    assert outcome.retry_after is None


def test_an_unreachable_push_service_is_retried(vapid, browser):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    browser.endpoint = f"http://127.0.0.1:{port}/gone-away"
    assert send(browser) == "retry"


def test_a_slow_push_service_is_given_up_on_and_retried(service, vapid, browser, monkeypatch):
    monkeypatch.setattr(push, "TIMEOUT", 0.1)
    service.delay = 0.5
    assert send(browser) == "retry"


def test_pushes_to_one_service_share_a_connection_and_a_vapid_token(service, vapid, browser):
    assert send(browser) == "sent" and send(browser) == "sent"
    first, second = service.requests
    assert first["client"] == second["client"]
    assert first["headers"]["Authorization"] == second["headers"]["Authorization"]
    assert browser.decrypt(first["body"]) == browser.decrypt(second["body"]) == payload()
    assert first["body"] != second["body"]  # each push encrypted anew


def test_a_connection_that_timed_out_is_not_used_again(service, vapid, browser, monkeypatch):
    monkeypatch.setattr(push, "TIMEOUT", 0.2)
    service.delay = 0.5
    assert send(browser) == "retry"
    service.delay = 0
    assert send(browser) == "sent"
    assert service.requests[0]["client"] != service.requests[1]["client"]


def test_a_redirect_is_not_followed(service, vapid, browser):
    service.answer(307, Location=f"{service.origin}/elsewhere")
    assert send(browser) == "failed"
    assert [request["path"] for request in service.requests] == ["/wpush/v2/subscription-abc"]


def test_keys_no_browser_would_give_fail_without_sending(service, vapid, browser):
    assert send(browser, p256dh=b64url(b"\x04" + bytes(64))) == "failed"
    assert send(browser, endpoint="ftp://127.0.0.1/x") == "failed"
    assert service.requests == []


# --- the key ---------------------------------------------------------------------


def test_no_key_means_no_web_push(settings, browser):
    settings.ROOMS_VAPID_PRIVATE_KEY = None
    assert push.vapid_public_key() is None
    with pytest.raises(ImproperlyConfigured):
        send(browser)


def test_vapidkeys_prints_a_private_key_that_gives_its_public_key(settings):
    out = io.StringIO()
    call_command("vapidkeys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    assert set(lines) == {"ROOMS_VAPID_PRIVATE_KEY", "ROOMS_VAPID_PUBLIC_KEY"}
    settings.ROOMS_VAPID_PRIVATE_KEY = lines["ROOMS_VAPID_PRIVATE_KEY"]
    assert push.vapid_public_key() == lines["ROOMS_VAPID_PUBLIC_KEY"]
    assert len(unb64url(lines["ROOMS_VAPID_PUBLIC_KEY"])) == 65


@pytest.mark.parametrize(
    "private_format",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
)
def test_a_pem_key_gives_the_same_public_key_however_its_lines_are_written(
    settings, private_format
):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()
    expected = b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    for written in (pem, pem.strip().replace("\n", "\\n"), pem.replace("\n", "")):
        settings.ROOMS_VAPID_PRIVATE_KEY = written
        assert push.vapid_public_key() == expected
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.ROOMS_VAPID_PRIVATE_KEY = raw + "="  # padded or not
    assert push.vapid_public_key() == expected


@pytest.mark.parametrize("value", ["not a key", b64url(bytes(31)), b64url(bytes(32))])
def test_a_key_that_is_not_a_p256_private_key_is_a_configuration_error(settings, value):
    settings.ROOMS_VAPID_PRIVATE_KEY = value
    with pytest.raises(ImproperlyConfigured):
        push.vapid_public_key()


def test_an_rsa_key_is_a_configuration_error(settings):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    settings.ROOMS_VAPID_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ImproperlyConfigured):
        push.vapid_public_key()
