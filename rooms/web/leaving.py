"""Going from a room's page: `POST /rooms/<slug>/leave/` leaves a room or a
group conversation (services.membership_leave), `POST /rooms/<slug>/hide/`
hides a conversation of two from the user's lists until its next message
(services.direct_hide) (docs/room-management.md, Leaving;
docs/direct-messages.md). Done, back to the room list with a message;
refused (the last moderator, a conversation of two), the room page again
with the reason by its control."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import access, selectors, services
from ..errors import RoomsError
from .errors import raise_as_page
from .rooms import render_room_page


@login_required
@require_POST
def room_leave(request, slug):
    room = _room(request, slug)
    name = _name(request, room)
    try:
        services.membership_leave(room=room, user=request.user)
    except RoomsError as error:
        return _refused(request, room, error)
    messages.success(request, _("You left %(name)s.") % {"name": name})
    return redirect("room-list")


@login_required
@require_POST
def room_hide(request, slug):
    room = _room(request, slug)
    name = _name(request, room)
    try:
        services.direct_hide(room=room, user=request.user)
    except RoomsError as error:
        return _refused(request, room, error)
    messages.success(
        request, capfirst(_("%(name)s is hidden until its next message.") % {"name": name})
    )
    return redirect("room-list")


def _room(request, slug: str) -> access.RoomAccess:
    room = access.room_access(user=request.user, slug=slug)
    if room is None:
        raise Http404("No such room.")
    return room


def _name(request, room: access.RoomAccess) -> str:
    """The room as the message names it: a conversation after its other people."""
    if not room.is_direct:
        return room.title
    people = selectors.direct_people(user=request.user, room_id=room.id)
    if not people:
        return room.title
    return _("the conversation with %(people)s") % {"people": ", ".join(people)}


def _refused(request, room: access.RoomAccess, error: RoomsError):
    # A room gone or taken meanwhile is the site's 404 (or 403); anything
    # else is said by the control on the room's page.
    if error.field is None:
        raise_as_page(error)
    return render_room_page(request, room, refused=error.message, status=error.status)
