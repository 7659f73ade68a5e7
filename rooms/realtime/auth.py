"""WebSocket handshake rules: the Origin check and who the client is.

docs/protocol.md, Connection: a handshake carrying an `Origin` must name a host of
ALLOWED_HOSTS (cross-site WebSocket hijacking protection), else HTTP 403
whatever the credentials; without `Origin` only token auth is accepted. A
token comes from `Authorization: Bearer` or `?token=`; otherwise the Django
session cookie. Every refusal is logged with its reason.

ALLOWED_HOSTS is the list of allowed origins, written as Django writes hosts:
`[::1]` admits `http://[::1]:8000`. A `*` would admit every origin and so
switch the check off: the application refuses to start with one
(ImproperlyConfigured), and the check never treats `*` as a wildcard.
"""

import logging
from urllib.parse import urlsplit

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError
from django.http.request import validate_host

from rooms import protocol, services
from rooms.tokens import bearer_token

from . import db

logger = logging.getLogger(__name__)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def allowed_origin_hosts() -> list[str]:
    """ALLOWED_HOSTS without `*`; with DEBUG and no hosts, the local ones
    Django's own Host check then allows."""
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return [host for host in settings.ALLOWED_HOSTS if host != "*"]


def origin_allowed(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        host = parts.hostname  # lowercased, IPv6 without brackets
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:  # an unbalanced "[", a port that is not a number
        return False
    if not host:
        return False
    if ":" in host:
        host = f"[{host}]"  # as ALLOWED_HOSTS writes an IPv6 address
    return validate_host(host, allowed_origin_hosts())


def check_allowed_hosts() -> None:
    if "*" in settings.ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS (DJANGO_ALLOWED_HOSTS) contains '*': it is also the list of "
            "allowed WebSocket origins, and '*' would admit any site's pages "
            "(cross-site WebSocket hijacking). Name the hosts (docs/security.md)."
        )


async def _refuse(send, scope, reason: str) -> None:
    host, port = scope.get("client") or ("?", 0)
    log = "websocket refused (403) from %s:%s: %s"
    logger.warning(log, host, port, reason, extra={"client": f"{host}:{port}"})
    await send({"type": "websocket.close", "code": 1008})


async def _unavailable(receive, send, scope) -> None:
    """The database cannot check the credentials: accept and close with 4503
    at once, so the client retries (elsewhere) as after any other drop."""
    client = scope.get("client") or ("?", 0)
    logger.warning("websocket from %s:%s closed (4503): database unavailable", *client[:2])
    await receive()  # the websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": protocol.CLOSE_UNAVAILABLE})


class WebSocketAuthMiddleware:
    """Sets scope["user"] from the token or the session, after the Origin rules."""

    def __init__(self, inner):
        check_allowed_hosts()
        self.inner = inner
        self.session_auth = CookieMiddleware(SessionMiddleware(AuthMiddleware(inner)))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        origin = _header(scope, b"origin")
        token = bearer_token(
            _header(scope, b"authorization"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
        )
        if origin is not None and not origin_allowed(origin):
            await receive()  # the websocket.connect
            return await _refuse(send, scope, f"Origin {origin!r} is not an allowed host")
        if token:  # "" (another scheme, or none given) is no token here
            # Off the writer thread: a reconnect storm authenticates in parallel
            # instead of queueing behind the group commit (rooms/realtime/db.py).
            try:
                user = await db.read(services.api_token_authenticate)(token=token)
            except (OperationalError, InterfaceError):
                return await _unavailable(receive, send, scope)
            # The hash, for the hub's check that the token still stands.
            auth = {"auth": "token", "token_hash": services.token_hash(token)}
            scope = {**scope, "user": user or AnonymousUser(), **auth}
            return await self.inner(scope, receive, send)
        if origin is None:
            await receive()
            return await _refuse(send, scope, "no Origin header and no API token")
        return await self.session_auth({**scope, "auth": "session"}, receive, send)


def credentials_of(scope) -> tuple[str, str | None]:
    """What the socket was opened with, as the hub's access check reads it:
    ("token", the token's hash) or ("session", the session key)."""
    if scope.get("auth") == "token":
        return "token", scope["token_hash"]  # set by WebSocketAuthMiddleware
    session = scope.get("session")
    return "session", getattr(session, "session_key", None)
