"""`/api/direct`: open the direct conversation of the caller with the people
named, creating it once (docs/direct-messages.md)."""

from typing import Annotated

from ninja import Router, Schema, Status
from pydantic import Field, StrictStr

from .. import selectors, services
from ..errors import RoomsError
from ..models import Room
from .http import answers, stated

router = Router(tags=["direct conversations"])


class People(Schema):
    users: list[Annotated[StrictStr, Field(**stated(minLength=1))]] = Field(
        description=(
            "The other people's usernames (the caller's own may be among them): "
            f"at most {Room.DIRECT_MAX_PEOPLE} people in all."
        ),
        **stated(minItems=1, maxItems=Room.DIRECT_MAX_PEOPLE),
    )


class Conversation(Schema):
    room: str = Field(description="Its slug, for /api/rooms/<slug>/… and the WebSocket.")
    people: list[str] = Field(description="Everyone in it, the caller included, sorted.")


OPENED = {201: Conversation, 200: Conversation}


@router.post(
    "/direct", response=answers(OPENED, 400, 403, 413, 429), summary="Open a direct conversation"
)
def direct(request, payload: People):
    """201 when this request created the conversation, 200 when it existed."""
    user = request.auth
    if not payload.users or not all(payload.users):
        raise RoomsError("invalid", "`users` must be a list of usernames.", field="users")
    people = selectors.users_named(usernames=payload.users)
    room, created = services.direct_open(user=user, others=people)
    everyone = sorted({user.get_username(), *(person.get_username() for person in people)})
    return Status(201 if created else 200, {"room": room.slug, "people": everyone})
