"""`/api/rooms` and `/api/rooms/<slug>`: the rooms a user may see, creating
one, one room's detail and settings (docs/api.md, docs/room-management.md),
and hiding a direct conversation from the caller's lists
(docs/direct-messages.md)."""

from typing import Annotated, Literal

from ninja import Router, Schema, Status
from pydantic import Field, StrictBool, StrictStr

from .. import access, selectors, services
from ..models import Membership, Room
from ..selectors import api as api_selectors
from ..validators import SLUG_PATTERN
from .http import Timestamp, answers, stated

router = Router(tags=["rooms"])


class RoomSummary(Schema):
    slug: str
    title: str = Field(description="A direct conversation's is made of the other people.")
    kind: Literal["room", "direct"]
    private: bool
    archived: bool
    head: int = Field(ge=0, description="The seq of the room's last entry (0: none yet).")


class ListedRoom(RoomSummary):
    kind: Literal["room"]
    unread: int = Field(ge=0, description="Messages of others above the caller's read cursor.")
    mentions: int = Field(ge=0, description="Of those, the ones that mention the caller.")
    last_activity: Timestamp | None


class ListedDirect(ListedRoom):
    kind: Literal["direct"]
    people: list[str] = Field(description="The other people's usernames, sorted.")


class RoomList(Schema):
    rooms: list[Annotated[ListedRoom | ListedDirect, Field(discriminator="kind")]]


class RoomDetail(RoomSummary):
    role: Literal[tuple(Membership.Role.values)] | None = Field(
        description="The caller's role in the room, if a member."
    )
    can_manage: bool


class OneRoom(Schema):
    room: RoomDetail


# Also without control characters: the service says so (field `title`).
Title = Annotated[StrictStr, Field(**stated(maxLength=Room._meta.get_field("title").max_length))]


class RoomCreate(Schema):
    slug: StrictStr = Field(
        description="The room's address: 1 to 64 letters, digits, - and _.",
        **stated(pattern=f"^{SLUG_PATTERN}$"),
    )
    title: Title | None = None
    private: StrictBool | None = None


class RoomChange(Schema):
    title: Title | None = None
    archived: StrictBool | None = None
    private: StrictBool | None = None


@router.get(
    "/rooms/", response=answers({200: RoomList}), summary="List the rooms the caller may see"
)
def room_list(request):
    """The rooms the caller may see, sorted by slug."""
    return {"rooms": selectors.rooms_for_user(user=request.auth)}


@router.post(
    "/rooms/", response=answers({201: OneRoom}, 400, 403, 413, 429), summary="Create a room"
)
def room_create(request, payload: RoomCreate):
    """Create a room (ROOMS_ROOM_CREATION), with the caller as its moderator."""
    room = services.room_create_by(
        by=request.auth,
        slug=payload.slug,
        title=payload.title or "",
        is_private=bool(payload.private),
    )
    return Status(201, {"room": selectors.room_detail(room=room, user=request.auth)})


@router.get("/rooms/{slug}", response=answers({200: OneRoom}, 404), summary="Read one room")
def room_detail(request, slug: str):
    """One room, for anyone who can see it."""
    return {"room": api_selectors.room_detail_seen(user=request.auth, slug=slug)}


@router.patch(
    "/rooms/{slug}", response=answers({200: OneRoom}, 400, 403, 404, 413), summary="Change a room"
)
def room_change(request, slug: str, payload: RoomChange):
    """Rename, archive, make private or public: the room's moderators and
    staff (403 for anyone else)."""
    room = access.room_manager_access(user=request.auth, slug=slug)
    services.room_edit(
        room=room,
        by=request.auth,
        title=payload.title,
        is_archived=payload.archived,
        is_private=payload.private,
    )
    return {"room": selectors.room_detail(room=room, user=request.auth)}


@router.post(
    "/rooms/{slug}/hide",
    response=answers({204: None}, 400, 404),
    summary="Hide a direct conversation",
)
def room_hide(request, slug: str):
    """Hide a direct conversation from the caller's lists until its next
    message; `invalid` for a room that is not one."""
    room = access.room_access_or_404(user=request.auth, slug=slug)
    services.direct_hide(room=room, user=request.auth)
    return Status(204, None)
