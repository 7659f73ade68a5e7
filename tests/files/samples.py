"""Files the attachment tests upload, made here with Pillow: images with
metadata that must not survive (GPS EXIF, comments, text chunks), an
animation, a decompression bomb's header, and files that must never be
shown in place (HTML, SVG)."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def jpeg_with_gps(size=(800, 600), *, orientation: int = 1, comment=b"shot at home") -> bytes:
    """A JPEG carrying a GPS position, an orientation and a comment."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    # Left half red, right half blue: a rotation shows where they end up.
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=comment)
    return out.getvalue()


def png(size=(40, 30), *, text: str = "", mode: str = "RGBA") -> bytes:
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(
        out, "PNG", pnginfo=info
    )
    return out.getvalue()


def animated_gif(frames: int = 3, size=(60, 40), *, comment=b"") -> bytes:
    images = [Image.new("RGB", size, (80 * i, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    extra = {"comment": comment} if comment else {}
    images[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=[100 + 10 * i for i in range(frames)],
        loop=0,
        **extra,
    )
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels in a few bytes: what a
    decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(content: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"):
    """An uploaded file as Django hands it to a view (the claimed type is
    the client's, and ignored)."""
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_upload(user, room, content: bytes = b"plain words", name: str = "notes.txt"):
    """An upload of `user` to `room` through the service, as the API makes one."""
    from rooms import services

    return services.attachment_upload_by(by=user, slug=room.slug, upload=upload(content, name))


def in_storage(key: str) -> bool:
    from rooms.files import storage

    return bool(key) and storage.attachments_storage().exists(key)
