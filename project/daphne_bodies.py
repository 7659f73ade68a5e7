"""A request body's cost under daphne, bounded.

daphne hands a request to the application only once its whole body has
arrived (Twisted keeps it in a temporary file), and then puts all of it on
the application's queue at once: a 20 MB upload was 20 MB of the worker's
memory before Django could refuse it (daphne's issue #483). uvicorn passes a
body on as it arrives, so the upload handlers' limit (rooms/files/uploads.py)
holds there by itself.

Under daphne, then, a body larger than the largest the application accepts
(ROOMS_MAX_UPLOAD_BYTES and the multipart's own bytes) is not kept: declared
so by its Content-Length, or found so as it arrives (chunked), its bytes are
dropped as they come, and the request is answered 413 with the API's error
body without reaching the application. Twisted's own parsing of form and
multipart bodies (which daphne does not use) is skipped as well.
`install()` runs when project.asgi is
loaded; it changes only daphne's request class, so it is inert elsewhere.
"""

import json

from django.conf import settings

from rooms.files.uploads import MULTIPART_OVERHEAD, too_large


class _Dropped:
    """Where the bytes of a refused body go: nowhere."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, *args) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def _limit() -> int:
    return settings.ROOMS_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD


def _refuse(request) -> None:
    """Drop what the body holds and what is still to come."""
    request.rooms_too_large = True
    request.content.close()
    request.content = _Dropped()


def install() -> None:
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # not served by daphne
        return
    if getattr(WebRequest, "rooms_bounded", False):
        return
    got_length, content_chunk, received, process_whole = (
        WebRequest.gotLength,
        WebRequest.handleContentChunk,
        WebRequest.requestReceived,
        WebRequest.process,
    )

    def gotLength(self, length):
        got_length(self, length)
        self.rooms_received = 0
        self.rooms_too_large = False
        if length is not None and length > _limit():
            _refuse(self)

    def handleContentChunk(self, data):
        if self.rooms_too_large:
            return
        self.rooms_received += len(data)
        if self.rooms_received > _limit():
            _refuse(self)
            return
        content_chunk(self, data)

    def requestReceived(self, command, path, version):
        # Twisted would parse a form or multipart body into arguments that
        # daphne never reads: a copy of the whole body in memory, and a bare
        # 400 of its own for a multipart it cannot parse. Hidden from it
        # here, the header is back before daphne builds the request's scope.
        self.rooms_content_type = self.requestHeaders.getRawHeaders(b"content-type")
        self.requestHeaders.removeHeader(b"content-type")
        return received(self, command, path, version)

    def process(self):
        if getattr(self, "rooms_content_type", None):
            self.requestHeaders.setRawHeaders(b"content-type", self.rooms_content_type)
        if not getattr(self, "rooms_too_large", False):
            return process_whole(self)
        error = too_large()
        body = json.dumps({"error": {"code": error.code, "message": error.message}}).encode()
        self.setResponseCode(413)
        self.setHeader(b"Content-Type", b"application/json")
        self.setHeader(b"Content-Length", str(len(body)).encode())
        self.setHeader(b"Connection", b"close")
        self.write(body)
        self.finish()
        return None

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.requestReceived = requestReceived
    WebRequest.process = process
    WebRequest.rooms_bounded = True
