"""Managing a room from its page: `/rooms/<slug>/manage/` (rename, archive,
private or public, invite, remove, roles) for the room's moderators and staff
(docs/room-management.md). A thin adapter over rooms.services: plain forms
that work without JavaScript; each POST names its `action`, and a refused one
comes back as a form error with status 400 (429 with Retry-After for an
invitation past ROOMS_CREATE_RATE)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, selectors, services
from ..errors import RoomsError
from .errors import answer_refusal, raise_as_page, refusal_text
from .forms import InviteForm, MemberRemoveForm, MemberRoleForm, RoomSettingsForm

ACTIONS = {
    # action: (form, what the service does with it, what to say when done)
    "settings": (
        RoomSettingsForm,
        lambda room, by, data: services.room_edit(
            room=room,
            by=by,
            title=data["title"],
            is_private=data["is_private"],
            is_archived=data["is_archived"],
        ),
        gettext_lazy("Room settings saved."),
    ),
    "invite": (
        InviteForm,
        lambda room, by, data: services.membership_invite(
            room=room, by=by, username=data["user"], role=data["role"]
        ),
        gettext_lazy("%(user)s is now a member."),
    ),
    "role": (
        MemberRoleForm,
        lambda room, by, data: services.membership_change_role(
            room=room, by=by, username=data["user"], role=data["role"]
        ),
        gettext_lazy("%(user)s's role saved."),
    ),
    "remove": (
        MemberRemoveForm,
        lambda room, by, data: services.membership_revoke(room=room, by=by, username=data["user"]),
        gettext_lazy("%(user)s was removed."),
    ),
}


@login_required
def room_manage(request, slug):
    try:
        room = access.room_manager_access(user=request.user, slug=slug)
    except RoomsError as error:
        # 404 when the user cannot see the room, 403 when they may not
        # manage it; a direct conversation is shown why.
        raise_as_page(error)
        return render(
            request, "rooms/room_manage.html", {"refused": error.message}, status=error.status
        )
    bound = None  # (action, the submitted form, the member it concerns)
    refusal = None  # the services' refusal, shown on its form
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ACTIONS:
            return render(
                request,
                "rooms/room_manage.html",
                _context(room, refused=_("Unknown action.")),
                status=400,
            )
        form_class, perform, done = ACTIONS[action]
        form = form_class(request.POST)
        if form.is_valid():
            try:
                perform(room, request.user, form.cleaned_data)
            except RoomsError as error:
                # Refused as a whole (no longer theirs to manage): the 403 page.
                if error.status in (403, 404) and error.field is None:
                    raise PermissionDenied(error.message) from None
                refusal = error
                field = error.field if error.field in form.fields else None
                form.add_error(field, refusal_text(error))
            else:
                messages.success(request, str(done) % form.cleaned_data)
                return _after(request, room)
        bound = (action, form, form.data.get("user"))
    context = _context(room, bound=bound)
    response = render(
        request, "rooms/room_manage.html", context, status=400 if bound is not None else 200
    )
    return answer_refusal(response, refusal)


def _after(request, room):
    """Back to the manage page, or, when the user just removed or demoted
    themselves, to the room (or the room list when it is private)."""
    try:
        access.room_manager_access(user=request.user, slug=room.slug)
    except RoomsError:
        if access.room_access(user=request.user, slug=room.slug) is None:
            return redirect("room-list")
        return redirect("room", slug=room.slug)
    return redirect("room-manage", slug=room.slug)


def _context(room, *, bound=None, refused: str | None = None) -> dict:
    action, form, member = bound or (None, None, None)
    settings_form = (
        form
        if action == "settings"
        else RoomSettingsForm(
            initial={
                "title": room.title,
                "is_private": room.is_private,
                "is_archived": room.is_archived,
            }
        )
    )
    members = selectors.room_members(room=room)
    member_errors = []  # a refused change of someone not (or no longer) listed
    if action in ("role", "remove") and member not in {row["user"] for row in members}:
        member_errors = [*form.errors.get("user", []), *form.non_field_errors()]
    for row in members:
        # The row's own forms; a refused one keeps its errors on its row.
        row["role_form"] = MemberRoleForm(initial={"user": row["user"], "role": row["role"]})
        row["errors"] = []
        if action in ("role", "remove") and member == row["user"]:
            row["errors"] = form.errors.get("user", []) + form.errors.get("role", [])
            row["errors"] += form.non_field_errors()
    return {
        "room": room,
        "settings_form": settings_form,
        "invite_form": form if action == "invite" else InviteForm(),
        "members": members,
        "member_errors": member_errors,
        "roles": MemberRoleForm.base_fields["role"].choices,
        "refused": refused,
    }
