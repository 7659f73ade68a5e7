"""The entries of a room's log as the API shows them (docs/protocol.md,
Entries: the room's log): a message (`text`, `system`) in its current state,
and the change entries `edit`, `delete` and `reaction`, told apart by
`kind`. The same objects as `backfill` frames and `manage.py exportroom`
lines; the selectors serialize them once (protocol.entry_json), so the
endpoints send that text as it is and these classes describe it."""

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from ..validators import MAX_INT
from .http import Timestamp

Seq = Annotated[int, Field(ge=0, le=MAX_INT)]


class EntryBase(Schema):
    seq: Seq = Field(description="The entry's place in the room's log.")
    room: str
    author: str | None = Field(description="null for a `system` message.")
    created_at: Timestamp
    client_id: str | None = Field(description="The author's idempotency key, if one was sent.")


class Attachment(Schema):
    id: str = Field(description="Names the upload in a message's `attachments`.")
    name: str = Field(description="The file's name, cleaned (no path, no control characters).")
    size: int = Field(description="Bytes.")
    content_type: str = Field(description="Decided from the file's bytes, not the client's claim.")
    url: str = Field(description="The file, for people who can see the room.")
    thumbnail_url: str | None = Field(description="At most 400 px on the long side; images only.")
    width: int | None = Field(description="Pixels; images only.")
    height: int | None = Field(description="Pixels; images only.")


class Message(EntryBase):
    kind: Literal["text", "system"]
    body: str = Field(description='The current text; "" once deleted.')
    reply_to: Seq | None = Field(description="The seq of the message this one answers.")
    edited_at: Timestamp | None = Field(description="The time of the latest edit.")
    deleted: bool
    reactions: dict[str, list[str]] = Field(
        description="Emoji -> the sorted usernames holding it; {} once deleted."
    )
    attachments: list[Attachment] = Field(
        None, description="Its files, in the order sent; absent when none and once deleted."
    )


class Edit(EntryBase):
    kind: Literal["edit"]
    target: Seq = Field(description="The seq of the message it changes.")
    body: str = Field(description="The message's new text.")


class Delete(EntryBase):
    kind: Literal["delete"]
    target: Seq = Field(description="The seq of the message it deletes.")


class Reaction(EntryBase):
    kind: Literal["reaction"]
    target: Seq = Field(description="The seq of the message it reacts to.")
    emoji: str
    on: bool = Field(description="true adds the author's reaction, false takes it back.")


Entry = Annotated[Message | Edit | Delete | Reaction, Field(discriminator="kind")]


class Page(Schema):
    room: str
    head: Seq = Field(description="The seq of the room's last entry, message or change.")
    messages: list[Entry]
    has_more: bool = Field(
        description="With `after`: newer entries follow the page; else older messages precede it."
    )


class Published(Schema):
    # A client_id is one namespace for all of a user's entries: the original
    # of a duplicate may be a change.
    message: Entry | None = Field(
        description="The message stored; for a duplicate the original entry, null once pruned."
    )
    duplicate: bool


class Changed(Schema):
    entry: Entry | None = Field(
        description="The change entry stored; for a duplicate the original, null once pruned."
    )
    duplicate: bool
