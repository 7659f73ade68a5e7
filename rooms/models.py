"""Rooms, memberships, the room log, read cursors and API tokens, and the
records that outlive a membership (a read-only restriction) or limit what
one person starts (RecentStart).

The `Message` table is the room's log of entries: messages (kinds `text` and
`system`) and the changes made to them (`edit`, `delete`, `reaction`) alike.
Every entry of a room has a seq, allocated from `Room.last_seq` in the same
transaction as the insert (rooms/services/commit.py), and the database
enforces what the protocol promises (unique seq per room, one entry per
client_id and author per room). A message row also carries its current state (body, edited_at,
deleted; reactions in `Reaction`), which a change updates in the same
transaction that appends the change's entry. docs/protocol.md says why one
table: one sequence, one keyset scan for backfill, one idempotency rule.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Room(models.Model):
    class Kind(models.TextChoices):
        ROOM = "room", "Room"
        DIRECT = "direct", "Direct conversation"

    # A direct conversation holds 2 to this many people, fixed when it starts.
    DIRECT_MAX_PEOPLE = 8
    # Its slug starts so; no other room's may (services.room_create).
    DIRECT_SLUG_PREFIX = "dm-"

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
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ROOM)
    # A direct conversation's people, as their sorted user ids joined by ".":
    # unique, so the same people always get the same conversation, however
    # many of them start it at once (services.direct_open). NULL for rooms.
    direct_key = models.CharField(
        max_length=200, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def display_title(self) -> str:
        return self.title or self.slug

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MODERATOR = "moderator", _("Moderator")
        READ_ONLY = "read_only", _("Read-only")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # A direct conversation its person hid (services.direct_hide): the room's
    # head then. The lists leave the room out until its head passes it.
    hidden_at_seq = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="membership_unique_user_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class RoomRestriction(models.Model):
    """Someone made read-only in a room. It outlives their membership, so
    being removed (or leaving) a public room does not give them their voice
    back: only a writing role given again lifts it (services.memberships;
    the rule is access.may_write)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="roomrestriction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read-only in {self.room_id}"


class RecentStart(models.Model):
    """A room, direct conversation or invitation a user started lately: what
    ROOMS_CREATE_RATE counts (services.starts). Rows older than the period
    are deleted as the user starts more."""

    class Kind(models.TextChoices):
        ROOM = "room", "Room"
        DIRECT = "direct", "Direct conversation"
        INVITE = "invite", "Invitation"
        UPLOAD = "upload", "Upload"  # counted against ROOMS_UPLOAD_RATE instead

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="recentstart_user_created")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.user_id} at {self.created_at}"


class Message(models.Model):
    """One entry of a room's log (a message, or a change to one)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        SYSTEM = "system", "System"
        EDIT = "edit", "Edit"
        DELETE = "delete", "Delete"
        REACTION = "reaction", "Reaction"

    # The kinds that are messages; the others are changes to one.
    MESSAGE_KINDS = (Kind.TEXT, Kind.SYSTEM)
    CHANGE_KINDS = (Kind.EDIT, Kind.DELETE, Kind.REACTION)

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField(editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # A message's current body ("" once deleted); an edit entry's new body.
    body = models.TextField(blank=True)
    # NULL, not "": the partial unique constraints below skip entries without one.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    # A default, not auto_now_add: the group commit renders an entry's JSON
    # (with this time) before its INSERT, which auto_now_add would overwrite.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # Messages: their current state.
    deleted = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    reply_to = models.BigIntegerField(null=True, blank=True, help_text="The seq replied to.")
    # Changes: the message they change, and what a reaction says.
    target = models.BigIntegerField(null=True, blank=True, help_text="The seq changed.")
    emoji = models.CharField(max_length=64, blank=True)
    reaction_on = models.BooleanField(null=True, blank=True)
    # The entry's JSON in its current state (selectors.entry_json), so a
    # backfill page is a read of stored text; "" when not stored (rows older
    # than it, or cleared by rooms/services/stored_json.py): readers render those.
    json = models.TextField(blank=True, default="", db_default="", editable=False)

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
            # History pages and unread counts read messages, not changes
            # (MESSAGE_KINDS, spelled out: Meta cannot see the class's names).
            models.Index(
                fields=["room", "seq"],
                condition=Q(kind__in=["text", "system"]),
                name="message_room_seq_messages",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"

    @property
    def is_message(self) -> bool:
        return self.kind in self.MESSAGE_KINDS


class Reaction(models.Model):
    """A user's reaction held on a message now (the entries say how it came)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    emoji = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="reaction_unique_message_user_emoji"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class PrunedClientId(models.Model):
    """The client_id of an entry that retention deleted, with the seq it had:
    a client resending it later is still told "duplicate" (G4) instead of
    storing the entry twice."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    # None for a system message: the namespace of system client_ids.
    author_id = models.BigIntegerField(null=True, blank=True)
    client_id = models.CharField(max_length=64)
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "author_id", "client_id"], name="prunedclientid_unique_key"
            )
        ]
        indexes = [models.Index(fields=["room", "client_id"], name="prunedclientid_room_cid")]

    def __str__(self) -> str:
        return f"{self.room_id}:{self.client_id}#{self.seq}"


class ReadCursor(models.Model):
    """How far a user has read a room. Kept apart from Membership on purpose:
    a cursor grants nothing, so moving one never creates or restores access."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="read_cursors")
    seq = models.BigIntegerField(help_text="The last seq the user has read.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="readcursor_unique_user_room")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.room_id} to {self.seq}"


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


class Mention(models.Model):
    """A user named with `@username` in a message they may see, recorded by
    the group commit (rooms/mentions.py) when the message or an edit of it is
    stored. `seq` is the message's, so unread mentions are counted against
    the read cursor without a join on the log."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="mention_unique_message_user")
        ]
        indexes = [models.Index(fields=["user", "room", "seq"], name="mention_user_room_seq")]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.room_id}#{self.seq}"


class NotificationSetting(models.Model):
    """Which messages of a room a user is notified of. Its own table, not a
    field of Membership: choosing a setting for a public room must not make
    anyone a member. No row means the default, mentions only."""

    class Level(models.TextChoices):
        ALL = "all", "All messages"
        MENTIONS = "mentions", "Mentions only"
        NONE = "none", "None"

    DEFAULT = Level.MENTIONS

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.MENTIONS)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="notificationsetting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}: {self.level}"


from .attachment_models import Attachment  # noqa: E402, F401
from .away_models import EmailPreference, NotifyState, PushSubscription  # noqa: E402, F401
from .display_models import UserSettings  # noqa: E402, F401
