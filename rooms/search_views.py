"""The search page: `/search/?q=…` (docs/search.md). A thin adapter over
selectors.search_messages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def search_page(request):
    return HttpResponse("search: not built yet", status=501)  # filled in by the search UI work
