"""`/api/rooms` and `/api/rooms/<slug>`: the rooms a user may see, creating
one, one room's detail and settings (docs/api.md, docs/room-management.md),
and hiding a direct conversation from the caller's lists
(docs/direct-messages.md)."""

from django.http import HttpResponse

from .. import access, selectors, services
from ..selectors import api as api_selectors
from .http import boolean, dumps, endpoint, json_response, read_json, string


@endpoint("GET", "POST")
def room_list(request, user):
    """GET the rooms `user` may see; POST {"slug", "title", "private"}
    creates one (ROOMS_ROOM_CREATION), with `user` as its moderator: 201."""
    if request.method == "POST":
        payload = read_json(request)
        room = services.room_create_by(
            by=user,
            slug=string(payload, "slug", required=True),
            title=string(payload, "title") or "",
            is_private=bool(boolean(payload, "private")),
        )
        return json_response(dumps({"room": selectors.room_detail(room=room, user=user)}), 201)
    return json_response(dumps({"rooms": selectors.rooms_for_user(user=user)}))


@endpoint("GET", "PATCH")
def room_detail(request, user, slug):
    """GET one room (anyone who can see it); PATCH {"title", "archived",
    "private"} changes it (its moderators and staff: 403 for anyone else)."""
    if request.method == "GET":
        detail = api_selectors.room_detail_seen(user=user, slug=slug)
        return json_response(dumps({"room": detail}))
    room = access.room_manager_access(user=user, slug=slug)
    payload = read_json(request)
    services.room_edit(
        room=room,
        by=user,
        title=string(payload, "title"),
        is_archived=boolean(payload, "archived"),
        is_private=boolean(payload, "private"),
    )
    return json_response(dumps({"room": selectors.room_detail(room=room, user=user)}))


@endpoint("POST")
def room_hide(request, user, slug):
    """POST hides a direct conversation from the caller's lists until its
    next message (204); `invalid` for a room that is not one."""
    services.direct_hide(room=access.room_access_or_404(user=user, slug=slug), user=user)
    return HttpResponse(status=204)
