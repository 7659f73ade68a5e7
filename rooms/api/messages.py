"""`/api/rooms/<slug>/messages…`: a room's log by seq, publishing a message,
editing, deleting and reacting to one (docs/api.md). Every write goes
through the same store path as the WebSocket's frames, with the same checks
in the same order: the request's shape (its schema here, then the domain's
rules in rooms/validators.py), the room, then the store path's own."""

from typing import Annotated

from django.conf import settings
from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field, StrictBool, StrictInt, StrictStr

from .. import protocol, selectors, services
from ..access import RoomAccess, room_access_or_404
from ..errors import RoomsError
from ..models import Message
from ..validators import MAX_CLIENT_ID, MAX_EMOJI, MAX_INT
from .entries import Changed, Page, Published
from .http import answers, dumps, json_response, stated, url_integer

Kind = Message.Kind
router = Router(tags=["messages"])

SeqParam = url_integer()
LimitParam = url_integer(minimum=1, maximum=settings.ROOMS_HISTORY_LIMIT)
Body = Annotated[
    StrictStr,
    Field(
        description="1 to ROOMS_MAX_BODY (default 4000) characters, not only whitespace.",
        **stated(minLength=1, maxLength=settings.ROOMS_MAX_BODY, pattern=r"\S"),
    ),
]
ClientId = Annotated[
    StrictStr,
    Field(
        description="Makes the request idempotent: a repeat stores nothing (200, duplicate).",
        **stated(minLength=1, maxLength=MAX_CLIENT_ID),
    ),
]


class Publish(Schema):
    body: StrictStr | None = Field(
        None,
        description=(
            "1 to ROOMS_MAX_BODY (default 4000) characters, not only whitespace; "
            "with `attachments` it may be empty or left out."
        ),
        **stated(maxLength=settings.ROOMS_MAX_BODY),
    )
    attachments: list[StrictStr] | None = Field(
        None,
        description=(
            "Ids of files the caller uploaded to this room (POST …/attachments) and has "
            "not sent yet, at most 10."
        ),
        **stated(maxItems=10, uniqueItems=True),
    )
    client_id: ClientId | None = None
    reply_to: Annotated[StrictInt, Field(**stated(minimum=0, maximum=MAX_INT))] | None = Field(
        None, description="The seq of a message of the room that this one answers."
    )


class EditBody(Schema):
    body: Body
    client_id: ClientId | None = None


class DeleteBody(Schema):
    client_id: ClientId | None = None


class React(Schema):
    emoji: Annotated[
        StrictStr, Field(**stated(minLength=1, maxLength=MAX_EMOJI, pattern=r"^\S+$"))
    ] = Field(description="1 to 16 characters without whitespace.")
    on: StrictBool = Field(True, description="false takes the caller's reaction back.")
    client_id: ClientId | None = None


@router.get(
    "/rooms/{slug}/messages",
    response=answers({200: Page}, 400, 404),
    summary="Read a page of the room's log",
)
def room_messages(
    request,
    slug: str,
    after: SeqParam | None = Query(None, description="The log upwards from this seq."),
    before: SeqParam | None = Query(None, description="Messages only, downwards from this seq."),
    limit: LimitParam | None = Query(None, description=f"Default {protocol.DEFAULT_PAGE}."),
):
    """A keyset page, ascending either way: `after=N` reads the log upwards
    from N (messages in their current state, and change entries);
    `before=N` (or neither: the newest) reads messages only, downwards, like
    the WebSocket's `history`."""
    limit = limit or protocol.DEFAULT_PAGE
    if after is not None and before is not None:
        raise RoomsError("invalid", "Give `after` or `before`, not both.", field="before")
    room = room_access_or_404(user=request.auth, slug=slug)
    if after is not None:
        rows = selectors.entries_after(
            room_id=room.id, slug=room.slug, after=after, limit=limit + 1
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
    else:
        upper = before if before is not None else room.head + 1
        rows, has_more = selectors.messages_before(
            room_id=room.id, slug=room.slug, before=upper, limit=limit
        )
    # The selectors return each entry already serialized: splice, don't re-encode.
    body = (
        f'{{"room":{dumps(room.slug)},"head":{room.head},'
        f'"messages":[{",".join(text for _, text in rows)}],'
        f'"has_more":{"true" if has_more else "false"}}}'
    )
    return json_response(body)


STORED = {201: Published, 200: Published}


@router.post(
    "/rooms/{slug}/messages",
    response=answers(STORED, 400, 403, 404, 409, 413, 429),
    summary="Publish a message",
)
def room_publish(request, slug: str, payload: Publish):
    """Store a message like a WebSocket `send` (same checks, same order of
    errors, G4 idempotency), with its `attachments` (uploads' ids, the body
    then optional); 201 when stored, 200 for a duplicate."""
    attachments = protocol.check_attachment_ids(payload.attachments)
    body = protocol.check_body(
        payload.body, max_body=settings.ROOMS_MAX_BODY, may_be_empty=bool(attachments)
    )
    client_id = protocol.check_client_id(payload.client_id)
    if payload.reply_to is not None:
        protocol.check_seq(payload.reply_to, name="reply_to")
    room = room_access_or_404(user=request.auth, slug=slug)
    # The service checks the role and the archive in the send's own transaction.
    result = services.message_post(
        room=room,
        author=request.auth,
        body=body,
        client_id=client_id,
        reply_to=payload.reply_to,
        attachments=attachments,
    )
    return _stored("message", room, result)


CHANGED = {201: Changed, 200: Changed}
CHANGE_ERRORS = (400, 403, 404, 409, 413, 429)


@router.patch(
    "/rooms/{slug}/messages/{seq}",
    response=answers(CHANGED, *CHANGE_ERRORS),
    summary="Edit a message",
)
def message_edit(request, slug: str, seq: SeqParam, payload: EditBody):
    """Edit one of the caller's messages: an `edit` entry of the log."""
    change = {
        "kind": Kind.EDIT,
        "body": protocol.check_body(payload.body, max_body=settings.ROOMS_MAX_BODY),
        "client_id": protocol.check_client_id(payload.client_id),
    }
    return _change(request.auth, slug, seq, change)


@router.delete(
    "/rooms/{slug}/messages/{seq}",
    response=answers(CHANGED, *CHANGE_ERRORS),
    summary="Delete a message",
)
def message_delete(
    request,
    slug: str,
    seq: SeqParam,
    client_id: ClientId | None = Query(None, description="Or in the body; not two different ones."),
    payload: DeleteBody | None = None,
):
    """Delete a message (its author, a moderator of the room, or staff): a
    `delete` entry of the log. `client_id` in the query or a JSON body, not
    two different ones."""
    in_body = protocol.check_client_id(payload.client_id if payload else None)
    in_query = protocol.check_client_id(client_id)
    if in_body is not None and in_query is not None and in_body != in_query:
        raise RoomsError("invalid", "Two different `client_id`s: give it once.", field="client_id")
    change = {"kind": Kind.DELETE, "client_id": in_body if in_body is not None else in_query}
    return _change(request.auth, slug, seq, change)


@router.post(
    "/rooms/{slug}/messages/{seq}/reactions",
    response=answers(CHANGED, *CHANGE_ERRORS),
    summary="React to a message",
)
def message_react(request, slug: str, seq: SeqParam, payload: React):
    """Add (`on`: true, the default) or take back a reaction on one message."""
    change = {
        "kind": Kind.REACTION,
        "emoji": protocol.check_emoji(payload.emoji),
        "on": payload.on,
        "client_id": protocol.check_client_id(payload.client_id),
    }
    return _change(request.auth, slug, seq, change)


def _change(user, slug: str, target: int, change: dict) -> HttpResponse:
    """Store an edit, delete or reaction through the one store path, which
    checks the target, the author's rights, the archive and the rate limit
    in the protocol's order; 201 when stored, 200 for a duplicate."""
    room = room_access_or_404(user=user, slug=slug)
    return _stored(
        "entry", room, services.entry_post(room=room, author=user, target=target, **change)
    )


def _stored(key: str, room: RoomAccess, result: services.EntryResult) -> HttpResponse:
    """`{key: <the entry>, "duplicate": …}`: the entry just stored (201), or
    for a repeated client_id the original one read back (200, G4)."""
    text = result.entry
    if result.duplicate:
        stored = selectors.entries_after(
            room_id=room.id, slug=room.slug, after=result.seq - 1, up_to=result.seq, limit=1
        )
        # Pruned since the duplicate check found it: nothing left to show.
        text = stored[0][1] if stored else "null"
    body = f'{{"{key}":{text},"duplicate":{"true" if result.duplicate else "false"}}}'
    return json_response(body, 200 if result.duplicate else 201)
