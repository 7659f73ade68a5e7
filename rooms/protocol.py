"""The wire protocol (docs/protocol.md) as pure functions: parse and validate what a
client sends, serialize what the server sends.

Nothing here touches the database or the network, so every rule can be tested
without a server. Message objects are serialized once (`message_json`) and
embedded as text in every frame that carries them, so a broadcast to many
sockets, a backfill and a history page never encode a message twice.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from .errors import RoomsError
from .validators import is_slug  # noqa: F401  (moving to validators)

PROTOCOL_VERSION = 2
MAX_INT = 2**53 - 1

# Close codes (daphne lets an application close only with 1000 or 3000-4999).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BACKLOG = 4408  # the client did not read its frames: resume with `since`
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_MANY_SOCKETS = 4429
CLOSE_UNAVAILABLE = 4503  # the stream cannot be vouched for: resume elsewhere

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
MAX_REF = 64
MAX_CLIENT_ID = 64
MAX_EMOJI = 16  # code points

_SURROGATE = re.compile("[\ud800-\udfff]")

# Frame types a client may send, with the fields each takes.
CLIENT_TYPES = (
    "join",
    "leave",
    "send",
    "edit",
    "delete",
    "react",
    "typing",
    "read",
    "history",
    "ping",
)


@dataclass(frozen=True)
class Frame:
    """A validated client frame."""

    type: str
    ref: str | None = None
    room: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


# --- parsing -----------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def load_object(text: str | bytes) -> dict:
    """Strict JSON that must be an object (NaN and Infinity are not JSON);
    ValueError otherwise. Frames and HTTP API bodies share it."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def parse_frame(
    text: str | None,
    binary: bytes | None = None,
    *,
    max_bytes: int,
    max_body: int,
    history_limit: int = 200,
) -> Frame:
    """Validate one client frame. Raises RoomsError with the protocol's code;
    its `ref` attribute holds the ref to echo (or None)."""
    if text is None:
        raise _error("bad_frame", "Frames must be JSON text, not binary.")
    # Cheap bound first: a character is at most 4 bytes of UTF-8.
    if len(text) * 4 > max_bytes and _utf8_len(text) > max_bytes:
        raise _error("too_large", f"A frame may hold at most {max_bytes} bytes.")
    try:
        raw = load_object(text)
    except ValueError:
        raise _error("bad_frame", "A frame must be one JSON object.") from None
    ref = raw.get("ref")
    ref_ok = ref is None or (isinstance(ref, str) and len(ref) <= MAX_REF)
    echo = ref if ref_ok else None
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise _error("bad_frame", "A frame needs a non-empty string `type`.", ref=echo)
    if kind not in CLIENT_TYPES:
        raise _error("unknown_type", f"Unknown frame type {kind[:40]!r}.", ref=echo)
    if not ref_ok:
        raise _error(
            "invalid", f"`ref` must be a string of at most {MAX_REF} characters.", field="ref"
        )
    try:
        return _FIELDS[kind](raw, echo, max_body=max_body, history_limit=history_limit)
    except RoomsError as error:
        error.ref = echo
        raise


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _error(code: str, message: str, *, field: str | None = None, ref=None) -> RoomsError:
    return RoomsError(code, message, field=field, ref=ref)


def _room(raw: dict) -> str:
    room = raw.get("room")
    if room is None:
        raise RoomsError("invalid", "`room` is required.", field="room")
    if not isinstance(room, str):
        raise RoomsError("invalid", "`room` must be a string.", field="room")
    return room


def _int(raw: dict, name: str, *, minimum: int = 0, maximum: int = MAX_INT, required=False):
    value = raw.get(name)
    if value is None:
        if required:
            raise RoomsError("invalid", f"`{name}` is required.", field=name)
        return None
    # bool is a subclass of int, and floats such as 5.0 are not integers here.
    if type(value) is not int or not minimum <= value <= maximum:
        raise RoomsError(
            "invalid", f"`{name}` must be an integer from {minimum} to {maximum}.", field=name
        )
    return value


def check_body(body: Any, *, max_body: int) -> str:
    """The body rules every write path shares (WebSocket, HTTP, admin, CLI)."""
    if body is None:
        raise RoomsError("invalid", "`body` is required.", field="body")
    if not isinstance(body, str):
        raise RoomsError("invalid", "`body` must be a string.", field="body")
    if not body.strip():
        raise RoomsError("invalid", "`body` must not be empty or only whitespace.", field="body")
    if len(body) > max_body:
        raise RoomsError("invalid", f"`body` may hold at most {max_body} characters.", field="body")
    if "\x00" in body or _SURROGATE.search(body):
        raise RoomsError(
            "invalid", "`body` must not hold NUL characters or lone surrogates.", field="body"
        )
    return body


def check_client_id(client_id: Any) -> str | None:
    if client_id is None:
        return None
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= MAX_CLIENT_ID
        or "\x00" in client_id
        or _SURROGATE.search(client_id)
    ):
        raise RoomsError(
            "invalid",
            f"`client_id` must be a string of 1 to {MAX_CLIENT_ID} characters.",
            field="client_id",
        )
    return client_id


def check_seq(value: Any, *, name: str = "seq") -> int:
    """A seq naming an entry: an integer in 0..2^53-1 (a boolean is not one)."""
    if type(value) is not int or not 0 <= value <= MAX_INT:
        raise RoomsError("invalid", f"`{name}` must be an integer from 0 to {MAX_INT}.", field=name)
    return value


def check_emoji(emoji: Any) -> str:
    """1 to 16 code points, no whitespace, no NUL or lone surrogate."""
    if (
        not isinstance(emoji, str)
        or not 1 <= len(emoji) <= MAX_EMOJI
        or any(char.isspace() for char in emoji)
        or "\x00" in emoji
        or _SURROGATE.search(emoji)
    ):
        raise RoomsError(
            "invalid",
            f"`emoji` must be 1 to {MAX_EMOJI} characters without whitespace.",
            field="emoji",
        )
    return emoji


def _parse_join(raw, ref, **_):
    room = _room(raw)
    since = _int(raw, "since")
    limit = _int(raw, "limit", minimum=1)
    # Extension (docs/protocol.md): `presence: false` joins without being
    # listed as online, for pages that only watch a room (the room list).
    presence = raw.get("presence")
    if presence is not None and not isinstance(presence, bool):
        raise RoomsError("invalid", "`presence` must be true or false.", field="presence")
    return Frame(
        "join", ref, room, {"since": since, "limit": limit, "presence": presence is not False}
    )


def _parse_room_only(kind):
    def parse(raw, ref, **_):
        return Frame(kind, ref, _room(raw))

    return parse


def _parse_send(raw, ref, *, max_body, **_):
    room = _room(raw)
    body = check_body(raw.get("body"), max_body=max_body)
    client_id = check_client_id(raw.get("client_id"))
    reply_to = _int(raw, "reply_to")
    return Frame("send", ref, room, {"body": body, "client_id": client_id, "reply_to": reply_to})


def _parse_edit(raw, ref, *, max_body, **_):
    room = _room(raw)
    seq = _int(raw, "seq", required=True)
    body = check_body(raw.get("body"), max_body=max_body)
    client_id = check_client_id(raw.get("client_id"))
    return Frame("edit", ref, room, {"seq": seq, "body": body, "client_id": client_id})


def _parse_delete(raw, ref, **_):
    room = _room(raw)
    seq = _int(raw, "seq", required=True)
    client_id = check_client_id(raw.get("client_id"))
    return Frame("delete", ref, room, {"seq": seq, "client_id": client_id})


def _parse_react(raw, ref, **_):
    room = _room(raw)
    seq = _int(raw, "seq", required=True)
    if raw.get("emoji") is None:
        raise RoomsError("invalid", "`emoji` is required.", field="emoji")
    emoji = check_emoji(raw.get("emoji"))
    on = raw.get("on", True)
    if not isinstance(on, bool):
        raise RoomsError("invalid", "`on` must be true or false.", field="on")
    client_id = check_client_id(raw.get("client_id"))
    return Frame("react", ref, room, {"seq": seq, "emoji": emoji, "on": on, "client_id": client_id})


def _parse_read(raw, ref, **_):
    room = _room(raw)
    return Frame("read", ref, room, {"seq": _int(raw, "seq", required=True)})


def _parse_history(raw, ref, *, history_limit, **_):
    room = _room(raw)
    before = _int(raw, "before")
    limit = _int(raw, "limit", minimum=1, maximum=history_limit)
    return Frame("history", ref, room, {"before": before, "limit": limit or DEFAULT_PAGE})


def _parse_ping(raw, ref, **_):
    return Frame("ping", ref)


_FIELDS = {
    "join": _parse_join,
    "leave": _parse_room_only("leave"),
    "send": _parse_send,
    "edit": _parse_edit,
    "delete": _parse_delete,
    "react": _parse_react,
    "typing": _parse_room_only("typing"),
    "read": _parse_read,
    "history": _parse_history,
    "ping": _parse_ping,
}


# --- serializing -------------------------------------------------------------


def _dumps(value: Any) -> str:
    # ensure_ascii keeps a ref holding a lone surrogate encodable as UTF-8.
    return json.dumps(value, separators=(",", ":"))


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: 2026-11-25T17:06:20.123Z."""
    # isoformat is C code: a backfill formats ten thousand of these.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


MESSAGE_KINDS = ("text", "system")


def entry_json(
    *,
    seq: int,
    room: str,
    kind: str,
    author: str | None,
    created_at: datetime,
    client_id: str | None,
    body: str = "",
    deleted: bool = False,
    edited_at: datetime | None = None,
    reply_to: int | None = None,
    reactions: dict[str, list[str]] | None = None,
    target: int | None = None,
    emoji: str = "",
    on: bool | None = None,
) -> str:
    """One entry of the log, serialized once for every frame that carries it.
    A message (`text`, `system`) carries its current state; a change carries
    its target and what it assigns."""
    entry = {
        "seq": seq,
        "room": room,
        "kind": kind,
        "author": author,
        "created_at": timestamp(created_at),
        "client_id": client_id,
    }
    if kind in MESSAGE_KINDS:
        entry["body"] = "" if deleted else body
        entry["reply_to"] = reply_to
        entry["edited_at"] = timestamp(edited_at) if edited_at is not None else None
        entry["deleted"] = deleted
        entry["reactions"] = {} if deleted else (reactions or {})
    else:
        entry["target"] = target
        if kind == "edit":
            entry["body"] = body
        elif kind == "reaction":
            entry["emoji"] = emoji
            entry["on"] = on
    # orjson: a backfill of 10,000 entries serializes each (its bodies hold
    # no lone surrogate: check_body refuses them).
    return orjson.dumps(entry).decode()


def _with_ref(frame: dict, ref: str | None) -> dict:
    if ref is not None:
        frame["ref"] = ref
    return frame


def hello(username: str) -> str:
    return _dumps({"type": "hello", "protocol": PROTOCOL_VERSION, "user": username})


def joined(*, room, ref, head, since, truncated, title, read_only, read) -> str:
    return _dumps(
        _with_ref(
            {
                "type": "joined",
                "room": room,
                "head": head,
                "since": since,
                "truncated": truncated,
                "title": title,
                "read_only": read_only,
                "read": read,
            },
            ref,
        )
    )


def _room_prefix(kind: str, room: str) -> str:
    return '{"type":"%s","room":%s' % (kind, _dumps(room))  # noqa: UP031


def backfill(room: str, messages: list[str]) -> str:
    return _room_prefix("backfill", room) + ',"messages":[' + ",".join(messages) + "]}"


def backfill_overhead(room: str) -> int:
    """Bytes a backfill frame takes besides its messages and their commas."""
    return _utf8_len(backfill(room, []))


def history_overhead(room: str) -> int:
    """Bytes a history frame takes besides its messages, with the longest ref."""
    return _utf8_len(history(room=room, ref="r" * MAX_REF, messages=[], has_more=False))


def message(room: str, entry_text: str) -> str:
    return _room_prefix("message", room) + ',"message":' + entry_text + "}"


def history(*, room: str, ref: str | None, messages: list[str], has_more: bool) -> str:
    tail = ',"has_more":' + ("true" if has_more else "false")
    if ref is not None:
        tail += ',"ref":' + _dumps(ref)
    return _room_prefix("history", room) + ',"messages":[' + ",".join(messages) + "]" + tail + "}"


def ack(*, ref, room, seq, client_id, duplicate) -> str:
    return _dumps(
        _with_ref(
            {
                "type": "ack",
                "room": room,
                "seq": seq,
                "client_id": client_id,
                "duplicate": duplicate,
            },
            ref,
        )
    )


def left(*, room: str, ref: str | None, reason: str) -> str:
    return _dumps(_with_ref({"type": "left", "room": room, "reason": reason}, ref))


def presence(room: str, users) -> str:
    return _dumps({"type": "presence", "room": room, "users": sorted(users)})


def typing(room: str, user: str) -> str:
    return _dumps({"type": "typing", "room": room, "user": user})


def read(room: str, seq: int) -> str:
    return _dumps({"type": "read", "room": room, "seq": seq})


def room_changed(room: str, title: str, read_only: bool) -> str:
    return _dumps({"type": "room", "room": room, "title": title, "read_only": read_only})


def rooms_changed() -> str:
    """Extension (docs/protocol.md): this user's memberships changed, so the
    rooms they may see, or their role in one, may have; a room list re-reads."""
    return '{"type":"rooms"}'


def pong(*, ref: str | None, heads: dict[str, int]) -> str:
    return _dumps(_with_ref({"type": "pong", "heads": heads}, ref))


def error(
    code: str,
    message_text: str,
    *,
    ref: str | None = None,
    field: str | None = None,
    retry_after: float | None = None,
) -> str:
    frame = {"type": "error", "code": code, "message": message_text}
    if ref is not None:
        frame["ref"] = ref
    if field is not None:
        frame["field"] = field
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return _dumps(frame)


def unavailable(reason: str = "The server cannot handle this now: send it again.") -> RoomsError:
    """A fresh `unavailable` error for each frame (the consumer sets its ref)."""
    return RoomsError(UNAVAILABLE, reason, retry_after=UNAVAILABLE_RETRY_AFTER)


def error_from(exc: RoomsError) -> str:
    return error(
        exc.code,
        exc.message,
        ref=exc.ref,
        field=exc.field,
        retry_after=exc.retry_after,
    )
