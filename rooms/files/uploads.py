"""An upload as it arrives: bounded while Django parses it, its name
cleaned, its type told from its bytes.

The limit (ROOMS_MAX_UPLOAD_BYTES) holds without reading a larger file
into memory: `UploadLimit`, the request's first upload handler, refuses a
request whose Content-Length is too large before the body is parsed, and
counts the file's bytes as they are parsed (a body without a length, or
one that lies about it), stopping there. What it lets through goes to
Django's own handlers: in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE (2.5
MB), in a temporary file beyond.
"""

import codecs
import unicodedata

import filetype
from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import QueryDict
from django.utils import formats
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, ngettext

from ..errors import RoomsError

# What a multipart body holds besides the file: boundaries, the part's
# headers (its name), the CSRF field. A request longer than the limit by
# more than this cannot carry a file within it.
MULTIPART_OVERHEAD = 64 * 1024
MAX_NAME = 200  # code points of a stored name
SNIFF_BYTES = 8192  # what filetype reads of a file's start
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


def too_large() -> RoomsError:
    limit = readable_size(settings.ROOMS_MAX_UPLOAD_BYTES)
    return RoomsError("too_large", gettext("A file may be at most %(limit)s.") % {"limit": limit})


def readable_size(size: int) -> str:
    """A size for people in the active language, as the browser writes one
    (static/rooms/attachments.js, formatSize): "900 bytes", "1.5 KB", "10
    MB" (1 KB = 1024 bytes), one decimal below 10 and none when it is 0."""
    if size < 1024:
        return ngettext("%(size)d byte", "%(size)d bytes", size) % {"size": size}
    units = [gettext("%(size)s KB"), gettext("%(size)s MB"), gettext("%(size)s GB")]
    units.append(gettext("%(size)s TB"))
    value, unit = size / 1024, 0
    while unit < len(units) - 1 and value >= 1023.95:
        value, unit = value / 1024, unit + 1
    value = round(value, 1) if value < 9.95 else round(value)
    shown = formats.number_format(value, 0 if value == int(value) else 1)
    return units[unit] % {"size": shown}


def declared_too_large(meta) -> bool:
    """Whether the request's Content-Length alone rules it out."""
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > settings.ROOMS_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD


class UploadLimit(FileUploadHandler):
    """Stops the parse past the limit; `exceeded` then says so (the view
    answers 413). Every file of the request counts."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.ROOMS_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
            self.exceeded = True
            return QueryDict(), MultiValueDict()  # parsed as empty: the body is never read
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ROOMS_MAX_UPLOAD_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=True)  # Django closes the files so far
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file


def bounded_handlers(request) -> list[FileUploadHandler]:
    """The upload handlers of an upload request, the limit first; set them
    before anything reads request.POST or FILES (the CSRF check does)."""
    return [
        UploadLimit(request),
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]


def clean_name(raw: str | None) -> str:
    """A name safe to store and to send back in a header: no path (the last
    segment only), no control or format characters (a right-to-left
    override can disguise an extension), no leading dots, at most MAX_NAME
    characters with the extension kept; `file` when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn") or char.isspace()
    )
    name = " ".join(name.split()).lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME].rstrip()
    return name or "file"


def sniff(file) -> str:
    """The file's type from its bytes, never from its name or what the
    client said: filetype's reading of its start, else text when it is
    UTF-8 without NUL (plain text, HTML and SVG alike, always sent as a
    download), else binary."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    return TEXT if _is_text(file) else BINARY


def _is_text(file) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in file.chunks():
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True
