"""The record of a file uploaded to a room (docs/attachments.md).

Imported at the end of rooms/models.py, so it belongs to the `rooms` app.
The bytes live in the `attachments` storage (project/settings.py: the
filesystem or an S3-compatible bucket) under `key`; the row says what they
are. An upload belongs to nobody's message until a send claims it (the
group commit sets `message`, once); one still unclaimed after a day is
deleted (services.attachments_cleanup).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Attachment(models.Model):
    # Random, so that an address names one file and cannot be guessed from
    # another (access is still checked on every request).
    id = models.CharField(primary_key=True, max_length=32, editable=False)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The message that carries it; NULL until a send claims it. Deleting or
    # pruning the message deletes the row (its files after the commit).
    message = models.ForeignKey(
        "rooms.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Its place among its message's attachments."
    )
    name = models.CharField(max_length=200, help_text="The file's name, cleaned.")
    size = models.BigIntegerField(help_text="Bytes, as stored.")
    content_type = models.CharField(max_length=100)
    key = models.CharField(max_length=200, help_text="Where the file is in the storage.")
    thumbnail_key = models.CharField(max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "position"]
        indexes = [
            # The daily clean-up finds the old unclaimed uploads.
            models.Index(
                fields=["created_at"],
                condition=Q(message__isnull=True),
                name="attachment_unclaimed_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def is_image(self) -> bool:
        """A raster image (PNG, JPEG, GIF, WebP), shown inline."""
        return self.width is not None
