"""The domain's own checks of what people type: slugs, bodies, client ids,
seqs, emoji. Every way in (the protocol parser, the API, forms, commands)
uses these, so one input is judged the same way wherever it arrives.

Each `check_*` returns the value it accepts and raises RoomsError (code
`invalid`, with the field's name) for anything else.
"""

import re
from typing import Any

from .errors import RoomsError

# The largest integer (a seq, a limit) a JSON client reads exactly: 2^53 - 1.
MAX_INT = 2**53 - 1
MAX_CLIENT_ID = 64  # code points
MAX_EMOJI = 16  # code points
MAX_ATTACHMENTS = 10  # files one message carries

SLUG_PATTERN = r"[-a-zA-Z0-9_]{1,64}"
_SLUG = re.compile(SLUG_PATTERN)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ATTACHMENT_ID = re.compile(r"[0-9a-f]{32}")


def is_slug(room: str) -> bool:
    return bool(_SLUG.fullmatch(room))


def is_storable(text: str) -> bool:
    """Whether every database can hold and compare `text`: PostgreSQL
    refuses NUL characters, and lone surrogates cannot be encoded. A name
    that is not storable names nobody (rather than failing the query)."""
    return "\x00" not in text and not _SURROGATE.search(text)


def check_body(body: Any, *, max_body: int, may_be_empty: bool = False) -> str:
    """The body rules every write path shares (WebSocket, HTTP, admin, CLI).
    `may_be_empty`: a message that carries attachments needs no text (a
    missing body is then "")."""
    if body is None and may_be_empty:
        return ""
    if body is None:
        raise RoomsError("invalid", "`body` is required.", field="body")
    if not isinstance(body, str):
        raise RoomsError("invalid", "`body` must be a string.", field="body")
    if not may_be_empty and not body.strip():
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


def check_attachment_ids(value: Any) -> tuple[str, ...]:
    """A message's attachments: a list of at most MAX_ATTACHMENTS distinct
    upload ids (None or [] for none). Whether each names an upload the
    sender may use is the group commit's to say."""
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_ATTACHMENTS
        or not all(isinstance(item, str) and _ATTACHMENT_ID.fullmatch(item) for item in value)
        or len(set(value)) != len(value)
    ):
        raise RoomsError(
            "invalid",
            f"`attachments` must be a list of at most {MAX_ATTACHMENTS} distinct upload ids.",
            field="attachments",
        )
    return tuple(value)
