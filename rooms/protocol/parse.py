"""Parse and validate what a client sends (docs/protocol.md, Frames a client
sends): one text frame in, a Frame or a RoomsError with the protocol's code
out, the errors in the documented order of precedence.

The rules of the fields people type (body, client_id, seq, emoji) are the
domain's, in rooms/validators.py; this module adds the frame's own: its size,
its JSON, its `type` and `ref`, and each type's fields.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import RoomsError
from ..validators import MAX_INT, check_attachment_ids, check_body, check_client_id, check_emoji
from .codes import DEFAULT_PAGE, MAX_REF, utf8_len


@dataclass(frozen=True)
class Frame:
    """A validated client frame."""

    type: str
    ref: str | None = None
    room: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


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
    if len(text) * 4 > max_bytes and utf8_len(text) > max_bytes:
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
    # With attachments the body may be empty (docs/attachments.md).
    attachments = check_attachment_ids(raw.get("attachments"))
    body = check_body(raw.get("body"), max_body=max_body, may_be_empty=bool(attachments))
    client_id = check_client_id(raw.get("client_id"))
    reply_to = _int(raw, "reply_to")
    return Frame(
        "send",
        ref,
        room,
        {"body": body, "client_id": client_id, "reply_to": reply_to, "attachments": attachments},
    )


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


# Each frame type a client may send, with the parser of its fields.
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

# The frame types a client may send: exactly those with a parser.
CLIENT_TYPES = tuple(_FIELDS)
