"""Sending a file someone may see (the selector decided that): the same
headers whoever sends the bytes, and one of three ways to send them.

- A bucket: a 302 to a presigned address that expires soon; the bucket
  sends the bytes with the type, disposition and cache headers signed into
  the address. Its own origin keeps a file away from the site's cookies.
- The filesystem behind nginx (ROOMS_ACCEL_REDIRECT): an empty answer with
  X-Accel-Redirect, and nginx sends the file from its `internal` location
  (deploy/nginx.conf adds the headers nginx does not pass on).
- Otherwise the worker streams it, honouring a single byte range (206).

Every file is sent with `X-Content-Type-Options: nosniff` and
`Content-Security-Policy: sandbox`, so a browser neither guesses a type
nor lets a file run script as the site; anything but a raster image is a
download (`Content-Disposition: attachment`).
"""

import re
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from . import storage

CHUNK = 64 * 1024
CACHE_CONTROL = "private, max-age=3600"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Served:
    """A file to send, as the selector decided: which, how it is named and
    typed, and whether a browser may show it in place."""

    key: str
    name: str
    content_type: str
    inline: bool
    etag: str


def file_response(request, served: Served) -> HttpResponse:
    if storage.is_bucket():
        response = HttpResponseRedirect(
            storage.presigned_url(
                served.key,
                content_type=served.content_type,
                disposition=_disposition(served),
                cache_control=CACHE_CONTROL,
            )
        )
        response["Cache-Control"] = "private, no-store"  # the address expires
        return _guarded(response)
    if request.headers.get("If-None-Match") == served.etag:
        return _with_file_headers(HttpResponse(status=304), served)
    if settings.ROOMS_ACCEL_REDIRECT:
        response = HttpResponse(content_type=served.content_type)
        response["X-Accel-Redirect"] = settings.ROOMS_ACCEL_REDIRECT.rstrip("/") + "/" + served.key
        return _with_file_headers(response, served)
    return _stream(request, served)


def _stream(request, served: Served) -> HttpResponse:
    file = storage.open_file(served.key)
    size = file.size
    status, start, length = 200, 0, size
    wanted = _byte_range(request, served, size)
    if wanted == "unsatisfiable":
        file.close()
        response = _with_file_headers(HttpResponse(status=416), served)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is not None:
        status, (start, length) = 206, wanted
    if request.method == "HEAD":
        file.close()
        response = HttpResponse(status=status, content_type=served.content_type)
    else:
        chunks = _async_chunks if isinstance(request, ASGIRequest) else _chunks
        response = StreamingHttpResponse(
            chunks(file, start, length), status=status, content_type=served.content_type
        )
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    return _with_file_headers(response, served)


def _byte_range(request, served: Served, size: int):
    """(start, length) of a single satisfiable range, "unsatisfiable", or
    None for the whole file (no Range, several ranges, one we do not read,
    or an If-Range naming another version)."""
    header = request.headers.get("Range")
    if not header or request.headers.get("If-Range", served.etag) != served.etag:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = min(int(match[2]), size)
        return (size - length, length) if length else "unsatisfiable"
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end - start + 1


def _chunks(file, start: int, length: int):
    with file:
        file.seek(start)
        while length > 0:
            data = file.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


async def _async_chunks(file, start: int, length: int):
    # Reads on a thread of their own, never on the thread the ORM shares.
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        await sync_to_async(file.seek, thread_sensitive=False)(start)
        while length > 0:
            data = await read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data
    finally:
        file.close()


def _disposition(served: Served) -> str:
    return content_disposition_header(not served.inline, served.name)


def _with_file_headers(response: HttpResponse, served: Served) -> HttpResponse:
    response["Content-Disposition"] = _disposition(served)
    response["Cache-Control"] = CACHE_CONTROL
    response["ETag"] = served.etag
    response["Accept-Ranges"] = "bytes"
    return _guarded(response)


def _guarded(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
