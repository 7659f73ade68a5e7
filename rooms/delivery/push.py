"""Web Push: one message to one browser subscription, and what the push service
made of it.

The payload is encrypted for the browser (RFC 8291, aes128gcm) and signed with
the site's VAPID key (RFC 8292), so only the browser can read it and only this
site can send to its subscriptions. Pure of the ORM: the caller decides what to
do with a subscription that is "gone" or a message to "retry".

ROOMS_VAPID_PRIVATE_KEY is a P-256 private key, either PEM (SEC1 "EC PRIVATE
KEY" or PKCS#8 "PRIVATE KEY"; on several lines, or on one line with its line
breaks written as `\\n`) or the raw 32-byte private value in base64url, padding
optional (what `manage.py vapidkeys` prints).
"""

import base64
import binascii
import functools
import json
import logging
import re
import time
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import urlsplit

import http_ece
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid, VapidException
from pywebpush import WebPusher, WebPushException

logger = logging.getLogger(__name__)

# Seconds to wait for the push service: the worker sends one push after
# another, and one slow service must not hold up everybody else's.
TIMEOUT = 5  # one request at a time: a worker stops within 10 s of SIGTERM
# RFC 8292 allows up to 24 hours; a shorter token is less use to anyone who
# copies it off the wire.
TOKEN_LIFETIME = 12 * 60 * 60
BODY_LENGTH = 200
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


class PushOutcome(str):
    """What became of one push, compared like a string (`outcome == "gone"`):

    - "sent": the push service accepted it;
    - "gone": 404 or 410, the subscription is dead: delete it;
    - "retry": 429, 5xx, a timeout or no connection: try again later, after
      `retry_after` seconds when the service said how long (else None);
    - "failed": any other answer; trying again would fail the same way.
    """

    SENT: ClassVar["PushOutcome"]
    GONE: ClassVar["PushOutcome"]
    RETRY: ClassVar["PushOutcome"]
    FAILED: ClassVar["PushOutcome"]

    retry_after: int | None

    def __new__(cls, value: str, *, retry_after: int | None = None) -> "PushOutcome":
        if value not in ("sent", "gone", "retry", "failed"):
            raise ValueError(f"not a push outcome: {value!r}")
        outcome = super().__new__(cls, value)
        outcome.retry_after = retry_after
        return outcome

    def __repr__(self) -> str:
        return f"PushOutcome({str(self)!r}, retry_after={self.retry_after!r})"


PushOutcome.SENT = PushOutcome("sent")
PushOutcome.GONE = PushOutcome("gone")
PushOutcome.RETRY = PushOutcome("retry")
PushOutcome.FAILED = PushOutcome("failed")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    if match := _PEM.search(value):
        # Rebuilt from its base64 alone: env files mangle line breaks in
        # several ways (kept, written as \n, or dropped).
        label, body = match.group(1), re.sub(r"\\n|\s", "", match.group(2))
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        pem = "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    else:
        raw = _unb64url(value.strip())
        if len(raw) != 32:
            raise ValueError("a raw private key is 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 key")
    return key


@functools.lru_cache(maxsize=4)
def _parsed_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """Parsed once per process and key, not once per push."""
    return _parse_private_key(value)


def _private_key() -> ec.EllipticCurvePrivateKey | None:
    value = getattr(settings, "ROOMS_VAPID_PRIVATE_KEY", None)
    if not value:
        return None
    try:
        return _parsed_private_key(value)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ImproperlyConfigured(
            "ROOMS_VAPID_PRIVATE_KEY is neither a P-256 private key in PEM nor the raw "
            f"32-byte key in base64url ({error}); `manage.py vapidkeys` prints a new one."
        ) from error


def _public_point(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def vapid_public_key() -> str | None:
    """The public half of ROOMS_VAPID_PRIVATE_KEY as the browser's
    `applicationServerKey` wants it (the uncompressed P-256 point, base64url);
    None when Web Push is off."""
    key = _private_key()
    return None if key is None else _public_point(key)


def vapid_keys_generate() -> tuple[str, str]:
    """A new (private, public) key pair: the private key in the raw base64url
    form ROOMS_VAPID_PRIVATE_KEY accepts, the public one as vapid_public_key()."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big")), _public_point(key)


def push_payload(*, room_slug: str, seq: int, title: str, body: str, url: str) -> dict:
    """What the service worker receives for one message (the plaintext of the push)."""
    return {"room": room_slug, "seq": seq, "title": title, "body": body[:BODY_LENGTH], "url": url}


def _origin(endpoint: str) -> str | None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


# (key, subject, audience) -> (when to sign anew, the headers): a token is
# reused for many pushes to one push service, as RFC 8292 allows, until an
# hour before it expires.
_signed: dict[tuple, tuple[float, dict[str, str]]] = {}
HELD = 64  # push services (origins) whose token and connections are kept


def _vapid_headers(key: ec.EllipticCurvePrivateKey, audience: str) -> dict[str, str]:
    subject = getattr(settings, "ROOMS_VAPID_SUBJECT", None) or (
        "mailto:" + getattr(settings, "ROOMS_EMAIL_FROM", "rooms@localhost")
    )
    now = time.time()
    held = _signed.get((key, subject, audience))
    if held is not None and now < held[0]:
        return dict(held[1])
    claims = {"sub": subject, "aud": audience, "exp": int(now) + TOKEN_LIFETIME}
    try:
        headers = Vapid(private_key=key).sign(claims)
    except VapidException as error:
        raise ImproperlyConfigured(
            f"ROOMS_VAPID_SUBJECT must be a mailto: or https: URL, not {subject!r}"
        ) from error
    if len(_signed) >= HELD:
        _signed.clear()
    _signed[(key, subject, audience)] = (now + TOKEN_LIFETIME - 3600, dict(headers))
    return headers


# The worker's HTTP sessions, one per push service (origin): consecutive
# pushes to a service share its connections (a TLS handshake each otherwise).
_sessions: dict[str, requests.Session] = {}


def _session(origin: str) -> requests.Session:
    session = _sessions.get(origin)
    if session is None:
        if len(_sessions) >= HELD:
            _drop_session(next(iter(_sessions)))
        session = requests.Session()
        # Only the endpoint the browser gave is contacted: a redirect is not
        # followed (requests raises TooManyRedirects before the second request).
        session.max_redirects = 0
        # What requests takes from the environment (proxies, NO_PROXY, the CA
        # bundle), worked out by requests once here rather than at every
        # request (a tenth of a push's CPU).
        found = session.merge_environment_settings(origin, {}, None, None, None)
        session.proxies, session.verify = found["proxies"], found["verify"]
        session.trust_env = False
        _sessions[origin] = session
    return session


def _drop_session(origin: str) -> None:
    session = _sessions.pop(origin, None)
    if session is not None:
        session.close()


def _retry_after(value: str | None) -> int | None:
    """Retry-After in seconds: it is either a number of seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, round(moment.timestamp() - time.time()))


def _outcome(response: requests.Response, origin: str) -> PushOutcome:
    status = response.status_code
    if 200 <= status < 300:
        return PushOutcome.SENT
    if status in (404, 410):
        return PushOutcome.GONE
    if status == 429 or status >= 500:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return PushOutcome("retry", retry_after=retry_after)
    # Only the origin: the endpoint's path is the subscription's secret.
    logger.warning("push to %s refused: %s %s", origin, status, response.text[:200])
    return PushOutcome.FAILED


def send_push(
    *, endpoint: str, p256dh: str, auth: str, payload: dict, ttl: int = 86400
) -> PushOutcome:
    """Encrypt `payload` (JSON) for one subscription and post it to the
    subscription's endpoint, which the push service keeps for up to `ttl`
    seconds while the device is offline. Raises ImproperlyConfigured when
    Web Push is off (no ROOMS_VAPID_PRIVATE_KEY) or misconfigured."""
    key = _private_key()
    if key is None:
        raise ImproperlyConfigured("Web Push is off: ROOMS_VAPID_PRIVATE_KEY is not set.")
    origin = _origin(endpoint)
    if origin is None:
        logger.warning("push endpoint is not an http(s) URL")
        return PushOutcome.FAILED
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        pusher = WebPusher(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            requests_session=_session(origin),
        )
        response = pusher.send(
            body,
            headers=_vapid_headers(key, origin),
            ttl=ttl,
            content_encoding="aes128gcm",
            timeout=TIMEOUT,
        )
    except (WebPushException, http_ece.ECEException, ValueError, binascii.Error) as error:
        # The browser's keys cannot be used: nothing was sent, nothing will be.
        logger.warning("push to %s not encrypted: %s", origin, error)
        return PushOutcome.FAILED
    except requests.TooManyRedirects:
        logger.warning("push to %s redirected; not followed", origin)
        return PushOutcome.FAILED
    except requests.RequestException as error:
        logger.info("push to %s will be retried: %s", origin, type(error).__name__)
        _drop_session(origin)  # its connections may be broken: new ones next time
        return PushOutcome.RETRY
    return _outcome(response, origin)
