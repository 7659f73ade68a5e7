"""The tables behind reaching people who are away (docs/notifications.md):
where to push, what has been notified, and whether to email at all.

Imported at the end of rooms/models.py, so they belong to the `rooms` app.
"""

from django.conf import settings
from django.db import models


class PushSubscription(models.Model):
    """A browser's Web Push subscription (its `PushSubscription.toJSON()`).
    The endpoint is the push service's address for that one browser, unique
    whoever registers it: a browser handed to another person moves with its
    subscription."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.TextField(unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    # The session that registered it: logging out of that device removes it.
    session_key = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"push of {self.user_id}: {self.endpoint[:60]}"


class NotifyState(models.Model):
    """Per (user, room, channel): the newest seq already notified, and when
    the pending delivery is due (None: none pending). The rows with `due_at`
    set are the worker's queue; the worker locks a row to deliver it, so two
    workers never notify the same message twice."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PUSH = "push", "Web Push"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    notified_seq = models.BigIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "room", "channel"], name="notifystate_unique_user_room_channel"
            )
        ]
        # The worker's queue: the rows with a delivery pending, by when due.
        indexes = [
            models.Index(
                fields=["due_at"],
                name="notifystate_pending_due",
                condition=models.Q(due_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} of {self.user_id} in {self.room_id}: {self.notified_seq}"


class EmailPreference(models.Model):
    """Whether a user is emailed at all. No row means yes (when they have an
    address); the unsubscribe link and the settings page turn it off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference"
    )
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"email of {self.user_id}: {'on' if self.enabled else 'off'}"
