"""What the room list page shows: the rooms, apart from them the direct
conversations, and the script's starting state. Rendered by the list itself
(rooms.room_list) and again, with the picker's error, by direct.direct_open."""

from .. import selectors
from ..models import Room
from ..selectors import listings


def room_list_context(request, *, form=None) -> dict:
    rooms = selectors.rooms_for_user(user=request.user)
    config = {
        "page": "room-list",
        "user": request.user.get_username(),
        "rooms": rooms,
        # The rooms the page joins, to count live: not all of a thousand on
        # one socket (docs/ui.md); the others keep the counts made here.
        "join": listings.rooms_to_join(rooms=rooms),
        "joinLimit": listings.ROOM_LIST_JOIN_LIMIT,
        # Rooms whose notification level is not the page's default (mentions only).
        "notify": selectors.notification_levels(user=request.user),
    }
    return {
        "rooms": [room for room in rooms if room["kind"] != Room.Kind.DIRECT],
        "direct_rooms": [room for room in rooms if room["kind"] == Room.Kind.DIRECT],
        "direct_max": Room.DIRECT_MAX_PEOPLE,
        "form": form,
        "config": config,
    }
