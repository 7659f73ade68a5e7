"""Attachments' writes (docs/attachments.md): uploading a file to a room;
claiming uploads for a message, inside the group commit that stores it
(rooms/services/commit.py), so an upload is used at most once however many
sends race for it; and deleting the files of messages that are deleted or
pruned, once that has committed.

An upload is not an entry of the log and publishes nothing: the message
that carries it is the entry.
"""

from collections.abc import Iterable
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from .. import access
from ..errors import RoomsError
from ..files import images, storage, uploads
from ..models import Attachment, Message
from ..selectors.attachments import OBJECT_COLUMNS
from ..sql import column, placeholders
from . import starts

# How long an upload may wait for a message before it is deleted.
UNCLAIMED_FOR = timedelta(days=1)


def attachment_upload_by(*, by: AbstractBaseUser, slug: str, upload) -> Attachment:
    """Store `upload` (a Django UploadedFile) for `by` in room `slug`:
    `not_found` for a room they cannot see, `forbidden` for a read-only
    member, `read_only` for an archived room, `rate_limited` past
    ROOMS_UPLOAD_RATE, `invalid` for an empty file or an image Pillow
    cannot read, `too_large` past ROOMS_MAX_UPLOAD_BYTES. An image is
    stored re-encoded (rooms/files/images.py), anything else as it came."""
    room = access.room_access_or_404(user=by, slug=slug)
    if not access.may_write(is_archived=False, role=room.role, restricted=room.restricted):
        raise RoomsError("forbidden", gettext("You may only read this room."))
    if room.is_archived:
        raise RoomsError("read_only", gettext("This room is archived."))
    if upload.size > settings.ROOMS_MAX_UPLOAD_BYTES:
        raise uploads.too_large()
    if upload.size == 0:
        raise RoomsError("invalid", gettext("The file is empty."), field="file")
    with transaction.atomic():
        # Counted before the work: a file that turns out unreadable was work too.
        starts.upload_record(user=by)
    attachment = Attachment(
        id=storage.new_id(),
        room_id=room.id,
        uploader=by,
        name=uploads.clean_name(upload.name),
        content_type=uploads.sniff(upload),
        size=upload.size,
    )
    _store_files(attachment, upload)
    try:
        with transaction.atomic():
            attachment.save(force_insert=True)
            # robust: a job that cannot be queued leaves the upload to `pruneuploads`.
            transaction.on_commit(lambda: _forget_if_unclaimed(attachment), robust=True)
    except BaseException:
        storage.delete([attachment.key, attachment.thumbnail_key])
        raise
    return attachment


def _store_files(attachment: Attachment, upload) -> None:
    """Write the file (and an image's thumbnail) to the storage, setting
    the attachment's keys, size and dimensions."""
    key = storage.key_for(attachment.id)
    if attachment.content_type not in images.FORMATS:
        attachment.key = storage.save(key, upload, content_type=attachment.content_type)
        return
    processed = images.process(upload, attachment.content_type)
    with processed.original, processed.thumbnail:
        attachment.size = processed.original.seek(0, 2)
        attachment.width, attachment.height = processed.width, processed.height
        attachment.key = storage.save(key, processed.original, content_type=attachment.content_type)
        try:
            attachment.thumbnail_key = storage.save(
                storage.key_for(attachment.id, thumbnail=True),
                processed.thumbnail,
                content_type=images.THUMBNAIL_TYPE,
            )
        except BaseException:
            storage.delete([attachment.key])
            raise


def _forget_if_unclaimed(attachment: Attachment) -> None:
    """A job that deletes the upload a day from now unless a message has
    claimed it by then (rooms/tasks.py; `pruneuploads` sweeps the rest)."""
    tasks = import_module("rooms.tasks")  # its job calls back here: looked up by name
    due = attachment.created_at + UNCLAIMED_FOR
    tasks.forget_upload.using(run_after=due).enqueue(attachment.id)


# --- Inside the group commit ---------------------------------------------------


def _column(field: str) -> str:
    return column(Attachment, field)


def claimable(*, room_id: int, requests: Iterable) -> dict[str, tuple]:
    """The uploads of room `room_id` that `requests` (EntryRequests) name
    and no message holds yet, locked until the commit: {id: (uploader id,
    the object's columns)}. No query when no request carries attachments.

    Plain SQL, here and in `claim`: they run in the group commit of every
    message with a file, and the ORM's building of these two statements
    cost more than the statements (docs/benchmarks.md, Attachments)."""
    wanted = sorted({upload_id for request in requests for upload_id in request.attachments})
    if not wanted:
        return {}
    columns = ", ".join(_column(field) for field in ("uploader", *OBJECT_COLUMNS))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {Attachment._meta.db_table} "
            f"WHERE {_column('id')} IN ({placeholders(wanted)}) "
            f"AND {_column('room')} = %s AND {_column('message')} IS NULL "
            f"ORDER BY {_column('id')}{lock}",
            [*wanted, room_id],
        )
        rows = cursor.fetchall()
    return {columns[0]: (uploader_id, tuple(columns)) for uploader_id, *columns in rows}


def claim_refusal(request, free: dict[str, tuple]) -> RoomsError | None:
    """`invalid` unless each upload the request names is free and its
    sender's (one this batch already gave to another message is not)."""
    for upload_id in request.attachments:
        found = free.get(upload_id)
        if found is None or request.author is None or found[0] != request.author.pk:
            return RoomsError(
                "invalid",
                "`attachments` names an upload that is not yours to send in this room, "
                "or one already sent.",
                field="attachments",
            )
    return None


def claim_take(request, free: dict[str, tuple]) -> list[tuple]:
    """Take the request's uploads out of `free` (its send was allowed)."""
    return [free.pop(upload_id)[1] for upload_id in request.attachments]


def claim(*, messages: list[Message], taken: list[list[tuple]]) -> None:
    """Give each stored message the uploads taken for it, in the order its
    send named them (one statement, executed for each upload). Their objects
    are in each message's JSON already (stored_json.new_entry_json)."""
    owner = [
        (message.pk, position, columns[0])
        for message, files in zip(messages, taken, strict=True)
        for position, columns in enumerate(files)
    ]
    if owner:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Attachment._meta.db_table} SET {_column('message')} = %s, "
                f"{_column('position')} = %s WHERE {_column('id')} = %s",
                owner,
            )


# --- Deleting files -------------------------------------------------------------------


def attachments_drop(*, message_pk: int) -> None:
    """A message was deleted: its attachments go, their files once the
    transaction has committed (a rollback keeps them)."""
    held = Attachment.objects.filter(message_id=message_pk)
    keys = list(held.values_list("key", "thumbnail_key"))
    if keys:
        held.delete()
        files_delete_on_commit(keys)


def files_of_messages_on_commit(*, messages: QuerySet[Message]) -> None:
    """`messages` are about to be deleted (retention), their attachments'
    rows with them: delete the files too, once that has committed."""
    keys = list(Attachment.objects.filter(message__in=messages).values_list("key", "thumbnail_key"))
    if keys:
        files_delete_on_commit(keys)


def files_delete_on_commit(keys: list[tuple[str, str]]) -> None:
    flat = [key for pair in keys for key in pair if key]
    transaction.on_commit(lambda: storage.delete(flat))
