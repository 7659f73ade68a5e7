"""`/api/rooms/<slug>/members…`: a room's members and their roles,
inviting, changing a role, removing (docs/room-management.md). Its
moderators and staff only, 403 for anyone else; but any member leaves by
removing their own username."""

from django.http import HttpResponse

from .. import access, selectors, services
from ..models import Membership
from .http import dumps, endpoint, json_response, read_json, string


@endpoint("GET", "POST")
def room_members(request, user, slug):
    """GET the members and their roles; POST {"user", "role"} invites (201)."""
    room = access.room_manager_access(user=user, slug=slug)
    if request.method == "POST":
        payload = read_json(request)
        membership = services.membership_invite(
            room=room,
            by=user,
            username=string(payload, "user", required=True),
            role=string(payload, "role") or Membership.Role.MEMBER,
        )
        member = _member(room, membership.user.get_username())
        return json_response(dumps({"member": member}), 201)
    members = selectors.room_members(room=room)
    return json_response(dumps({"room": room.slug, "members": members}))


@endpoint("PATCH", "DELETE")
def room_member(request, user, slug, username):
    """PATCH {"role"} changes a member's role; DELETE removes them (204).
    Never the room's last moderator. DELETE of the caller's own username is
    leaving (204), which needs no right to manage the room."""
    if request.method == "DELETE" and username == user.get_username():
        services.membership_leave(room=access.room_access_or_404(user=user, slug=slug), user=user)
        return HttpResponse(status=204)
    room = access.room_manager_access(user=user, slug=slug)
    if request.method == "DELETE":
        services.membership_revoke(room=room, by=user, username=username)
        return HttpResponse(status=204)
    role = string(read_json(request), "role", required=True)
    services.membership_change_role(room=room, by=user, username=username, role=role)
    return json_response(dumps({"member": _member(room, username)}))


def _member(room, username: str) -> dict | None:
    return next((m for m in selectors.room_members(room=room) if m["user"] == username), None)
