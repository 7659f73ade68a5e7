"""How a page answers a RoomsError that is not a form's mistake: with the
status the error knows, as Django's own 404 and 403 pages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ..errors import RoomsError


def raise_as_page(error: RoomsError) -> None:
    """Raise Http404 or PermissionDenied for an error of status 404 or 403;
    return for any other, which the page shows itself."""
    if error.status == 404:
        raise Http404(error.message) from None
    if error.status == 403:
        raise PermissionDenied(error.message) from None
