"""Direct conversations: `POST /direct/` opens (or creates once) the
conversation of the signed-in user with the people named, and redirects to
it (docs/direct-messages.md); a refusal is shown on the room list's picker
(429 with Retry-After past ROOMS_CREATE_RATE). A thin adapter over
services.direct_open."""

import re

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from .. import access, selectors, services
from ..errors import RoomsError
from .errors import answer_refusal, refusal_text
from .forms import RoomCreateForm
from .room_list import room_list_context

# Usernames hold no commas or spaces (Django's rule: letters, digits, @.+-_).
NAME_SEPARATORS = re.compile(r"[\s,]+")
MAX_INPUT = 2000  # characters of the `users` field read at most


def usernames_in(values: list[str]) -> list[str]:
    """The usernames of one or more `users` fields ("bob", "bob, carol",
    "@bob carol"), in order, without repeats."""
    names = []
    for value in values:
        for name in NAME_SEPARATORS.split(value[:MAX_INPUT]):
            name = name.removeprefix("@")
            if name and name not in names:
                names.append(name)
    return names


def open_for(user, names: list[str]):
    """(room, created) of `user`'s conversation with the users `names`; `invalid` else."""
    if not names:
        raise RoomsError("invalid", gettext("Name at least one person."), field="users")
    return services.direct_open(user=user, others=selectors.users_named(usernames=names))


@login_required
@require_POST
def direct_open(request):
    typed = request.POST.getlist("users")
    try:
        room, _ = open_for(request.user, usernames_in(typed))
    except RoomsError as error:
        # The room list again, with the error on its "New message" picker.
        form = RoomCreateForm() if access.may_create_rooms(request.user) else None
        context = room_list_context(request, form=form)
        context["direct_error"] = refusal_text(error)
        context["direct_value"] = " ".join(typed)[:MAX_INPUT]
        response = render(request, "rooms/room_list.html", context, status=error.status)
        return answer_refusal(response, error)
    return redirect("room", slug=room.slug)
