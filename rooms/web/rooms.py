"""The room list (with the form that creates a room: a name, and the address
made from it) and the room page. The chat itself runs in the browser over
the WebSocket (static/rooms/app.js); each page hands the script its starting
state as JSON (`json_script`)."""

import dataclasses

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from .. import access, selectors, services
from ..errors import RoomsError
from ..selectors import addresses
from .forms import RoomCreateForm
from .room_list import room_list_context


@login_required
def room_list(request):
    allowed = access.may_create_rooms(request.user)
    form = RoomCreateForm(request.POST or None) if allowed else None
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("You may not create rooms.")
        if form.is_valid():
            try:
                room = services.room_create_by(
                    by=request.user,
                    slug=form.cleaned_data["slug"],
                    title=form.cleaned_data["title"],
                    is_private=form.cleaned_data["is_private"],
                )
            except RoomsError as error:
                _show_create_error(form, error)
            else:
                return redirect("room", slug=room.slug)
    status = 400 if form is not None and form.errors else 200
    return render(
        request, "rooms/room_list.html", room_list_context(request, form=form), status=status
    )


def _show_create_error(form: RoomCreateForm, error: RoomsError) -> None:
    """A taken address offers a free one; any other error goes on its field."""
    address = form.cleaned_data["slug"]
    if error.field == "slug" and (free := addresses.address_free(address=address)) != address:
        form.offer_address(free)
    else:
        form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
def room_page(request, slug):
    room = access.room_access(user=request.user, slug=slug)
    if room is None:
        raise Http404("No such room.")
    config = {
        "page": "room",
        "user": request.user.get_username(),
        "maxBody": settings.ROOMS_MAX_BODY,
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
    if room.is_direct:
        # A direct conversation is named after the other people, for each of them.
        people = selectors.direct_people(user=request.user, room_id=room.id)
        room = dataclasses.replace(room, title=", ".join(people) or room.title)
        config["room"].update(kind=room.kind, people=people, title=room.title)
    # The user's other direct conversations: the page hears of their messages
    # too (a badge on the way back, a notification), wherever the user is.
    config["direct"] = [
        each
        for each in selectors.direct_conversations(user=request.user)
        if each["slug"] != room.slug
    ]
    # The header's "Manage room" link, shown to those who may (the manage
    # page checks again), hidden for the others until a new role shows it.
    manageable = not room.is_direct
    context = {
        "room": room,
        "config": config,
        "manageable": manageable,
        "can_manage": access.may_manage(user=request.user, role=room.role, kind=room.kind),
    }
    return render(request, "rooms/room.html", context)
