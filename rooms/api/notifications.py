"""`/api/rooms/<slug>/notifications`: a user's notification setting of one
room (docs/api.md)."""

from typing import Annotated, Literal

from ninja import Router, Schema
from pydantic import Field, StrictStr

from .. import access, selectors, services
from ..models import NotificationSetting
from .http import answers, stated

router = Router(tags=["notifications"])

LEVELS = tuple(NotificationSetting.Level.values)


class Level(Schema):
    room: str
    level: Literal[LEVELS]


class LevelChoice(Schema):
    # The service refuses another level (400 `invalid`, field `level`).
    level: Annotated[StrictStr, Field(**stated(enum=list(LEVELS)))]


@router.get(
    "/rooms/{slug}/notifications",
    response=answers({200: Level}, 404),
    summary="Read the caller's notification level",
)
def room_notifications(request, slug: str):
    """The caller's notification setting for one room: `all`, `mentions`
    (the default; `all` in a direct conversation) or `none`."""
    room = access.room_access_or_404(user=request.auth, slug=slug)
    level = selectors.notification_level(user=request.auth, room_id=room.id)
    return {"room": room.slug, "level": level}


@router.put(
    "/rooms/{slug}/notifications",
    response=answers({200: Level}, 400, 403, 404, 413),
    summary="Choose the caller's notification level",
)
def room_notifications_set(request, slug: str, payload: LevelChoice):
    """Choose the caller's notification setting for one room."""
    room = access.room_access_or_404(user=request.auth, slug=slug)
    level = services.notification_level_set(user=request.auth, room=room, level=payload.level)
    return {"room": room.slug, "level": level}
