"""The room list (with the form that creates a room: a name, and the address
made from it) and the room page (with the control that leaves the room, or
hides a conversation of two: leaving.py). The chat itself runs in the
browser over the WebSocket (static/rooms/app.js); each page hands the
script its starting state as JSON (`json_script`)."""

import dataclasses

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import access, selectors, services
from ..errors import RoomsError
from ..selectors import addresses
from ..selectors.direct import DIRECT_WATCH_LIMIT
from .errors import answer_refusal, refusal_text
from .forms import RoomCreateForm
from .room_list import room_list_context


@login_required
def room_list(request):
    allowed = access.may_create_rooms(request.user)
    form = RoomCreateForm(request.POST or None) if allowed else None
    refusal = None  # the services' refusal of the room, shown on the form
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied(_("You may not create rooms."))
        if form.is_valid():
            try:
                room = services.room_create_by(
                    by=request.user,
                    slug=form.cleaned_data["slug"],
                    title=form.cleaned_data["title"],
                    is_private=form.cleaned_data["is_private"],
                )
            except RoomsError as error:
                refusal = error
                _show_create_error(form, error)
            else:
                return redirect("room", slug=room.slug)
    status = 400 if form is not None and form.errors else 200
    response = render(
        request, "rooms/room_list.html", room_list_context(request, form=form), status=status
    )
    return answer_refusal(response, refusal)


def _show_create_error(form: RoomCreateForm, error: RoomsError) -> None:
    """A taken address offers a free one; any other error goes on its field."""
    address = form.cleaned_data["slug"]
    if error.field == "slug" and (free := addresses.address_free(address=address)) != address:
        form.offer_address(free)
    else:
        form.add_error(error.field if error.field in form.fields else None, refusal_text(error))


@login_required
def room_page(request, slug):
    room = access.room_access(user=request.user, slug=slug)
    if room is None:
        raise Http404("No such room.")
    return render_room_page(request, room)


def render_room_page(
    request, room: access.RoomAccess, *, refused: str | None = None, status: int = 200
):
    """The room page of `room`, as its user sees it; with `refused`, the
    reason a leave or a hide was refused, shown by its control."""
    config = {
        "page": "room",
        "user": request.user.get_username(),
        "maxBody": settings.ROOMS_MAX_BODY,
        # The composer refuses a larger file before uploading it (the API checks again).
        "maxUpload": settings.ROOMS_MAX_UPLOAD_BYTES,
        "room": {
            "slug": room.slug,
            "title": room.title,
            "head": room.head,
            "readOnly": room.read_only,
            "read": room.last_read_seq,
            # Whether the page offers to delete others' messages (the server
            # decides again on every delete).
            "canModerate": access.may_moderate(user=request.user, role=room.role),
        },
        # The composer's @ suggestions (with whoever is online), and which
        # messages of the room notify this user.
        "members": selectors.room_member_names(room_id=room.id),
        "notify": selectors.notification_level(user=request.user, room_id=room.id),
    }
    people = []
    if room.is_direct:
        # A direct conversation is named after the other people, for each of them.
        people = selectors.direct_people(user=request.user, room_id=room.id)
        room = dataclasses.replace(room, title=", ".join(people) or room.title)
        config["room"].update(kind=room.kind, people=people, title=room.title)
    # The user's other direct conversations: the page hears of their messages
    # too (a badge on the way back, a notification), wherever the user is;
    # the most recently active ones, so that one socket is not asked to hold
    # them all (the others are joined when a `rooms` frame asks: direct.js).
    config["direct"] = selectors.direct_conversations(
        user=request.user, limit=DIRECT_WATCH_LIMIT, excluding=room.id
    )
    config["directLimit"] = DIRECT_WATCH_LIMIT
    # The header's "Manage room" link, shown to those who may (the manage
    # page checks again), hidden for the others until a new role shows it.
    manageable = not room.is_direct
    context = {
        "room": room,
        "config": config,
        "manageable": manageable,
        "can_manage": access.may_manage(user=request.user, role=room.role, kind=room.kind),
        "leave": _leave_control(room, people),
        "refused": refused,
    }
    return render(request, "rooms/room.html", context, status=status)


def _leave_control(room: access.RoomAccess, people: list[str]) -> dict:
    """How the page offers to go: a conversation of two is hidden (it cannot
    be left), a group conversation or a room is left, with a question first
    (room-page.js). A room's control is there but hidden for someone who is
    not a member (nothing to leave), until a `rooms` frame says they are."""
    if room.is_direct and len(people) <= 1:
        return {"action": "hide", "label": _("Hide conversation"), "shown": True, "question": ""}
    if room.is_direct:
        question = _("Leave the conversation with %(people)s? You cannot open it again.") % {
            "people": room.title
        }
        return {
            "action": "leave",
            "label": _("Leave conversation"),
            "shown": True,
            "question": question,
        }
    question = _("Leave %(room)s?") % {"room": room.title}
    if room.is_private:
        question += " " + _("It is private: only an invitation brings you back.")
    return {
        "action": "leave",
        "label": _("Leave room"),
        "shown": room.role is not None,
        "question": question,
    }
