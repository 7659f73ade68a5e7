"""`/api/rooms/<slug>/messages…`: a room's log by seq, publishing a message,
editing, deleting and reacting to one (docs/api.md). Every write goes
through the same store path as the WebSocket's frames, with the same checks
in the same order."""

from django.conf import settings
from django.http import HttpResponse

from .. import protocol, selectors, services
from ..access import RoomAccess, room_access_or_404
from ..errors import RoomsError
from ..models import Message
from .http import dumps, endpoint, int_param, integer, json_response, read_json

Kind = Message.Kind


@endpoint("GET", "POST")
def room_messages(request, user, slug):
    if request.method == "POST":
        return _publish(request, user, slug)
    return _page(request, user, slug)


def _page(request, user, slug: str) -> HttpResponse:
    """A keyset page, ascending either way: `after=N` reads the log upwards
    from N (messages in their current state, and change entries);
    `before=N` (or neither: the newest) reads messages only, downwards, like
    the WebSocket's `history`."""
    after = int_param(request, "after")
    before = int_param(request, "before")
    limit = int_param(request, "limit", minimum=1, maximum=settings.ROOMS_HISTORY_LIMIT)
    limit = limit or protocol.DEFAULT_PAGE
    if after is not None and before is not None:
        raise RoomsError("invalid", "Give `after` or `before`, not both.", field="before")
    room = room_access_or_404(user=user, slug=slug)
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
    # The selectors return each message already serialized: splice, don't re-encode.
    body = (
        f'{{"room":{dumps(room.slug)},"head":{room.head},'
        f'"messages":[{",".join(text for _, text in rows)}],'
        f'"has_more":{"true" if has_more else "false"}}}'
    )
    return json_response(body)


def _publish(request, user, slug: str) -> HttpResponse:
    """Store a message like a WebSocket `send` (same checks, same order of
    errors, G4 idempotency), with its `attachments` (uploads' ids, the body
    then optional); 201 when stored, 200 for a duplicate."""
    payload = read_json(request)
    attachments = protocol.check_attachment_ids(payload.get("attachments"))
    body = protocol.check_body(
        payload.get("body"), max_body=settings.ROOMS_MAX_BODY, may_be_empty=bool(attachments)
    )
    client_id = protocol.check_client_id(payload.get("client_id"))
    reply_to = payload.get("reply_to")
    if reply_to is not None:
        protocol.check_seq(reply_to, name="reply_to")
    room = room_access_or_404(user=user, slug=slug)
    # The service checks the role and the archive in the send's own transaction.
    return _stored(
        "message",
        room,
        services.message_post(
            room=room,
            author=user,
            body=body,
            client_id=client_id,
            reply_to=reply_to,
            attachments=attachments,
        ),
    )


@endpoint("PATCH", "DELETE")
def room_message(request, user, slug, seq):
    """Edit (PATCH) or delete (DELETE) one message: a change entry of the log."""
    target = integer(seq, "seq")
    if request.method == "PATCH":
        payload = read_json(request)
        change = {
            "kind": Kind.EDIT,
            "body": protocol.check_body(payload.get("body"), max_body=settings.ROOMS_MAX_BODY),
            "client_id": protocol.check_client_id(payload.get("client_id")),
        }
    else:
        change = {"kind": Kind.DELETE, "client_id": _delete_client_id(request)}
    return _change(user, slug, target, change)


def _delete_client_id(request) -> str | None:
    """A DELETE's client_id: `?client_id=` or a JSON body's, not two different ones."""
    in_body = protocol.check_client_id(read_json(request, optional=True).get("client_id"))
    in_query = protocol.check_client_id(request.GET.get("client_id"))
    if in_body is not None and in_query is not None and in_body != in_query:
        raise RoomsError("invalid", "Two different `client_id`s: give it once.", field="client_id")
    return in_body if in_body is not None else in_query


@endpoint("POST")
def message_reactions(request, user, slug, seq):
    """Add (`on`: true, the default) or take back a reaction on one message."""
    target = integer(seq, "seq")
    payload = read_json(request)
    if payload.get("emoji") is None:
        raise RoomsError("invalid", "`emoji` is required.", field="emoji")
    emoji = protocol.check_emoji(payload.get("emoji"))
    on = payload.get("on", True)
    if not isinstance(on, bool):
        raise RoomsError("invalid", "`on` must be true or false.", field="on")
    client_id = protocol.check_client_id(payload.get("client_id"))
    change = {"kind": Kind.REACTION, "emoji": emoji, "on": on, "client_id": client_id}
    return _change(user, slug, target, change)


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
