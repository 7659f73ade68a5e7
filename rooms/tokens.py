"""Where an API token may travel, and the one parser of it.

A token is accepted in the `Authorization: Bearer <token>` header by the HTTP
API and the WebSocket handshake alike. The WebSocket also accepts
`?token=<token>`, because a browser's WebSocket cannot set headers; the
shipped nginx config and the documented uvicorn command keep query strings
out of their access logs for that reason. The HTTP API never reads a token
from the query string, so no link ever needs to carry one.
"""

from urllib.parse import parse_qs


def bearer_token(authorization: str | None, *, query_string: str | None = None) -> str | None:
    """The token a request carries: the Bearer header's, else (WebSocket
    handshakes only: pass their query string) the `token` query parameter.
    "" when a header is present but names another scheme or no token, so
    the caller refuses it rather than falling back to the session."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    if query_string:
        tokens = parse_qs(query_string).get("token")
        if tokens:
            return tokens[0]
    return None
