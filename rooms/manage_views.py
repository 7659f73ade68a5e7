"""Managing a room from its page: `/rooms/<slug>/manage/` (rename, archive,
invite, remove, roles) for the room's moderators and staff
(docs/room-management.md). A thin adapter over rooms/services.py."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def room_manage(request, slug):
    return HttpResponse("manage: not built yet", status=501)  # filled in by the management work
