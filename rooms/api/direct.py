"""`/api/direct`: open the direct conversation of the caller with the people
named, creating it once (docs/direct-messages.md)."""

from typing import Annotated

from ninja import Router, Schema, Status
from pydantic import Field, StrictStr

from .. import selectors, services
from .http import answers

router = Router(tags=["direct conversations"])


class People(Schema):
    users: list[Annotated[StrictStr, Field(min_length=1)]] = Field(
        min_length=1, description="The other people's usernames (at most 7)."
    )


class Conversation(Schema):
    room: str = Field(description="Its slug, for /api/rooms/<slug>/… and the WebSocket.")
    people: list[str] = Field(description="Everyone in it, the caller included, sorted.")


OPENED = {201: Conversation, 200: Conversation}


@router.post("/direct", response=answers(OPENED, 400, 403, 413, 429))
def direct(request, payload: People):
    """201 when this request created the conversation, 200 when it existed."""
    user = request.auth
    people = selectors.users_named(usernames=payload.users)
    room, created = services.direct_open(user=user, others=people)
    everyone = sorted({user.get_username(), *(person.get_username() for person in people)})
    return Status(201 if created else 200, {"room": room.slug, "people": everyone})
