"""rooms/files/uploads.py: the limit handler stops a parse past the limit
(on the declared length before reading, by counting otherwise), names are
cleaned, and a file's type comes from its bytes, never from its name."""

import io

import pytest
from django.core.files.uploadhandler import StopUpload
from django.utils import translation

from rooms.files import uploads

from .samples import HTML, SVG, animated_gif, jpeg_with_gps, png, upload


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("evil\u202egpj.exe", "evilgpj.exe"),  # a right-to-left override dropped
        ("tab\tand\nnewline\x00.txt", "tab and newline.txt"),
        ("...hidden", "hidden"),
        ("  spaced   out  .png", "spaced out .png"),
        ("", "file"),
        (None, "file"),
        ("\x01\x02", "file"),
        ("café.txt", "café.txt"),
    ],
)
def test_names_are_cleaned_of_paths_and_control_characters(raw, clean):
    assert uploads.clean_name(raw) == clean


@pytest.mark.parametrize(
    ("size", "english", "german"),
    [
        (0, "0 bytes", "0 Bytes"),
        (1, "1 byte", "1 Byte"),
        (1023, "1023 bytes", "1023 Bytes"),
        (1536, "1.5 KB", "1,5 KB"),
        (1024 * 1024 - 1, "1 MB", "1 MB"),
        (10 * 1024 * 1024, "10 MB", "10 MB"),
        (123_456_789, "118 MB", "118 MB"),
        (5 * 1024**3, "5 GB", "5 GB"),
    ],
)
def test_sizes_read_as_the_browser_writes_them_in_the_active_language(size, english, german):
    """As static/rooms/attachments.js's formatSize (tests/js/attachments.test.mjs)."""
    with translation.override("en"):
        assert uploads.readable_size(size) == english
    with translation.override("de"):
        assert uploads.readable_size(size) == german


def test_the_limit_is_said_as_a_size_for_people(settings):
    with translation.override("en"):
        assert uploads.too_large().message == "A file may be at most 10 MB."
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    with translation.override("de"):
        refused = uploads.too_large()
    assert (refused.code, refused.message) == (
        "too_large",
        "Eine Datei darf höchstens 1000 Bytes groß sein.",
    )


def test_a_long_name_is_cut_keeping_its_extension():
    name = uploads.clean_name("a" * 500 + ".jpeg")
    assert len(name) == uploads.MAX_NAME and name.endswith("a.jpeg")
    assert len(uploads.clean_name("b" * 500)) == uploads.MAX_NAME


@pytest.mark.parametrize(
    ("content", "claimed_name", "kind"),
    [
        (png(), "notes.txt", "image/png"),
        (jpeg_with_gps(), "x.gif", "image/jpeg"),
        (animated_gif(), "a.png", "image/gif"),
        (HTML, "page.png", uploads.TEXT),
        (SVG, "logo.svg", uploads.TEXT),
        ("plain words, é".encode(), "a.exe", uploads.TEXT),
        (b"\x00\x01\x02\xff binary", "a.txt", uploads.BINARY),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "a.png", "application/pdf"),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name_or_the_claim(content, claimed_name, kind):
    assert uploads.sniff(upload(content, claimed_name, "image/png")) == kind


def test_text_split_inside_a_character_across_chunks_is_still_text():
    text = ("é" * 40000).encode()  # 80,000 bytes: chunks of 64 KiB cut a character
    assert uploads.sniff(upload(text, "a.txt")) == uploads.TEXT


def test_the_handler_refuses_a_declared_length_past_the_limit_without_reading(settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    handler = uploads.UploadLimit()
    body = io.BytesIO(b"never read")
    length = 1000 + uploads.MULTIPART_OVERHEAD + 1
    post, files = handler.handle_raw_input(body, {}, length, b"boundary")
    assert (dict(post), dict(files), handler.exceeded, body.tell()) == ({}, {}, True, 0)
    assert uploads.UploadLimit().handle_raw_input(body, {}, length - 1, b"boundary") is None


def test_the_handler_counts_the_bytes_and_stops_past_the_limit(settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    handler = uploads.UploadLimit()
    assert handler.receive_data_chunk(b"x" * 600, 0) == b"x" * 600
    assert not handler.exceeded
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 401, 600)
    assert handler.exceeded


def test_declared_too_large_reads_the_content_length(settings):
    settings.ROOMS_MAX_UPLOAD_BYTES = 1000
    limit = 1000 + uploads.MULTIPART_OVERHEAD
    assert uploads.declared_too_large({"CONTENT_LENGTH": str(limit + 1)})
    assert not uploads.declared_too_large({"CONTENT_LENGTH": str(limit)})
    assert not uploads.declared_too_large({"CONTENT_LENGTH": "nonsense"})
    assert not uploads.declared_too_large({})
