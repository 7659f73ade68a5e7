"""`/api/rooms/<slug>/members…`: a room's members and their roles,
inviting, changing a role, removing (docs/room-management.md). Its
moderators and staff only, 403 for anyone else; but any member leaves by
removing their own username."""

from typing import Annotated, Literal

from ninja import Router, Schema, Status
from pydantic import Field, StrictStr

from .. import access, selectors, services
from ..models import Membership
from .http import Timestamp, answers, stated

router = Router(tags=["members"])

ROLES = tuple(Membership.Role.values)
# The role a request names: the service refuses another (400 `invalid`,
# field `role`) after the right to manage the room, so that a member asking
# learns 403 whatever the role.
RoleName = Annotated[StrictStr, Field(**stated(enum=list(ROLES)))]


class Member(Schema):
    user: str
    role: Literal[ROLES]
    joined_at: Timestamp
    active: bool = Field(description="false for a deactivated account.")


class MemberList(Schema):
    room: str
    members: list[Member] = Field(description="Moderators first, then by username.")


class OneMember(Schema):
    member: Member | None


class Invitation(Schema):
    user: StrictStr = Field(description="The username to invite.", **stated(minLength=1))
    role: RoleName | None = Field(None, description="Default `member`.")


class RoleChange(Schema):
    role: RoleName


@router.get(
    "/rooms/{slug}/members",
    response=answers({200: MemberList}, 403, 404),
    summary="List a room's members",
)
def room_members(request, slug: str):
    room = access.room_manager_access(user=request.auth, slug=slug)
    return {"room": room.slug, "members": selectors.room_members(room=room)}


@router.post(
    "/rooms/{slug}/members",
    response=answers({201: OneMember}, 400, 403, 404, 413, 429),
    summary="Invite a member",
)
def member_invite(request, slug: str, payload: Invitation):
    """Invite a user (ROOMS_CREATE_RATE), in a role."""
    room = access.room_manager_access(user=request.auth, slug=slug)
    membership = services.membership_invite(
        room=room,
        by=request.auth,
        username=payload.user,
        role=payload.role or Membership.Role.MEMBER,
    )
    return Status(201, {"member": _member(room, membership.user.get_username())})


@router.patch(
    "/rooms/{slug}/members/{username}",
    response=answers({200: OneMember}, 400, 403, 404, 413),
    summary="Change a member's role",
)
def member_change_role(request, slug: str, username: str, payload: RoleChange):
    """Change a member's role; never the room's last moderator's."""
    user = request.auth
    room = access.room_manager_access(user=user, slug=slug)
    services.membership_change_role(room=room, by=user, username=username, role=payload.role)
    return {"member": _member(room, username)}


@router.delete(
    "/rooms/{slug}/members/{username}",
    response=answers({204: None}, 400, 403, 404),
    summary="Remove a member, or leave",
)
def member_remove(request, slug: str, username: str):
    """Remove a member (never the room's last moderator). The caller's own
    username is leaving, which needs no right to manage the room."""
    user = request.auth
    if username == user.get_username():
        services.membership_leave(room=access.room_access_or_404(user=user, slug=slug), user=user)
        return Status(204, None)
    room = access.room_manager_access(user=user, slug=slug)
    services.membership_revoke(room=room, by=user, username=username)
    return Status(204, None)


def _member(room, username: str) -> dict | None:
    return next((m for m in selectors.room_members(room=room) if m["user"] == username), None)
