"""The JSON API for integrations (docs/api.md): list rooms, page through a
room's log by seq, publish a message, edit, delete or react to one, and a
user's notification setting of a room.

A thin adapter like the WebSocket consumer: it authenticates, parses, calls
rooms/selectors.py or rooms/services.py, and renders. Errors are the
protocol's codes (RoomsError) with an HTTP status:
`{"error": {"code", "message", "field"?, "retry_after"?}}`.

Authentication: an API token (`Authorization: Bearer <token>`), or the
browser's session. A token cannot be sent by another site, so token requests
skip the CSRF check; session requests that change something must pass it.
"""

import dataclasses
import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from . import protocol, selectors, services
from .access import RoomAccess, room_access_or_404, room_manager_access
from .errors import RoomsError
from .models import Membership, Message, Room
from .search import MAX_PAGE as SEARCH_MAX_PAGE
from .search import parse_date
from .tokens import bearer_token

Kind = Message.Kind

STATUS = {
    "bad_frame": 400,
    "invalid": 400,
    "auth_required": 401,
    "forbidden": 403,
    "not_found": 404,
    "read_only": 409,
    "too_large": 413,
    "rate_limited": 429,
}


def _json(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_response(error: RoomsError) -> HttpResponse:
    detail = {"code": error.code, "message": error.message}
    if error.field is not None:
        detail["field"] = error.field
    if error.retry_after is not None:
        detail["retry_after"] = error.retry_after
    response = _json(_dumps({"error": detail}), STATUS.get(error.code, 500))
    if error.code == "rate_limited":
        # The header takes whole seconds; round up so a retry then succeeds.
        response["Retry-After"] = str(max(1, math.ceil(error.retry_after or 1)))
    elif error.code == "auth_required":
        response["WWW-Authenticate"] = 'Bearer realm="rooms"'
    return response


def _authenticate(request):
    """The caller, from the bearer token or else the session."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        user = services.api_token_authenticate(token=token)
        if user is None:
            raise RoomsError("auth_required", "The API token is missing, unknown or revoked.")
        return user
    if not request.user.is_authenticated:
        raise RoomsError("auth_required", "Send `Authorization: Bearer <token>`, or log in.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # What CsrfViewMiddleware would have done, had the view not been exempt.
        middleware = CsrfViewMiddleware(lambda _: None)
        middleware.process_request(request)
        if middleware.process_view(request, None, (), {}) is not None:
            raise RoomsError(
                "forbidden", "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken."
            )
    return request.user


def endpoint(*methods: str):
    """An API view: JSON errors, auth, and only the given methods."""

    def wrap(view):
        @csrf_exempt  # _authenticate applies the check to session requests
        def api_view(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    detail = {"code": "invalid", "message": f"Use {' or '.join(methods)}."}
                    response = _json(_dumps({"error": detail}), 405)
                    response["Allow"] = ", ".join(methods)
                    return response
                user = _authenticate(request)
                return view(request, user, *args, **kwargs)
            except RoomsError as error:
                return error_response(error)

        return api_view

    return wrap


def _integer(raw: str, name: str, *, minimum: int = 0, maximum: int = protocol.MAX_INT) -> int:
    """A decimal integer from a URL, in minimum..maximum. The length is
    checked before int(): a 5,000-digit number is a client's mistake (400),
    not a ValueError from Python's int-size guard (500)."""
    if (
        len(raw) > len(str(maximum))
        or not raw.isascii()
        or not raw.isdigit()
        or not minimum <= int(raw) <= maximum
    ):
        raise RoomsError(
            "invalid", f"`{name}` must be an integer from {minimum} to {maximum}.", field=name
        )
    return int(raw)


def _int_param(request, name: str, *, minimum: int = 0, maximum: int = protocol.MAX_INT):
    raw = request.GET.get(name)
    return None if raw is None else _integer(raw, name, minimum=minimum, maximum=maximum)


def _read_json(request, *, optional: bool = False) -> dict:
    """The request's JSON object, within the WebSocket frame limit; with
    `optional`, an empty body is an empty object (DELETE)."""
    limit = settings.ROOMS_MAX_FRAME_BYTES
    too_large = RoomsError("too_large", f"A request body may hold at most {limit} bytes.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(raw) > limit:
        raise too_large
    if optional and not raw.strip():
        return {}
    try:
        return protocol.load_object(raw)
    except ValueError:
        raise RoomsError("invalid", "The request body must be a JSON object.") from None


@endpoint("GET", "POST")
def room_list(request, user):
    """GET the rooms `user` may see; POST {"slug", "title", "private"}
    creates one (ROOMS_ROOM_CREATION), with `user` as its moderator: 201."""
    if request.method == "POST":
        payload = _read_json(request)
        room = services.room_create_by(
            by=user,
            slug=_string(payload, "slug", required=True),
            title=_string(payload, "title") or "",
            is_private=bool(_boolean(payload, "private")),
        )
        return _json(_dumps({"room": selectors.room_detail(room=room, user=user)}), 201)
    return _json(_dumps({"rooms": selectors.rooms_for_user(user=user)}))


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
    after = _int_param(request, "after")
    before = _int_param(request, "before")
    limit = _int_param(request, "limit", minimum=1, maximum=settings.ROOMS_HISTORY_LIMIT)
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
        f'{{"room":{_dumps(room.slug)},"head":{room.head},'
        f'"messages":[{",".join(text for _, text in rows)}],'
        f'"has_more":{"true" if has_more else "false"}}}'
    )
    return _json(body)


def _publish(request, user, slug: str) -> HttpResponse:
    """Store a message like a WebSocket `send` (same checks, same order of
    errors, G4 idempotency); 201 when stored, 200 for a duplicate."""
    payload = _read_json(request)
    body = protocol.check_body(payload.get("body"), max_body=settings.ROOMS_MAX_BODY)
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
            room=room, author=user, body=body, client_id=client_id, reply_to=reply_to
        ),
    )


@endpoint("PATCH", "DELETE")
def room_message(request, user, slug, seq):
    """Edit (PATCH) or delete (DELETE) one message: a change entry of the log."""
    target = _integer(seq, "seq")
    if request.method == "PATCH":
        payload = _read_json(request)
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
    in_body = protocol.check_client_id(_read_json(request, optional=True).get("client_id"))
    in_query = protocol.check_client_id(request.GET.get("client_id"))
    if in_body is not None and in_query is not None and in_body != in_query:
        raise RoomsError("invalid", "Two different `client_id`s: give it once.", field="client_id")
    return in_body if in_body is not None else in_query


@endpoint("POST")
def message_reactions(request, user, slug, seq):
    """Add (`on`: true, the default) or take back a reaction on one message."""
    target = _integer(seq, "seq")
    payload = _read_json(request)
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
    return _json(body, 200 if result.duplicate else 201)


@endpoint("GET", "PUT")
def room_notifications(request, user, slug):
    """The user's notification setting for one room: `all`, `mentions` (the
    default; `all` in a direct conversation) or `none`. PUT `{"level": …}`
    changes it (session: CSRF too)."""
    room = room_access_or_404(user=user, slug=slug)
    if request.method == "PUT":
        level = services.notification_level_set(
            user=user, room=room, level=_read_json(request).get("level")
        )
    else:
        level = selectors.notification_level(user=user, room_id=room.id)
    return _json(_dumps({"room": room.slug, "level": level}))


# --- Search (docs/search.md) -------------------------------------------------


@endpoint("GET")
def search(request, user):
    """GET /api/search?q=…&room=&from=&after=&before=&page=: the messages
    `user` may see that match, best first, one page at a time."""
    dates = {}
    for name in ("after", "before"):
        raw = request.GET.get(name) or None
        dates[name] = None if raw is None else parse_date(raw, field_name=name, label=name)
    results = selectors.search_messages(
        user=user,
        query=request.GET.get("q", ""),
        room=request.GET.get("room") or None,
        author=request.GET.get("from") or None,
        page=_int_param(request, "page", minimum=1, maximum=SEARCH_MAX_PAGE) or 1,
        **dates,
    )
    hits = [
        {**dataclasses.asdict(hit), "snippet": [list(part) for part in hit.snippet], "url": hit.url}
        for hit in results.hits
    ]
    return _json(
        _dumps(
            {
                "query": results.query,
                "page": results.page,
                "has_more": results.has_more,
                "results": hits,
            }
        )
    )


# --- Direct conversations (docs/direct-messages.md) ---------------------------


@endpoint("POST")
def direct(request, user):
    """POST /api/direct {"users": [...]}: open the conversation of `user`
    with those people, creating it once: 201 when created, 200 when it
    existed, `{"room": slug, "people": [everyone's usernames, sorted]}`."""
    names = _read_json(request).get("users")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(name, str) and name for name in names)
    ):
        raise RoomsError("invalid", "`users` must be a list of usernames.", field="users")
    people = selectors.users_named(usernames=names)
    room, created = services.direct_open(user=user, others=people)
    everyone = sorted({user.get_username(), *(person.get_username() for person in people)})
    return _json(_dumps({"room": room.slug, "people": everyone}), 201 if created else 200)


@endpoint("GET")
def users(request, user):
    """GET /api/users?q=prefix: active usernames starting with the prefix
    (any case), sorted, at most 20: the user picker's suggestions."""
    prefix = request.GET.get("q", "")[:150]
    return _json(_dumps({"users": selectors.usernames_starting(prefix=prefix)}))


# --- Room management (docs/room-management.md) --------------------------------


@endpoint("GET", "PATCH")
def room_detail(request, user, slug):
    """GET one room (anyone who can see it); PATCH {"title", "archived",
    "private"} changes it (its moderators and staff: 403 for anyone else)."""
    if request.method == "PATCH":
        room = room_manager_access(user=user, slug=slug)
        payload = _read_json(request)
        services.room_edit(
            room=room,
            by=user,
            title=_string(payload, "title"),
            is_archived=_boolean(payload, "archived"),
            is_private=_boolean(payload, "private"),
        )
    else:
        access = room_access_or_404(user=user, slug=slug)
        room = Room.objects.get(pk=access.id)
    return _json(_dumps({"room": selectors.room_detail(room=room, user=user)}))


@endpoint("GET", "POST")
def room_members(request, user, slug):
    """GET the members and their roles; POST {"user", "role"} invites (201).
    Moderators and staff only: 403 for anyone else."""
    room = room_manager_access(user=user, slug=slug)
    if request.method == "POST":
        payload = _read_json(request)
        membership = services.membership_invite(
            room=room,
            by=user,
            username=_string(payload, "user", required=True),
            role=_string(payload, "role") or Membership.Role.MEMBER,
        )
        return _json(_dumps({"member": _member(room, membership.user.get_username())}), 201)
    return _json(_dumps({"room": room.slug, "members": selectors.room_members(room=room)}))


@endpoint("PATCH", "DELETE")
def room_member(request, user, slug, username):
    """PATCH {"role"} changes a member's role; DELETE removes them (204).
    Moderators and staff only; never the room's last moderator."""
    room = room_manager_access(user=user, slug=slug)
    if request.method == "DELETE":
        services.membership_revoke(room=room, by=user, username=username)
        return HttpResponse(status=204)
    role = _string(_read_json(request), "role", required=True)
    services.membership_change_role(room=room, by=user, username=username, role=role)
    return _json(_dumps({"member": _member(room, username)}))


def _member(room, username: str) -> dict | None:
    return next((m for m in selectors.room_members(room=room) if m["user"] == username), None)


def _string(payload: dict, name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise RoomsError("invalid", f"`{name}` is required: a string.", field=name)
    return value


def _boolean(payload: dict, name: str) -> bool | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise RoomsError("invalid", f"`{name}` must be true or false.", field=name)
    return value


@csrf_exempt
def not_found(request, rest=""):
    return error_response(RoomsError("not_found", "No such API endpoint. See docs/api.md."))


api_urlpatterns = [
    re_path(r"^rooms/?$", room_list, name="api-rooms"),
    re_path(r"^rooms/(?P<slug>[^/]+)/messages/?$", room_messages, name="api-room-messages"),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/messages/(?P<seq>[^/]+)/?$", room_message, name="api-room-message"
    ),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/messages/(?P<seq>[^/]+)/reactions/?$",
        message_reactions,
        name="api-message-reactions",
    ),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/notifications/?$",
        room_notifications,
        name="api-room-notifications",
    ),
    re_path(r"^rooms/(?P<slug>[^/]+)/?$", room_detail, name="api-room"),
    re_path(r"^rooms/(?P<slug>[^/]+)/members/?$", room_members, name="api-room-members"),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/members/(?P<username>[^/]+)/?$",
        room_member,
        name="api-room-member",
    ),
    re_path(r"^search/?$", search, name="api-search"),
    re_path(r"^direct/?$", direct, name="api-direct"),
    re_path(r"^users/?$", users, name="api-users"),
    re_path(r"^(?P<rest>.*)$", not_found),
]
