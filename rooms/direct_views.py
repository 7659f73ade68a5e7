"""Direct conversations: `POST /direct/` opens (or creates once) the
conversation of the signed-in user with the people named, and redirects to
it (docs/direct-messages.md). A thin adapter over services.direct_open."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_POST


@login_required
@require_POST
def direct_open(request):
    return HttpResponse("direct: not built yet", status=501)  # filled in by the direct-message work
