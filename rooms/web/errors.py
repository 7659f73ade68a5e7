"""How a page answers a RoomsError: one that is not a form's mistake with
the status the error knows, as Django's own 404 and 403 pages; a refusal
the page shows itself (on a form) in words, and, past a rate limit, with
429 and Retry-After as the API answers it."""

import math

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import ngettext

from ..errors import RoomsError


def raise_as_page(error: RoomsError) -> None:
    """Raise Http404 or PermissionDenied for an error of status 404 or 403;
    return for any other, which the page shows itself."""
    if error.status == 404:
        raise Http404(error.message) from None
    if error.status == 403:
        raise PermissionDenied(error.message) from None


def refusal_text(error: RoomsError) -> str:
    """What the page says of a refusal: its message, and, past a rate
    limit, when to try again."""
    if error.code != "rate_limited" or not error.retry_after:
        return error.message
    seconds = int(error.retry_after_header)
    if seconds < 90:
        wait = ngettext(
            "Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds
        ) % {"count": seconds}
    else:
        minutes = math.ceil(seconds / 60)
        wait = ngettext(
            "Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes
        ) % {"count": minutes}
    return f"{error.message} {wait}"


def answer_refusal(response: HttpResponse, error: RoomsError | None) -> HttpResponse:
    """`response`, a page showing `error` on its form: a `rate_limited` one
    answers 429 with Retry-After; any other keeps the page's own status
    (400 for a form's mistake)."""
    if error is not None and error.code == "rate_limited":
        response.status_code = error.status
        response["Retry-After"] = error.retry_after_header or "1"
    return response
