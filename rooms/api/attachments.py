"""`POST /api/rooms/<slug>/attachments`: upload a file to a room
(docs/attachments.md), `multipart/form-data` with the one field `file`.
201 `{"attachment": {...}}`; a `send` or `POST …/messages` then names its id.

The body is bounded while Django parses it (rooms/files/uploads.py), so the
upload handlers are set before anything reads it, the CSRF check of a
session request included: `bounded_upload` wraps the route's view
(rooms/api/urls.py) and sets them before ninja's auth and parameters run.
"""

import functools

from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParserError
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from .. import selectors, services
from ..errors import RoomsError
from ..files import uploads
from .entries import Attachment
from .http import answers, error_response

router = Router(tags=["attachments"])


class Uploaded(Schema):
    attachment: Attachment


@router.post(
    "/rooms/{slug}/attachments",
    response=answers({201: Uploaded}, 400, 403, 404, 409, 413, 429),
    summary="Upload a file to a room",
)
def room_attachment_upload(request, slug: str, file: File[UploadedFile]):
    """Up to ROOMS_MAX_UPLOAD_BYTES (413 `too_large` past it, refused before
    the rest is read); images lose their metadata and get a thumbnail. The
    upload waits for a message to name it, and is deleted after a day if
    none does."""
    files = request.FILES.getlist("file")  # past the limit: refused by bounded_upload
    if len(files) != 1:
        raise RoomsError("invalid", "Send one file, in the field `file`.", field="file")
    attachment = services.attachment_upload_by(by=request.auth, slug=slug, upload=files[0])
    return Status(201, {"attachment": selectors.attachment_json(attachment=attachment)})


def bounded_upload(view):
    """The upload route's view: a declared length past the limit is refused
    before the body is read; otherwise the bounded handlers are set before
    anything parses it."""

    @functools.wraps(view)  # keeps csrf_exempt: the auth classes check CSRF
    def upload_view(request, *args, **kwargs):
        try:
            if request.method == "POST":
                if uploads.declared_too_large(request.META):
                    return error_response(uploads.too_large())
                request.upload_handlers = uploads.bounded_handlers(request)
                request.FILES  # noqa: B018 -- parsed now, with the limit's handlers
                if request.upload_handlers[0].exceeded:
                    return error_response(uploads.too_large())
            return view(request, *args, **kwargs)
        except RequestDataTooBig:
            return error_response(uploads.too_large())
        except MultiPartParserError:
            return error_response(RoomsError("invalid", "The body is not multipart/form-data."))

    return upload_view
