"""Serialize what the server sends (docs/protocol.md, Frames the server
sends): one builder per frame type, each returning the frame's JSON text.

Entries are serialized once (`entry_json`) and embedded as text in every
frame that carries them, so a broadcast to many sockets, a backfill and a
history page never encode an entry twice.
"""

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from ..errors import RoomsError
from .codes import MAX_REF, PROTOCOL_VERSION, UNAVAILABLE, UNAVAILABLE_RETRY_AFTER, utf8_len

# The frame types the server sends, each built by one function below
# (`typing`, `read` and `history` are client types too).
SERVER_TYPES = (
    "hello",
    "joined",
    "backfill",
    "message",
    "ack",
    "left",
    "presence",
    "typing",
    "read",
    "room",
    "rooms",
    "history",
    "pong",
    "error",
)

MESSAGE_KINDS = ("text", "system")


def _dumps(value: Any) -> str:
    # ensure_ascii keeps a ref holding a lone surrogate encodable as UTF-8.
    return json.dumps(value, separators=(",", ":"))


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: 2026-11-25T17:06:20.123Z."""
    # isoformat is C code: a backfill formats ten thousand of these.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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
    attachments: list[dict] | None = None,
) -> str:
    """One entry of the log, serialized once for every frame that carries it.
    A message (`text`, `system`) carries its current state; a change carries
    its target and what it assigns. `attachments` (the objects of
    docs/attachments.md) appear only on a message that has some and is not
    deleted: a message without files costs no byte more."""
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
        if attachments and not deleted:
            entry["attachments"] = attachments
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
    return utf8_len(backfill(room, []))


def history_overhead(room: str) -> int:
    """Bytes a history frame takes besides its messages, with the longest ref."""
    return utf8_len(history(room=room, ref="r" * MAX_REF, messages=[], has_more=False))


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
