"""Files of attachments, to whoever may see their room, asked again on
every request (selectors.attachment_to_serve); 404 for everyone else,
anonymous visitors included, alike for a file that does not exist. How the
bytes go out, and with which headers, is rooms/files/serving.py's."""

from django.http import Http404
from django.views.decorators.http import require_safe

from .. import selectors
from ..files import serving


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
        user=request.user, attachment_id=attachment_id, thumbnail=thumbnail
    )
    if served is None:
        raise Http404("No such file.")
    return serving.file_response(request, served)
