"""Reading a room's log: heads, where a join starts, and keyset pages of
entries by seq (backfill, history, export).

An entry's JSON is stored with it (`Message.json`, written by the group
commit and kept current by rooms/services/stored_json.py), so a page is a
read of (seq, json) text. A row without it ("": stored before the column,
or cleared) is rendered here from the columns its JSON needs by
`entry_json`, the one builder of an entry's JSON (the group commit uses it
too), so the consumer, the HTTP API and the commands share one rendering.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q

from .. import access, protocol
from ..models import Message, Reaction, Room
from ..sql import column
from .attachments import attachments_by_message


class EntryRow(NamedTuple):
    """The columns of an entry that its JSON says, as a page reads them;
    the fields a stored `Message` has under the same names."""

    pk: int
    seq: int
    kind: str
    author_name: str | None
    body: str
    created_at: datetime
    client_id: str | None
    deleted: bool
    edited_at: datetime | None
    reply_to: int | None
    target: int | None
    emoji: str
    reaction_on: bool | None


ENTRY_COLUMNS = (
    "pk",
    "seq",
    "kind",
    "author__username",
    "body",
    "created_at",
    "client_id",
    "deleted",
    "edited_at",
    "reply_to",
    "target",
    "emoji",
    "reaction_on",
)


def entry_json(
    *,
    room: str,
    entry: Message | EntryRow,
    author: str | None,
    reactions: dict[str, list[str]] | None = None,
    attachments: list[dict] | None = None,
) -> str:
    """The JSON of one entry of room `room` (docs/protocol.md): a message in
    its current state, or a change. `entry` is a stored Message or a row of
    a page; `author` its author's username; `attachments` its files'
    objects (selectors.attachments)."""
    return protocol.entry_json(
        seq=entry.seq,
        room=room,
        kind=entry.kind,
        author=author,
        created_at=entry.created_at,
        client_id=entry.client_id,
        body=entry.body,
        deleted=entry.deleted,
        edited_at=entry.edited_at,
        reply_to=entry.reply_to,
        reactions=reactions,
        target=entry.target,
        emoji=entry.emoji,
        on=entry.reaction_on,
        attachments=attachments,
    )


def _render(slug: str, rows: Iterable[tuple]) -> list[tuple[EntryRow, str]]:
    """Each row of ENTRY_COLUMNS with its entry JSON, the messages' current
    reactions read in one query, and their attachments in another."""
    rows = [EntryRow._make(row) for row in rows]
    message_pks = [row.pk for row in rows if row.kind in Message.MESSAGE_KINDS and not row.deleted]
    reactions: dict[int, dict[str, list[str]]] = {}
    if message_pks:
        held = (
            Reaction.objects.filter(message_id__in=message_pks)
            .order_by("message_id", "emoji", "user__username")
            .values_list("message_id", "emoji", "user__username")
        )
        for message_pk, emoji, username in held:
            reactions.setdefault(message_pk, {}).setdefault(emoji, []).append(username)
    files = attachments_by_message(message_pks=message_pks)
    return [
        (
            row,
            entry_json(
                room=slug,
                entry=row,
                author=row.author_name,
                reactions=reactions.get(row.pk),
                attachments=files.get(row.pk),
            ),
        )
        for row in rows
    ]


def entries_rendered(
    *, room_id: int, slug: str, which: Q, lock: bool = False
) -> list[tuple[int, str]]:
    """The entries of the room that `which` selects, as (pk, entry JSON)
    rendered afresh from their columns, whatever JSON they store (what
    rooms/services/stored_json.py stores). With `lock`, inside a
    transaction, their rows are locked until it ends (PostgreSQL) before
    their reactions are read."""
    rows = Message.objects.filter(which, room_id=room_id)
    if lock:
        rows = rows.select_for_update(no_key=True, of=("self",))
    return [(row.pk, text) for row, text in _render(slug, rows.values_list(*ENTRY_COLUMNS))]


def _column(field: str) -> str:
    return column(Message, field)


def _stored(room_id: int, slug: str, rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Rows read as (seq, stored JSON), with the JSON of those that store
    none rendered (one more query, and the reactions' and files')."""
    missing = [seq for seq, text in rows if not text]
    if not missing:
        return rows
    query = Message.objects.filter(room_id=room_id, seq__in=missing)
    rendered = {row.seq: text for row, text in _render(slug, query.values_list(*ENTRY_COLUMNS))}
    # One pruned between the two reads is left out, as a read after would.
    return [(seq, text or rendered[seq]) for seq, text in rows if text or seq in rendered]


def room_head(*, room_id: int) -> int:
    return Room.objects.filter(id=room_id).values_list("last_seq", flat=True).first() or 0


def room_heads(*, room_ids) -> dict[int, int]:
    """{room id: head} in one query."""
    return dict(Room.objects.filter(id__in=list(room_ids)).values_list("id", "last_seq"))


def join_start(
    *, user: AbstractBaseUser, slug: str, since: int | None, limit: int | None
) -> tuple[access.RoomAccess, int, bool]:
    """Authorize a join and work out where its stream starts: the room, the
    effective since S, and whether S was moved up past messages the client
    asked for (`truncated`). docs/protocol.md, Join and backfill semantics."""
    room = access.room_access_or_404(user=user, slug=slug)
    start, truncated = effective_since(room, since=since, limit=limit)
    return room, start, truncated


def effective_since(
    room: access.RoomAccess, *, since: int | None, limit: int | None
) -> tuple[int, bool]:
    """Where a join's stream starts on a room as read (`head`, `oldest` and
    the user's `last_read_seq`), and whether it was `truncated`."""
    head = room.head
    truncated = False
    if since is not None:
        start = min(since, head)
    elif room.last_read_seq is not None:
        start = min(room.last_read_seq, head)
    else:
        start = max(0, head - 50)
    if limit is not None and head - limit > start:
        start, truncated = head - limit, True
    if start < head:
        # Retention may have pruned what the client asked for.
        oldest = room.oldest
        if oldest is not None and oldest - 1 > start:
            start, truncated = oldest - 1, True
    return start, truncated


_NO_END = 2**63 - 1  # a seq is a BIGINT
_AFTER = (
    f"SELECT {_column('seq')}, {_column('json')} FROM {Message._meta.db_table} "
    f"WHERE {_column('room')} = %s AND {_column('seq')} > %s AND {_column('seq')} <= %s "
    f"ORDER BY {_column('seq')} LIMIT %s"
)


def entries_after(
    *, room_id: int, slug: str, after: int, limit: int, up_to: int | None = None
) -> list[tuple[int, str]]:
    """Up to `limit` entries with seq > `after` (and <= `up_to`), ascending, as
    (seq, entry JSON); messages in their current state. An index range scan
    on (room, seq), in plain SQL: a backfill of 10,000 reads them in 7 ms
    where the ORM's building of the rows took 14 (docs/benchmarks.md)."""
    up_to = _NO_END if up_to is None else up_to
    with connection.cursor() as cursor:
        cursor.execute(_AFTER, [room_id, after, up_to, limit])
        rows = cursor.fetchall()
    return _stored(room_id, slug, rows)


def entries_at(*, room_id: int, slug: str, seqs: list[int]) -> list[tuple[int, str]]:
    """The entries with the given seqs, ascending, as (seq, entry JSON) in
    their current state (a resume window's stale entries)."""
    rows = Message.objects.filter(room_id=room_id, seq__in=list(seqs)).order_by("seq")
    return _stored(room_id, slug, list(rows.values_list("seq", "json")))


def backfill_pages(*, room: access.RoomAccess, after: int) -> tuple[list[list[str]], int]:
    """The next backfill frames' worth of entries after `after`, read in one
    query (`split_pages`). Returns the pages and the last seq read (`after`
    when there was nothing)."""
    rows = entries_after(
        room_id=room.id,
        slug=room.slug,
        after=after,
        limit=settings.ROOMS_BACKFILL_MAX_MESSAGES * 4,
    )
    return split_pages(room.slug, rows, after=after)


def split_pages(slug: str, rows, *, after: int) -> tuple[list[list[str]], int]:
    """Entries (seq, JSON) as backfill pages of at most 500 entries and 256
    KiB of frame each (docs/protocol.md, so clients with a 1 MiB frame limit
    are safe), and the last seq (`after` when there was nothing)."""
    max_messages = settings.ROOMS_BACKFILL_MAX_MESSAGES
    budget = settings.ROOMS_BACKFILL_MAX_BYTES - protocol.backfill_overhead(slug)
    pages: list[list[str]] = []
    page: list[str] = []
    size = 0
    for seq, text in rows:
        cost = len(text.encode()) + 1  # and its comma
        if page and (len(page) >= max_messages or size + cost > budget):
            pages.append(page)
            page, size = [], 0
        page.append(text)
        size += cost
        after = seq
    if page:
        pages.append(page)
    return pages, after


def messages_before(
    *, room_id: int, slug: str, before: int | None, limit: int, max_bytes: int | None = None
) -> tuple[list[tuple[int, str]], bool]:
    """The `limit` messages (not changes) just below seq `before` (default:
    the newest ones), ascending, in their current state, and whether older
    ones exist. With `max_bytes`, the oldest are left out until the page's
    messages (and their commas) fit; `has_more` then says so."""
    if before is None:
        before = room_head(room_id=room_id) + 1
    rows = list(
        Message.objects.filter(room_id=room_id, seq__lt=before, kind__in=Message.MESSAGE_KINDS)
        .order_by("-seq")
        .values_list("seq", "json")[: limit + 1]
    )
    has_more = len(rows) > limit
    page = _stored(room_id, slug, rows[:limit][::-1])
    if max_bytes is not None:
        size, keep = 0, len(page)
        for _, text in reversed(page):
            cost = len(text.encode()) + 1
            if size + cost > max_bytes:
                break
            size += cost
            keep -= 1
        if keep:
            page, has_more = page[keep:], True
    return page, has_more


def iter_entries(*, room: Room, since: int, batch: int = 1000) -> Iterator[str]:
    """Every entry with seq > `since`, as JSON, in keyset batches: constant
    memory however long the room is (exportroom, tailroom)."""
    after = since
    while True:
        page = entries_after(room_id=room.id, slug=room.slug, after=after, limit=batch)
        if not page:
            return
        for _, text in page:
            yield text
        after = page[-1][0]
