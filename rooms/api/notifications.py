"""`/api/rooms/<slug>/notifications`: a user's notification setting of one
room (docs/api.md)."""

from .. import access, selectors, services
from .http import dumps, endpoint, json_response, read_json


@endpoint("GET", "PUT")
def room_notifications(request, user, slug):
    """The user's notification setting for one room: `all`, `mentions` (the
    default; `all` in a direct conversation) or `none`. PUT `{"level": …}`
    changes it (session: CSRF too)."""
    room = access.room_access_or_404(user=user, slug=slug)
    if request.method == "PUT":
        level = services.notification_level_set(
            user=user, room=room, level=read_json(request).get("level")
        )
    else:
        level = selectors.notification_level(user=user, room_id=room.id)
    return json_response(dumps({"room": room.slug, "level": level}))
