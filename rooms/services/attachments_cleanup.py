"""Uploads nobody sent: deleted a day after they were made (docs/attachments.md).

Each upload queues a job for that moment (`forget_upload` in rooms/tasks.py,
run by `manage.py worker`); `manage.py pruneuploads` sweeps every one that
is due, for uploads whose job was lost. Rows are locked and skipped when a
send is claiming them at that moment (SKIP LOCKED on PostgreSQL), so an
upload is either sent or deleted, never both; the files go after the commit.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..models import Attachment
from .attachments import UNCLAIMED_FOR, files_delete_on_commit

BATCH = 500  # uploads deleted per transaction


def upload_forget(*, attachment_id: str) -> bool:
    """The job: delete the upload if no message has claimed it and it is a
    day old. Returns whether it was deleted."""
    return _delete(_due(UNCLAIMED_FOR).filter(pk=attachment_id)) == 1


def uploads_prune(*, older_than: timedelta = UNCLAIMED_FOR, dry_run: bool = False) -> int:
    """Delete every upload no message claimed within `older_than`; returns
    how many were deleted (with `dry_run`, how many would be)."""
    if dry_run:
        return _due(older_than).count()
    total = 0
    while True:
        deleted = _delete(_due(older_than))
        total += deleted
        if deleted < BATCH:
            return total


def _due(older_than: timedelta):
    cutoff = timezone.now() - older_than
    return Attachment.objects.filter(message__isnull=True, created_at__lte=cutoff)


def _delete(due) -> int:
    """Delete up to BATCH of `due` in one transaction; their files after it."""
    with transaction.atomic():
        rows = list(
            due.select_for_update(skip_locked=True)
            .order_by("created_at")
            .values_list("pk", "key", "thumbnail_key")[:BATCH]
        )
        if not rows:
            return 0
        Attachment.objects.filter(pk__in=[pk for pk, _, _ in rows], message__isnull=True).delete()
        files_delete_on_commit([(key, thumbnail) for _, key, thumbnail in rows])
    return len(rows)
