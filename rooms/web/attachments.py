"""Files of attachments, to whoever may see their room, asked again on
every request (selectors.attachment_to_serve); 404 for everyone else,
anonymous visitors included, alike for a file that does not exist. How the
bytes go out, and with which headers, is rooms/files/serving.py's.

Pages fetch files with their session; bots with their API token
(`Authorization: Bearer`), as they read the messages that name the files.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.views.decorators.http import require_safe

from .. import selectors, services
from ..files import serving
from ..tokens import bearer_token


@require_safe
def attachment_file(request, attachment_id: str, name: str):
    """`/attachments/<id>/<name>`: the name is for whoever saves the file;
    the id alone decides which it is."""
    return _serve(request, attachment_id, thumbnail=False)


@require_safe
def attachment_thumbnail(request, attachment_id: str):
    """`/attachments/thumbnails/<id>.webp`: an image's thumbnail."""
    return _serve(request, attachment_id, thumbnail=True)


def _serve(request, attachment_id: str, *, thumbnail: bool):
    served = selectors.attachment_to_serve(
        user=_viewer(request), attachment_id=attachment_id, thumbnail=thumbnail
    )
    if served is None:
        raise Http404("No such file.")
    return serving.file_response(request, served)


def _viewer(request):
    """The bearer of a valid token, else the session's user; an invalid
    token is nobody (a 404, as for anyone who may not have the file)."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return request.user
    return (token and services.api_token_authenticate(token=token)) or AnonymousUser()
