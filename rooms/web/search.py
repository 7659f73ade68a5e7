"""The search page: `/search/?q=…` (docs/search.md). A thin adapter over
selectors.search_messages: the form parses the GET parameters, the selector
searches, the template renders each hit's snippet as text with its matches
in <mark> (never as markup of its own)."""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors
from .errors import RoomsError

FILTERS = ("room", "author", "after", "before")


class SearchForm(forms.Form):
    """The query and the filters that narrow it (all of them must hold)."""

    q = forms.CharField(required=False, strip=False, label="Search messages")
    room = forms.ChoiceField(required=False, label="Room")
    author = forms.CharField(
        required=False, label="From", widget=forms.TextInput(attrs={"placeholder": "username"})
    )
    after = forms.DateField(
        required=False, label="On or after", widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.DateField(
        required=False, label="Before", widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, rooms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", "All rooms")] + [
            (room["slug"], room["title"]) for room in rooms
        ]

    def asked(self) -> bool:
        """Whether there is anything to search for (a blank form shows help)."""
        data = self.cleaned_data
        return bool(data["q"].strip()) or any(data[name] for name in FILTERS)


@login_required
def search_page(request):
    form = SearchForm(request.GET, rooms=selectors.rooms_for_user(user=request.user))
    context = {"form": form, "results": None, "pages": {}}
    status = 200
    if not form.is_valid():
        status = 400
    elif form.asked():
        data = form.cleaned_data
        try:
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
            status = 400 if error.code == "invalid" else 503
        else:
            context["results"] = results
            context["hits"] = [_shown(hit) for hit in results.hits]
            context["pages"] = _page_links(request, results)
    return render(request, "rooms/search.html", context, status=status)


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
