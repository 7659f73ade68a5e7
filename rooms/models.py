"""Rooms, memberships, messages and API tokens.

The message table is the log: every message of a room has a seq, allocated
from `Room.last_seq` in the same transaction as the insert (services.py), and
the database enforces what the protocol promises (unique seq per room, one
message per client_id and author per room).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Room(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    is_private = models.BooleanField(
        "private", default=False, help_text="Only members can see and join a private room."
    )
    is_archived = models.BooleanField(
        "archived", default=False, help_text="An archived room is read-only."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seq = models.BigIntegerField(
        default=0, editable=False, help_text="The seq of the room's newest message (its head)."
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def display_title(self) -> str:
        return self.title or self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        MODERATOR = "moderator", "Moderator"
        READ_ONLY = "read_only", "Read-only"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    last_read_seq = models.BigIntegerField(
        null=True, blank=True, help_text="The user's read cursor: the last seq they have read."
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="membership_unique_user_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        SYSTEM = "system", "System"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField(editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    body = models.TextField(blank=True)
    # NULL, not "": the partial unique constraints below skip messages without one.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    redacted = models.BooleanField(default=False)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            # Also the index for "messages of room R with seq > S, in order".
            models.UniqueConstraint(fields=["room", "seq"], name="message_unique_room_seq"),
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=Q(client_id__isnull=False, author__isnull=False),
                name="message_unique_author_client_id",
            ),
            # NULL authors are distinct in a unique constraint, so system
            # messages get their own one.
            models.UniqueConstraint(
                fields=["room", "client_id"],
                condition=Q(client_id__isnull=False, kind="system"),
                name="message_unique_system_client_id",
            ),
        ]
        indexes = [
            models.Index(fields=["author", "created_at"], name="message_author_created"),
            # The duplicate check of a send (G4) looks up client_ids per room,
            # users' and system ones alike, before inserting.
            models.Index(
                fields=["room", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_room_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"


class PresenceSnapshot(models.Model):
    """Who is online in which room, as one worker process last saw it.

    Each process's hub rewrites its row when its users change and every few
    seconds; rows not refreshed for a while belong to dead processes and are
    ignored. Live clients learn presence from the hubs' gossip; this is what
    a command or the admin can read (`roomstats`).
    """

    process_id = models.CharField(max_length=32, primary_key=True)
    rooms = models.JSONField(default=dict, help_text="{room id: [usernames]}")
    updated_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.process_id


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The token's first characters, to tell it apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
