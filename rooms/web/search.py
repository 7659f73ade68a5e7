"""The search page: `/search/?q=…` (docs/search.md). A thin adapter over
selectors.search_messages: the form parses the GET parameters, the selector
searches, the template renders each hit's snippet as text with its matches
in <mark> (never as markup of its own). A search run spends from the
user's read budget (rooms/budgets.py), shared with the API's."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import budgets, selectors
from ..errors import RoomsError
from .forms import SearchForm


@login_required
def search_page(request):
    form = SearchForm(request.GET, rooms=selectors.rooms_for_user(user=request.user))
    context = {"form": form, "results": None, "pages": {}}
    status, retry_after = 200, None
    if not form.is_valid():
        status = 400
    elif form.asked():
        data = form.cleaned_data
        try:
            budgets.read_spend(user=request.user)
            results = selectors.search_messages(
                user=request.user,
                query=data["q"],
                room=data["room"] or None,
                author=data["author"].strip() or None,
                after=data["after"],
                before=data["before"],
                page=data["page"] or 1,
            )
        except RoomsError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            status, retry_after = error.status, error.retry_after_header
        else:
            context["results"] = results
            context["hits"] = [_shown(hit) for hit in results.hits]
            context["pages"] = _page_links(request, results)
    response = render(request, "rooms/search.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = retry_after
    return response


def _shown(hit) -> dict:
    """A hit as the template shows it: its time as a datetime for the
    `date` filter (the page's script shows it in the reader's time zone)."""
    return {"hit": hit, "when": datetime.datetime.fromisoformat(hit.created_at)}


def _page_links(request, results) -> dict:
    """The query strings of the previous and next pages of the same search."""
    links = {}
    for name, page in (("previous", results.page - 1), ("next", results.page + 1)):
        if (name == "previous" and page >= 1) or (name == "next" and results.has_more):
            params = request.GET.copy()
            params["page"] = str(page)
            links[name] = "?" + params.urlencode()
    return links
