"""`POST /api/rooms/<slug>/attachments`: upload a file to a room
(docs/attachments.md), `multipart/form-data` with the one field `file`.
201 `{"attachment": {...}}`; a `send` or `POST …/messages` then names its id.

The body is bounded while Django parses it (rooms/files/uploads.py), so
the upload handlers are set before anything reads it, the CSRF check of a
session request included: the route's view sets them, then hands over to
the endpoint.
"""

from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from .. import selectors, services
from ..errors import RoomsError
from ..files import uploads
from .http import dumps, endpoint, error_response, json_response


@csrf_exempt  # `endpoint` checks CSRF for session requests, once the handlers are set
def room_attachments(request, slug):
    if uploads.declared_too_large(request.META):
        return error_response(uploads.too_large())  # refused before the body is read
    request.upload_handlers = uploads.bounded_handlers(request)
    try:
        return _upload(request, slug)
    except RequestDataTooBig:
        return error_response(uploads.too_large())
    except MultiPartParserError:
        return error_response(RoomsError("invalid", "The body is not multipart/form-data."))


@endpoint("POST")
def _upload(request, user, slug):
    files = request.FILES.getlist("file")
    if request.upload_handlers[0].exceeded:
        raise uploads.too_large()
    if len(files) != 1:
        raise RoomsError("invalid", "Send one file, in the field `file`.", field="file")
    attachment = services.attachment_upload_by(by=user, slug=slug, upload=files[0])
    return json_response(
        dumps({"attachment": selectors.attachment_json(attachment=attachment)}), 201
    )
