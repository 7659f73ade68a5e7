"""Writes to a room's log: messages and their changes (edit, delete,
reaction) through the group commit (rooms/services/commit.py), read
cursors, and typing notices.

The entries of a commit are published once it has committed, so nobody
hears of an entry that could still roll back; so is a cursor's move.
"""

import time

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from .. import access, broadcast, events, selectors
from ..errors import RoomsError
from ..models import ReadCursor, Room
from ..ops import metrics
from . import commit
from .commit import EntryRequest, EntryResult

# Attempts of a group commit that lost a client_id race (each one is another
# transaction's commit landing between our check and our INSERT).
BATCH_ATTEMPTS = 3


def message_post(
    *,
    room: Room | access.RoomAccess,
    author: AbstractBaseUser | None,
    body: str,
    client_id: str | None = None,
    reply_to: int | None = None,
    check_rate: bool = True,
    attachments: tuple[str, ...] = (),
) -> EntryResult:
    """Store a message with the room's next seq; broadcast it after commit.

    A client_id already used by the same author in the same room (or by a
    system message, when `author` is None) stores nothing: the result holds
    the original seq and `duplicate=True` (G4). `attachments`: ids of the
    author's uploads to the room, claimed in the same transaction. Raises
    RoomsError (invalid, not_found, forbidden, read_only, rate_limited).
    """
    return entry_post(
        room=room,
        author=author,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        check_rate=check_rate,
        attachments=tuple(attachments),
    )


def entry_post(**request) -> EntryResult:
    """Store one entry (EntryRequest's fields: a message, or an `edit`,
    `delete` or `reaction` of one); raises its RoomsError."""
    result = entry_post_many([EntryRequest(**request)])[0]
    if isinstance(result, RoomsError):
        raise result
    return result


def entry_post_many(requests: list[EntryRequest]) -> list[EntryResult | RoomsError]:
    """Store several entries in one transaction: group commit for the frames
    that arrive together (rooms/realtime/batching.py). Each request gets
    exactly what storing it alone would give it, its own error included: a
    refused request stores nothing and stops no other. The entries are
    published after the commit."""
    attempt = 1
    reconnected = False
    while True:
        results: list[EntryResult | RoomsError | None] = [None] * len(requests)
        started = time.perf_counter()
        try:
            with transaction.atomic():
                published = commit.store_batch(requests, results)
                if published:
                    transaction.on_commit(
                        lambda stored=published: broadcast.publish_entries(stored)
                    )
            metrics.entries_committed(requests, results, started)
            return results
        except IntegrityError:
            # A concurrent transaction stored one of these client_ids after
            # our duplicate check. It has committed (the constraint waited
            # for it), so the next attempt's check finds it: G4.
            if attempt == BATCH_ATTEMPTS:
                raise
            attempt += 1
        except (OperationalError, InterfaceError):
            # A dropped connection (the database restarted, a proxy cut it):
            # nothing was committed, so one retry on a new connection is
            # safe; a database still down fails the batch.
            # An entry without a client_id could have been committed just
            # before the connection dropped: only a batch whose every entry
            # G4 protects may run again.
            if (
                reconnected
                or connection.in_atomic_block
                or any(request.client_id is None for request in requests)
            ):
                raise
            reconnected = True
            connection.close()


def read_cursor_advance(
    *, user: AbstractBaseUser, room: access.RoomAccess, seq: int, socket_id: str | None = None
) -> int:
    """Move the user's read cursor forward to `seq` (never back, never past
    the head); tell the user's other sockets after commit. Returns the
    cursor. A cursor grants nothing: it is not a membership."""
    seq = min(seq, selectors.room_head(room_id=room.id))
    with transaction.atomic():
        cursor, created = ReadCursor.objects.select_for_update().get_or_create(
            user=user, room_id=room.id, defaults={"seq": seq}
        )
        if not created:
            if cursor.seq >= seq:
                return cursor.seq
            ReadCursor.objects.filter(pk=cursor.pk).update(seq=seq)
        broadcast.publish_on_commit(
            events.ReadMoved(user_id=user.pk, room=room.slug, seq=seq, socket_id=socket_id)
        )
    return seq


def typing_notify(*, user: AbstractBaseUser, room: access.RoomAccess) -> None:
    """Tell the room that `user` is typing. Nothing is stored, so there is no
    commit to wait for: published at once."""
    broadcast.publish(events.Typing(room_id=room.id, user=user.get_username()))
