"""HTML pages: the room list, the room page, login and sign-up. The chat
itself runs in the browser over the WebSocket (static/rooms/app.js); each page
hands the script its starting state as JSON (`json_script`)."""

import dataclasses
import logging

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from . import access, metrics, selectors, services
from .errors import RoomsError
from .models import Membership, Room
from .page_forms import RoomCreateForm, SignupForm

logger = logging.getLogger(__name__)


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
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect("room", slug=room.slug)
    status = 400 if form is not None and form.errors else 200
    return render(
        request, "rooms/room_list.html", room_list_context(request, form=form), status=status
    )


def room_list_context(request, *, form=None) -> dict:
    """What the room list shows: rooms, and apart from them the direct
    conversations (also rendered by direct_views with the picker's error)."""
    rooms = selectors.rooms_for_user(user=request.user)
    config = {
        "page": "room-list",
        "user": request.user.get_username(),
        "rooms": rooms,
        # Rooms whose notification level is not the page's default (mentions only).
        "notify": selectors.notification_levels(user=request.user),
    }
    return {
        "rooms": [room for room in rooms if room["kind"] != Room.Kind.DIRECT],
        "direct_rooms": [room for room in rooms if room["kind"] == Room.Kind.DIRECT],
        "direct_max": Room.DIRECT_MAX_PEOPLE,
        "form": form,
        "config": config,
    }


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
            "canModerate": room.role == Membership.Role.MODERATOR or request.user.is_staff,
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


class LoginView(auth_views.LoginView):
    """Django's login, telling the page whether to offer sign-up. Failed
    logins are throttled by django-axes (project/settings.py), which answers
    a refused one with `login_refused`."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signup_enabled"] = settings.ROOMS_SIGNUP
        return context


def login_refused(request, original_response=None, credentials=None):
    """The answer to a login the throttle refuses, whatever its password:
    the login page saying why, with HTTP 429, and a log line (the username
    and the address, never the password). django-axes calls it as
    AXES_LOCKOUT_CALLABLE, for the site's login and the admin's alike."""
    username = request.POST.get("username", "")
    address = request.META.get("REMOTE_ADDR")
    metrics.RATE_LIMITED.labels("login").inc()
    logger.warning("login refused (429): too many failures for %r from %s", username, address)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "refused": (
            "Too many failed logins for this username from your address. "
            f"Try again in {minutes} minutes."
        ),
        "next": request.POST.get("next", ""),
        "signup_enabled": settings.ROOMS_SIGNUP,
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def signup(request):
    if not settings.ROOMS_SIGNUP:
        raise Http404("Sign-up is switched off.")
    if request.user.is_authenticated:
        return redirect("room-list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("room-list")
    status = 400 if form.errors else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)
