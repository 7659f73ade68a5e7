"""The wire protocol (docs/protocol.md) as pure functions: parse and validate
what a client sends, serialize what the server sends.

Nothing here touches the database or the network, so every rule can be
tested without a server. `codes` holds the constants (version, close and
error codes, limits), `parse` the client's frames, `encode` the server's;
the rules of what people type are the domain's, in rooms/validators.py.
Callers use `protocol.X`, re-exported here.
"""

from ..validators import check_body, check_client_id, check_emoji, check_seq, is_slug
from .codes import (
    CLOSE_BACKLOG,
    CLOSE_TOO_LARGE,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
    DEFAULT_PAGE,
    ERROR_CODES,
    MAX_INT,
    MAX_PAGE_BYTES,
    MAX_REF,
    PROTOCOL_VERSION,
    UNAVAILABLE,
    UNAVAILABLE_RETRY_AFTER,
)
from .encode import (
    MESSAGE_KINDS,
    SERVER_TYPES,
    ack,
    backfill,
    backfill_overhead,
    entry_json,
    error,
    error_from,
    hello,
    history,
    history_overhead,
    joined,
    left,
    message,
    pong,
    presence,
    read,
    room_changed,
    rooms_changed,
    timestamp,
    typing,
    unavailable,
)
from .parse import CLIENT_TYPES, Frame, load_object, parse_frame

__all__ = [
    "CLIENT_TYPES",
    "CLOSE_BACKLOG",
    "CLOSE_TOO_LARGE",
    "CLOSE_TOO_MANY_SOCKETS",
    "CLOSE_UNAUTHENTICATED",
    "CLOSE_UNAVAILABLE",
    "DEFAULT_PAGE",
    "ERROR_CODES",
    "MAX_INT",
    "MAX_PAGE_BYTES",
    "MAX_REF",
    "MESSAGE_KINDS",
    "PROTOCOL_VERSION",
    "SERVER_TYPES",
    "UNAVAILABLE",
    "UNAVAILABLE_RETRY_AFTER",
    "Frame",
    "ack",
    "backfill",
    "backfill_overhead",
    "check_body",
    "check_client_id",
    "check_emoji",
    "check_seq",
    "entry_json",
    "error",
    "error_from",
    "hello",
    "history",
    "history_overhead",
    "is_slug",
    "joined",
    "left",
    "load_object",
    "message",
    "parse_frame",
    "pong",
    "presence",
    "read",
    "room_changed",
    "rooms_changed",
    "timestamp",
    "typing",
    "unavailable",
]
