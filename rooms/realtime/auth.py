"""WebSocket handshake rules: the Origin check and who the client is.

docs/protocol.md, Connection: a handshake carrying an `Origin` must come from
the request's own origin, or from one of CSRF_TRUSTED_ORIGINS (cross-site
WebSocket hijacking protection), else HTTP 403 whatever the credentials;
without `Origin` only token auth is accepted. A token comes from
`Authorization: Bearer` or `?token=`; otherwise the Django session cookie.
Every refusal is logged with its reason.

The Origin check is Django's own CSRF Origin check
(CsrfViewMiddleware._origin_verified) on the handshake read as an HTTP
request: the origin is compared whole (scheme, host and port) with
`https://` or `http://` and the `Host` header, which ALLOWED_HOSTS must
vouch for; https when the handshake is secure (wss) or a trusted proxy says
so (SECURE_PROXY_SSL_HEADER). One rule for forms and sockets: a page that
may post a form may open a socket.

A `*` in ALLOWED_HOSTS would let any `Host` through, and with it a
DNS-rebound page's own origin: the application refuses to start with one
(ImproperlyConfigured).
"""

import io
import logging

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.db import InterfaceError, OperationalError
from django.middleware.csrf import CsrfViewMiddleware

from rooms import protocol, services
from rooms.tokens import bearer_token

from . import db
from .hub import get_hub

logger = logging.getLogger(__name__)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def handshake_request(scope) -> ASGIRequest:
    """The handshake as the HTTP GET it is, for Django's request helpers
    (`get_host`, `is_secure`). The ASGI server's scheme is ws or wss."""
    secure = scope.get("scheme") in ("wss", "https")
    http = {**scope, "type": "http", "method": "GET", "scheme": "https" if secure else "http"}
    return ASGIRequest(http, io.BytesIO())


def _origin_refusal(scope, origin: str) -> str:
    """Why `origin` was refused, naming the origin that would have passed
    (a proxy that drops the port from `Host` shows here)."""
    request = handshake_request(scope)
    try:
        own = "own origin " + repr(f"{request.scheme}://{request.get_host()}")
    except DisallowedHost:
        own = f"Host {request.META.get('HTTP_HOST')!r} is not in ALLOWED_HOSTS"
    return f"Origin {origin!r} is not this site's origin ({own}) nor a trusted origin"


def origin_allowed(scope) -> bool:
    """Whether the handshake's Origin is its own origin or a trusted one."""
    request = handshake_request(scope)
    if "HTTP_ORIGIN" not in request.META:
        return False
    # The CSRF middleware's Origin rule as it is; the middleware is not
    # otherwise involved (no token: a socket has no form).
    return CsrfViewMiddleware(lambda request: None)._origin_verified(request)


def check_allowed_hosts() -> None:
    if "*" in settings.ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS (DJANGO_ALLOWED_HOSTS) contains '*': the WebSocket Origin "
            "check takes the Host header for the site's own origin, and '*' would let "
            "a DNS rebinding page's host pass as ours. Name the hosts (docs/security.md)."
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
        if origin is not None and not origin_allowed(scope):
            await receive()  # the websocket.connect
            return await _refuse(send, scope, _origin_refusal(scope, origin))
        if token:  # "" (another scheme, or none given) is no token here
            try:
                user = await token_user(token)
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


async def token_user(token: str):
    """The active user an API token logs in, or None: from what this
    process's hub knows (a user with a socket here, rooms/realtime/known.py),
    else from the database."""
    if not token or len(token) > 200:
        return None
    known = get_hub().known
    token_hash = services.token_hash(token)
    user = known.user_for_token(token_hash)
    if user is not None:
        if services.api_token_touch_due(token_hash):
            get_hub().spawn(db.write(services.api_token_touch)(token_hash=token_hash))
        return user
    revocations = known.revocations
    # Off the writer thread: a reconnect storm authenticates in parallel
    # instead of queueing behind the group commit (rooms/realtime/db.py).
    read = db.read(services.api_token_authenticate)
    key = ("token", token_hash, revocations)  # never a read begun before a revocation
    user = await known.read_once(key, lambda: read(token=token))
    return None if user is None else known.learn_token(token_hash, user, revocations)


def credentials_of(scope) -> tuple[str, str | None]:
    """What the socket was opened with, as the hub's access check reads it:
    ("token", the token's hash) or ("session", the session key)."""
    if scope.get("auth") == "token":
        return "token", scope["token_hash"]  # set by WebSocketAuthMiddleware
    session = scope.get("session")
    return "session", getattr(session, "session_key", None)
