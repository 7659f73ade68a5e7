"""The protocol's constants (docs/protocol.md): its version, the close codes,
the error codes with what each means, and the fixed limits of frames.

The parser and the serializers read their limits here; the consumer, the
HTTP API and the commands read the codes here, so a number or a code is
written once.
"""

from ..validators import MAX_INT  # noqa: F401  (the integer range is the domain's seq rule)

PROTOCOL_VERSION = 2

# Close codes (daphne lets an application close only with 1000 or 3000-4999).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BACKLOG = 4408  # the client did not read its frames: resume with `since`
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_MANY_SOCKETS = 4429
CLOSE_UNAVAILABLE = 4503  # the stream cannot be vouched for: resume elsewhere

# Every code an `error` frame (or a RoomsError) carries, and when it is given
# (docs/protocol.md, Errors: Codes).
ERROR_CODES = {
    "bad_frame": "the frame is not JSON, not an object, binary, or has no string `type`",
    "unknown_type": "`type` is not one a client may send",
    "invalid": "a field is missing, mistyped, out of range, or names no suitable message",
    "not_found": "no room by that slug is visible to the user",
    "not_joined": "the frame needs a room not joined on this socket",
    "forbidden": "the room is visible, but the user may not do this there",
    "read_only": "the room is archived: it takes no new entries",
    "rate_limited": "a rate limit or cap was exceeded: retry after `retry_after` seconds",
    "auth_required": "the connection is not authenticated (then close 4401)",
    "too_large": "the frame exceeds the frame size limit (then close 4413)",
    "unavailable": "the server cannot handle the frame now: send it again later",
    "server_error": "anything unexpected; the server logs it",
}

# The error of a frame the server cannot handle for now (its database is
# unreachable, or the worker is shutting down): never an ack; the client sends
# the same frame again after `retry_after` seconds (docs/protocol.md, Errors).
UNAVAILABLE = "unavailable"
UNAVAILABLE_RETRY_AFTER = 1.0

# history.limit when the frame gives none, and the HTTP API's page size.
DEFAULT_PAGE = 50
# No frame carrying entries (backfill, history) exceeds this many bytes of
# JSON, so clients with a 1 MiB frame limit are safe.
MAX_PAGE_BYTES = 256 * 1024
MAX_REF = 64  # code points


def utf8_len(text: str) -> int:
    """Bytes of UTF-8 a text takes: the unit of every frame size limit."""
    return len(text.encode("utf-8", "surrogatepass"))
