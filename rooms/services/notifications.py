"""Which messages of a room notify a user: all, mentions, none (docs/ui.md,
Notifications and badges). Nothing is published: a page reads the level
when it loads (selectors.notification_level)."""

from django.contrib.auth.models import AbstractBaseUser

from .. import access
from ..errors import RoomsError
from ..models import NotificationSetting


def notification_level_set(*, user: AbstractBaseUser, room: access.RoomAccess, level: str) -> str:
    """Choose which messages of `room` notify `user`: `all`, `mentions` (the
    default) or `none`. Stored per (user, room) apart from Membership, so a
    setting never grants access; the caller has checked that the user may
    see the room."""
    if level not in NotificationSetting.Level.values:
        choices = ", ".join(NotificationSetting.Level.values)
        raise RoomsError("invalid", f"`level` must be one of {choices}.", field="level")
    NotificationSetting.objects.update_or_create(
        user=user, room_id=room.id, defaults={"level": level}
    )
    return level
