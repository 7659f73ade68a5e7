"""Storing entries of the room log: the group commit behind
`services.entry_post_many` (rooms/services/entries.py, which publishes what
it stored once the transaction has committed).

Messages and changes (edit, delete, reaction) share this one path, so they
share G1 (one sequence per room), G4 (client_id idempotency), the rate limit
and the rules' order of precedence. Each batch takes a few statements however
many entries it holds: one duplicate query, then per room one access query,
one query for the messages the batch targets, one counter bump, one multi-row
INSERT (each entry with its JSON), and the updates that bring the targeted
messages to their new state, their stored JSON re-rendered in one read and one
UPDATE (rooms/services/stored_json.py).

Deleting a message empties the bodies of its `edit` entries in the same
transaction: no read of the log (backfill, history, the API, an export)
serves an earlier version of a deleted message.
"""

import itertools
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from .. import access, broadcast, events, mentions, selectors, validators
from ..errors import RoomsError
from ..models import Membership, Message, Reaction, Room
from ..sql import placeholders
from . import attachments, away, rate, stored_json

Kind = Message.Kind
# The kinds whose entry carries a body: messages, and edits (the new body).
WITH_BODY = (*Message.MESSAGE_KINDS, Kind.EDIT)


@dataclass(frozen=True)
class EntryRequest:
    """One entry to store. `kind` None means a message: `text` with an
    author, `system` without."""

    room: Room | access.RoomAccess
    author: AbstractBaseUser | None
    body: str | None = None
    client_id: str | None = None
    kind: str | None = None
    target: int | None = None  # edit, delete, reaction: the seq of the message
    reply_to: int | None = None  # text, system: the seq replied to
    emoji: str | None = None
    on: bool = True
    check_rate: bool = True
    # An operator's tool (the admin): staff act on rooms they are not members of.
    operator: bool = False
    attachments: tuple[str, ...] = ()  # text: ids of the author's uploads to this room

    @property
    def entry_kind(self) -> str:
        if self.kind is not None:
            return self.kind
        return Kind.TEXT if self.author is not None else Kind.SYSTEM


@dataclass(frozen=True)
class EntryResult:
    seq: int
    client_id: str | None
    duplicate: bool
    entry: str | None = None  # the entry as JSON; None for a duplicate


@dataclass
class _Target:
    """A message the batch refers to, as it stands at this point of the batch."""

    kind: str
    author_id: int | None
    deleted: bool
    pk: int


def _checked(request: EntryRequest) -> EntryRequest:
    """The request with its fields checked as the protocol's parser checks
    them (adapters other than the socket reach here with unchecked input)."""
    kind = request.entry_kind
    if kind not in Kind.values:
        raise RoomsError("invalid", f"No entry kind {kind!r}.", field="kind")
    files = validators.check_attachment_ids(list(request.attachments) or None)
    if files and kind != Kind.TEXT:
        raise RoomsError("invalid", "Only a user's message carries files.", field="attachments")
    if kind in WITH_BODY:
        body = validators.check_body(
            request.body, max_body=settings.ROOMS_MAX_BODY, may_be_empty=bool(files)
        )
        request = replace(request, body=body, attachments=files)
    validators.check_client_id(request.client_id)
    if kind in Message.CHANGE_KINDS:
        if request.author is None:
            raise RoomsError("invalid", "A change needs an author.", field="author")
        validators.check_seq(request.target, name="seq")
    if kind == Kind.REACTION:
        validators.check_emoji(request.emoji)
    if request.reply_to is not None:
        validators.check_seq(request.reply_to, name="reply_to")
    return request


def _key(request: EntryRequest) -> tuple:
    """Whose client_id namespace the request's client_id lives in (G4)."""
    system = request.entry_kind == Kind.SYSTEM
    author_id = None if system else request.author.pk
    return (request.room.id, author_id, request.client_id)


def store_batch(requests: list[EntryRequest], results: list) -> list[tuple[int, int, str]]:
    """A group commit, inside the caller's transaction. Fills `results` (an
    EntryResult or a RoomsError per request); returns the entries to publish
    as (room id, seq, JSON). Raises IntegrityError when a concurrent
    transaction stored one of the client_ids first."""
    prepared = []
    for index, request in enumerate(requests):
        try:
            prepared.append((index, _checked(request)))
        except RoomsError as error:
            results[index] = error
    # A client_id already stored, or used earlier in this very batch: G4.
    keys = [_key(request) for _, request in prepared if request.client_id]
    stored = selectors.seqs_by_client_id(keys=keys)
    first_of: dict[tuple, int] = {}
    repeats: list[tuple[int, int]] = []
    fresh = []
    for index, request in prepared:
        key = _key(request) if request.client_id else None
        if key in stored:
            results[index] = EntryResult(seq=stored[key], client_id=key[2], duplicate=True)
        elif key in first_of:
            repeats.append((index, first_of[key]))
        else:
            if key is not None:
                first_of[key] = index
            fresh.append((index, request))
    published = []
    stored: list[mentions.Stored] = []
    rights = _lock_authors({r.author.pk for _, r in fresh if r.author is not None})
    for _, request in fresh:
        if request.author is not None:
            # The rows read under the lock decide this write: an author object
            # may have been loaded long ago (a socket's, at its handshake), and
            # a right lost since (staff) must not count.
            author = request.author
            author.is_active, author.is_staff, author.is_superuser = rights.get(author.pk, GONE)
    active = {pk for pk, (is_active, _, _) in rights.items() if is_active}
    budgets = rate.budgets(
        {r.author.pk for _, r in fresh if r.author is not None and r.check_rate} & active
    )
    # Rooms in id order: two processes' batches lock room rows in the same
    # order (after the authors', also in id order), so they queue rather than
    # deadlock.
    fresh.sort(key=lambda item: item[1].room.id)
    for _, group in itertools.groupby(fresh, key=lambda item: item[1].room.id):
        published += _store_room(list(group), results, active, stored, budgets)
    mentioned = mentions.record(stored)  # one bulk insert for the batch's @mentions
    away.away_note_on_commit(stored, mentioned)  # after the commit: who may need notifying
    for index, first in repeats:
        original = results[first]
        if isinstance(original, EntryResult):
            original = EntryResult(seq=original.seq, client_id=original.client_id, duplicate=True)
        elif isinstance(original, RoomsError):
            # A copy: the adapter writes each frame's own ref into its error.
            original = RoomsError(
                original.code,
                original.message,
                field=original.field,
                retry_after=original.retry_after,
            )
        results[index] = original
    return published


GONE = (False, False, False)  # a user deleted meanwhile: no rights at all


def _lock_authors(author_ids: set[int]) -> dict[int, tuple[bool, bool, bool]]:
    """Lock the authors' user rows until the commit and return their rights
    as stored: {pk: (is_active, is_staff, is_superuser)}. The lock makes the
    rate limit exact across worker processes: a concurrent batch of the same
    user waits here, then counts what this one stored. (SQLite serializes
    write transactions anyway.) NO KEY UPDATE: it does not hold off a room's
    management write that inserts a row pointing at the user (a membership)
    while holding the room's lock, which this batch waits for next: that
    would deadlock. Plain SQL: the ORM took longer to build the statement
    than the database to run it."""
    if not author_ids:
        return {}
    meta, quote = get_user_model()._meta, connection.ops.quote_name
    pk, active, staff, superuser = (
        quote(field.column)
        for field in (meta.pk, *map(meta.get_field, ("is_active", "is_staff", "is_superuser")))
    )
    ordered = sorted(author_ids)
    lock = " FOR NO KEY UPDATE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {active}, {staff}, {superuser} FROM {quote(meta.db_table)} "
            f"WHERE {pk} IN ({placeholders(ordered)}) ORDER BY {pk}{lock}",
            ordered,
        )
        rows = cursor.fetchall()
    return {
        user_id: (bool(is_active), bool(is_staff), bool(is_superuser))
        for user_id, is_active, is_staff, is_superuser in rows
    }


def _store_room(
    group: list[tuple[int, EntryRequest]],
    results: list,
    active: set[int],
    stored: list,
    budgets: dict[int, list],
) -> list:
    """Store the requests of one room that the rules allow; append what was
    stored to `stored` (for the batch's mentions). `budgets`: the batch's
    rate budgets (`rate.budgets`), spent here."""
    room = group[0][1].room
    authors = {request.author.pk for _, request in group if request.author is not None}
    post = selectors.post_access(room_id=room.id, author_ids=list(authors))
    wanted = {seq for _, r in group for seq in (r.target, r.reply_to) if seq is not None}
    # Messages alone (the common batch) name no other: no queryset to build.
    targets = {
        seq: _Target(kind, author_id, deleted, pk)
        for seq, kind, author_id, deleted, pk in (
            Message.objects.filter(room_id=room.id, seq__in=wanted, kind__in=Message.MESSAGE_KINDS)
            .order_by()  # not the model's ordering: a join to the room for nothing
            .values_list("seq", "kind", "author_id", "deleted", "pk")
            if wanted
            else ()
        )
    }
    free = attachments.claimable(room_id=room.id, requests=[r for _, r in group])
    allowed, taken = [], []
    for index, request in group:
        if request.author is not None and request.author.pk not in active:
            results[index] = RoomsError("auth_required", "This account is deactivated.")
            continue
        refusal = _refusal(request, post, targets, free)
        if refusal is None and request.author is not None:
            refusal = rate.spend(budgets, request.author.pk, enforce=request.check_rate)
        if refusal is not None:
            results[index] = refusal
            continue
        if request.entry_kind == Kind.DELETE:
            targets[request.target].deleted = True  # later changes in the batch see it
        allowed.append((index, request))
        taken.append(attachments.claim_take(request, free))
    if not allowed:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + %s "
            "WHERE id = %s AND NOT is_archived RETURNING last_seq",
            [len(allowed), room.id],
        )
        row = cursor.fetchone()
    if row is None:  # archived since post_access read it
        for index, _ in allowed:
            results[index] = RoomsError("read_only", "This room is archived.")
        return []
    first_seq = row[0] - len(allowed) + 1
    rows = Message.objects.bulk_create(
        [
            _row(room, first_seq + offset, request, files)
            for offset, ((_, request), files) in enumerate(zip(allowed, taken, strict=True))
        ]
    )
    _apply_changes(room, rows, [request for _, request in allowed], targets)
    if post.hidden_by:
        _bring_back(room.id, rows, post.hidden_by)
    stored.append(mentions.Stored(room.id, post.is_private, rows, is_direct=post.is_direct))
    published = []
    attachments.claim(messages=rows, taken=taken)  # one UPDATE statement, if any
    for (index, _), row in zip(allowed, rows, strict=True):
        text = row.json  # as stored; an edit a later delete emptied, as re-rendered
        results[index] = EntryResult(
            seq=row.seq, client_id=row.client_id, duplicate=False, entry=text
        )
        published.append((room.id, row.seq, text))
    return published


def _refusal(
    request: EntryRequest, post: selectors.PostAccess, targets: dict[int, _Target], free: dict
) -> RoomsError | None:
    """What stops the request, in the protocol's precedence: not_found, then
    a target that names no suitable message (invalid), forbidden, read_only.
    Each rule is rooms/access.py's, on the roles and flags read for the batch."""
    author = request.author
    role = post.roles.get(author.pk) if author is not None else None
    # An operator's tool (the admin) acts for staff in any room; a system
    # message (no author) is an operator's too, posted anywhere that exists.
    operator = author is None or (request.operator and access.is_operator(author))
    if not post.exists or not (operator or access.may_see(is_private=post.is_private, role=role)):
        return RoomsError("not_found", "No such room.")
    kind = request.entry_kind
    if request.reply_to is not None and request.reply_to not in targets:
        return RoomsError("invalid", "`reply_to` names no message of this room.", field="reply_to")
    if request.attachments and (refusal := attachments.claim_refusal(request, free)):
        return refusal
    target = targets.get(request.target) if request.target is not None else None
    if kind in Message.CHANGE_KINDS:
        if target is None:
            return RoomsError("invalid", "`seq` names no message of this room.", field="seq")
        if kind != Kind.DELETE and (target.deleted or target.kind == Kind.SYSTEM):
            what = "deleted" if target.deleted else "system"
            return RoomsError("invalid", f"A {what} message cannot be changed.", field="seq")
    restricted = author is not None and author.pk in post.restricted
    # The role's part of may_write comes before the ownership rules, the
    # archive's part after them (the protocol's precedence).
    if not access.may_write(is_archived=False, role=role, restricted=restricted):
        return RoomsError("forbidden", "You may only read this room.")
    if kind == Kind.EDIT and target.author_id != author.pk:
        return RoomsError("forbidden", "Only its author may edit a message.")
    if kind == Kind.DELETE and not (
        target.author_id == author.pk or access.may_moderate(user=author, role=role)
    ):
        return RoomsError("forbidden", "Only its author or a moderator may delete a message.")
    if not access.may_write(is_archived=post.is_archived, role=role, restricted=restricted):
        return RoomsError("read_only", "This room is archived.")
    return None


def _row(room, seq: int, request: EntryRequest, files: list[tuple]) -> Message:
    """The entry's row, its JSON stored by the same INSERT (`files`: its uploads' columns)."""
    kind = request.entry_kind
    author = request.author
    row = Message(
        room_id=room.id,
        seq=seq,
        author_id=author.pk if author is not None else None,
        kind=kind,
        body=request.body if kind in WITH_BODY else "",
        client_id=request.client_id,
        created_at=timezone.now(),
        reply_to=request.reply_to,
        target=request.target,
        emoji=(request.emoji or "") if kind == Kind.REACTION else "",
        reaction_on=request.on if kind == Kind.REACTION else None,
    )
    row.json = stored_json.new_entry_json(slug=room.slug, row=row, author=author, files=files)
    return row


def _apply_changes(room, rows: list[Message], requests: list[EntryRequest], targets: dict) -> None:
    """Bring each targeted message to the state its changes assign, in seq
    order (a reaction taken back after it was given ends absent); then
    re-render the stored JSON of the messages changed, and of the edits a
    delete emptied, in one read and one UPDATE (services.stored_json)."""
    for row, request in zip(rows, requests, strict=True):
        if row.kind not in Message.CHANGE_KINDS:
            continue  # a message changes no other (and a queryset costs ~0.1 ms)
        messages = Message.objects.filter(room_id=room.id, seq=row.target)
        if row.kind == Kind.EDIT:
            messages.update(body=row.body, edited_at=row.created_at)
        elif row.kind == Kind.DELETE:
            messages.update(deleted=True, body="")
            # Every earlier version goes too: its edits keep no body.
            Message.objects.filter(room_id=room.id, kind=Kind.EDIT, target=row.target).update(
                body=""
            )
            for earlier in rows:  # this batch's edits, as published
                if earlier.kind == Kind.EDIT and earlier.target == row.target:
                    earlier.body = ""
            Reaction.objects.filter(message_id=targets[row.target].pk).delete()
            attachments.attachments_drop(message_pk=targets[row.target].pk)  # files after commit
        elif row.kind == Kind.REACTION:
            holding = {"message_id": targets[row.target].pk, "user": request.author}
            if row.reaction_on:
                Reaction.objects.get_or_create(**holding, emoji=row.emoji)
            else:
                Reaction.objects.filter(**holding, emoji=row.emoji).delete()
    stored_json.changed_json_refresh(room=room, rows=rows)


def _bring_back(room_id: int, rows: list[Message], hidden_by: frozenset[int]) -> None:
    """A direct conversation some of its people hid (services.direct_hide)
    returns to their lists with its next message: their open pages re-read
    their lists after the commit. A change alone keeps it hidden."""
    hiders = Membership.objects.filter(room_id=room_id, user_id__in=hidden_by)
    if not any(row.is_message for row in rows):
        hiders.update(hidden_at_seq=rows[-1].seq)
        return
    hiders.update(hidden_at_seq=None)
    for user_id in sorted(hidden_by):
        broadcast.publish_on_commit(events.AccessChanged(user_id=user_id, room_id=room_id))
