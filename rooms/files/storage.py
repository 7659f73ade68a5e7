"""Where the bytes of attachments are kept: Django's `attachments` storage
(project/settings.py), the filesystem under ROOMS_MEDIA_ROOT or an
S3-compatible bucket through django-storages.

Keys are made of the attachment's random id alone, never of a name a
client chose, so no upload can name a path.
"""

import logging
import secrets

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

logger = logging.getLogger("rooms.attachments")


def attachments_storage() -> Storage:
    return storages["attachments"]


def is_bucket() -> bool:
    """Whether files live in a bucket (served by presigned redirects)."""
    return bool(getattr(attachments_storage(), "bucket_name", None))


def new_id() -> str:
    return secrets.token_hex(16)


def key_for(attachment_id: str, *, thumbnail: bool = False) -> str:
    """`attachments/ab/abcd…` (a directory per two first characters, so no
    directory holds them all); the thumbnail beside it."""
    suffix = "-thumbnail" if thumbnail else ""
    return f"attachments/{attachment_id[:2]}/{attachment_id}{suffix}"


def save(key: str, content, *, content_type: str) -> str:
    """Store `content` (a file object) under `key`; returns the key the
    storage used."""
    content.seek(0)
    stored = File(content, name=key)
    stored.content_type = content_type  # what S3 records as the object's type
    return attachments_storage().save(key, stored)


def open_file(key: str) -> File:
    return attachments_storage().open(key, "rb")


def delete(keys) -> None:
    """Delete files; a failure is logged, not raised (the rows are gone
    already, and a file left behind harms nobody but the disk)."""
    storage = attachments_storage()
    for key in keys:
        if not key:
            continue
        try:
            storage.delete(key)
        except Exception:
            logger.exception("attachments: could not delete %s from the storage", key)


def presigned_url(key: str, *, content_type: str, disposition: str, cache_control: str) -> str:
    """A short-lived address of the object in the bucket, which makes the
    bucket answer with these headers (ROOMS_S3_URL_EXPIRY seconds)."""
    return attachments_storage().url(
        key,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": cache_control,
        },
        expire=settings.ROOMS_S3_URL_EXPIRY,
    )
