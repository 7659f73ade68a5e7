"""WebSocket handshake rules: the Origin check and who the client is.

PROTOCOL.md, Connection: a handshake carrying an `Origin` must name a host of
ALLOWED_HOSTS (cross-site WebSocket hijacking protection), else HTTP 403
whatever the credentials; without `Origin` only token auth is accepted. A
token comes from `Authorization: Bearer` or `?token=`; otherwise the Django
session cookie. Every refusal is logged with its reason.
"""

import logging
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from . import services

logger = logging.getLogger(__name__)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def bearer_token(scope) -> str | None:
    """The API token of a handshake or HTTP request, from the header or the query."""
    authorization = _header(scope, b"authorization")
    if authorization:
        kind, _, token = authorization.partition(" ")
        if kind.lower() == "bearer" and token.strip():
            return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


def origin_allowed(origin: str) -> bool:
    host = urlsplit(origin).hostname
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


async def _refuse(send, scope, reason: str) -> None:
    client = scope.get("client") or ("?", 0)
    logger.warning("websocket refused (403) from %s:%s: %s", client[0], client[1], reason)
    await send({"type": "websocket.close", "code": 1008})


class WebSocketAuthMiddleware:
    """Sets scope["user"] from the token or the session, after the Origin rules."""

    def __init__(self, inner):
        self.inner = inner
        self.session_auth = CookieMiddleware(SessionMiddleware(AuthMiddleware(inner)))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        origin = _header(scope, b"origin")
        token = bearer_token(scope)
        if origin is not None and not origin_allowed(origin):
            await receive()  # the websocket.connect
            return await _refuse(send, scope, f"Origin {origin!r} is not an allowed host")
        if token is not None:
            user = await database_sync_to_async(services.api_token_authenticate)(token=token)
            scope = {**scope, "user": user or AnonymousUser(), "auth": "token"}
            return await self.inner(scope, receive, send)
        if origin is None:
            await receive()
            return await _refuse(send, scope, "no Origin header and no API token")
        return await self.session_auth({**scope, "auth": "session"}, receive, send)
