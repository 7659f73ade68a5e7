"""Retention (`prunemessages`): deleting old entries of the room logs while
keeping what the protocol promises: seq continues after pruning, a message
never loses a change or keeps one without itself, and a pruned client_id is
still a duplicate (G4).

A pruned message's attachments go with it, their files once the
transaction has committed.

Nothing is published: a client finds out by what a join backfills, which
starts at the oldest seq still stored (`truncated`, selectors.join_start).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Message, PrunedClientId, Room
from . import attachments

PRUNE_BATCH = 5000  # rows a DELETE statement of retention names at once


def messages_prune(
    *, older_than: timedelta, room: Room | None = None, dry_run: bool = False
) -> int:
    """Retention: delete the entries created before now - `older_than`, and
    with a message every change of it, so the log never holds a change
    without its message or the reverse. Never the newest entry of a room (nor
    the message it changes), so seq continues after retention. Returns the
    number of entries deleted (or that would be)."""
    cutoff = timezone.now() - older_than
    rooms = Room.objects.filter(last_seq__gt=0)
    if room is not None:
        rooms = rooms.filter(pk=room.pk)  # its current head, not the caller's copy
    total = 0
    for each in rooms:
        with transaction.atomic():
            # The room's row lock keeps changes from targeting what we prune.
            head = (
                Room.objects.select_for_update().values_list("last_seq", flat=True).get(pk=each.pk)
            )
            log = Message.objects.filter(room=each)
            old = log.filter(created_at__lt=cutoff, seq__lt=head)
            newest = log.filter(seq=head).values_list("target", flat=True).first()
            if newest is not None:
                old = old.exclude(seq=newest).exclude(target=newest)
            pruned_messages = old.filter(kind__in=Message.MESSAGE_KINDS).values("seq")
            doomed = list(
                log.filter(Q(pk__in=old.values("pk")) | Q(target__in=pruned_messages)).values_list(
                    "pk", flat=True
                )
            )
            if dry_run:
                total += len(doomed)
                continue
            for start in range(0, len(doomed), PRUNE_BATCH):
                chunk = log.filter(pk__in=doomed[start : start + PRUNE_BATCH])
                _keep_client_ids(chunk)
                attachments.files_of_messages_on_commit(messages=chunk)  # their rows cascade
                total += chunk.delete()[1].get(Message._meta.label, 0)
    return total


def _keep_client_ids(entries) -> None:
    """Remember the client_ids of entries about to be pruned (G4 outlives
    retention: a late resend is still a duplicate)."""
    keys = entries.filter(client_id__isnull=False).values_list(
        "room_id", "author_id", "kind", "client_id", "seq"
    )
    PrunedClientId.objects.bulk_create(
        [
            PrunedClientId(
                room_id=room_id,
                author_id=None if kind == Message.Kind.SYSTEM else author_id,
                client_id=client_id,
                seq=seq,
            )
            for room_id, author_id, kind, client_id, seq in keys
        ],
        ignore_conflicts=True,
    )
