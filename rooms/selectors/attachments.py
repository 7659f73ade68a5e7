"""Reading attachments: the object a message carries for each file
(docs/attachments.md), the files of a page of messages in one query, and
the serving decision: whether this person may have this file, and how it
is sent.

Who may see a file is who may see its room (rooms/access.py's queryset
form), asked again on every request; an upload not yet in a message is
its uploader's alone.
"""

from urllib.parse import quote

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from .. import access
from ..errors import RoomsError
from ..files import images
from ..files.serving import Served
from ..models import Attachment
from ..validators import check_attachment_ids

# The columns an attachment's object needs, in `attachment_object`'s order.
OBJECT_COLUMNS = ("id", "name", "size", "content_type", "width", "height", "thumbnail_key")


def file_url(attachment_id: str, name: str) -> str:
    """Where the file is served (rooms/web/urls.py); the name is there for
    the person who saves it, the id alone decides."""
    return f"/attachments/{attachment_id}/{quote(name, safe='')}"


def thumbnail_url(attachment_id: str) -> str:
    return f"/attachments/thumbnails/{attachment_id}.webp"


def attachment_object(
    id: str,
    name: str,
    size: int,
    content_type: str,
    width: int | None,
    height: int | None,
    thumbnail_key: str,
) -> dict:
    """An attachment as every message, the API and the exports show it."""
    return {
        "id": id,
        "name": name,
        "size": size,
        "content_type": content_type,
        "url": file_url(id, name),
        "thumbnail_url": thumbnail_url(id) if thumbnail_key else None,
        "width": width,
        "height": height,
    }


def attachment_json(*, attachment: Attachment) -> dict:
    return attachment_object(*(getattr(attachment, column) for column in OBJECT_COLUMNS))


def attachments_by_message(*, message_pks: list[int]) -> dict[int, list[dict]]:
    """{message pk: its attachments' objects, in the order they were sent},
    in one query."""
    if not message_pks:
        return {}
    rows = (
        Attachment.objects.filter(message_id__in=message_pks)
        .order_by("message_id", "position")
        .values_list("message_id", *OBJECT_COLUMNS)
    )
    found: dict[int, list[dict]] = {}
    for message_pk, *columns in rows:
        found.setdefault(message_pk, []).append(attachment_object(*columns))
    return found


def attachment_to_serve(
    *, user: AbstractBaseUser, attachment_id: str, thumbnail: bool = False
) -> Served | None:
    """The file (or its thumbnail) if `user` may have it now; None
    otherwise, alike for a file that does not exist, one in a room they
    cannot see, someone else's upload not yet sent, and anonymous users."""
    if not user.is_authenticated:
        return None
    try:
        check_attachment_ids([attachment_id])
    except RoomsError:
        return None
    row = (
        Attachment.objects.filter(access.visible_q(user, prefix="room__"), pk=attachment_id)
        .filter(Q(message__isnull=False) | Q(uploader=user))
        .values_list("name", "content_type", "key", "thumbnail_key")
        .first()
    )
    if row is None:
        return None
    name, content_type, key, thumbnail_key = row
    if thumbnail:
        if not thumbnail_key:
            return None
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return Served(
            key=thumbnail_key,
            name=f"{stem}.webp",
            content_type=images.THUMBNAIL_TYPE,
            inline=True,
            etag=f'"{attachment_id}-thumbnail"',
        )
    return Served(
        key=key,
        name=name,
        content_type=content_type,
        inline=content_type in images.FORMATS,
        etag=f'"{attachment_id}"',
    )
