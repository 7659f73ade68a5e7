"""Raster images (PNG, JPEG, GIF, WebP): what is stored is re-encoded by
Pillow, so nothing of the upload's metadata survives (EXIF with its GPS
position, comments, XMP, text chunks); only what drawing the picture needs
is kept (transparency, the colour profile). The EXIF orientation is applied
first, so the picture stands as the camera meant it. A thumbnail of at
most THUMBNAIL px on its long side is made of the (first) frame, as WebP.

Animated GIF and WebP stay animated (docs/attachments.md): each frame is
re-encoded the same way, within a budget of pixels over all frames.
Decompression bombs (a small file that unpacks to a huge picture) are
refused before any pixel is decoded.

At most DECODING images are decoded at once in a process: Django runs each
request's view on a thread of its own, so without a bound 50 concurrent
uploads of 3-megapixel photos held 50 decoded pictures (and their copies)
at once, 1.6 GB at the peak (docs/benchmarks.md, Attachments). The others
wait their turn; the CPU is the same, the memory bounded.
"""

import tempfile
import threading
from dataclasses import dataclass

from django.utils.translation import gettext, ngettext
from PIL import Image, ImageOps, ImageSequence

from ..errors import RoomsError

# Each raster type we show, with Pillow's name for its format.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
THUMBNAIL = 400  # px, the long side
THUMBNAIL_TYPE = "image/webp"
# Pixels one picture may have (a 50-megapixel photo has 8160 x 6120):
# decoding takes 3 to 4 bytes each. Below Pillow's own MAX_IMAGE_PIXELS,
# which guards what we do not check ourselves.
MAX_PIXELS = min(50_000_000, Image.MAX_IMAGE_PIXELS or 50_000_000)
# Pixels over all the frames of an animation (each frame is decoded whole).
MAX_ANIMATION_PIXELS = 30_000_000
# What of an image's `info` drawing it needs; everything else is dropped.
KEEP_INFO = ("transparency", "icc_profile", "background")
SPOOL = 1024 * 1024  # bytes of an encoded image kept in memory before a temporary file
DECODING = 2  # images decoded at once per process (the cores of a small server)
decoding = threading.BoundedSemaphore(DECODING)


@dataclass
class Processed:
    original: tempfile.SpooledTemporaryFile  # the image to store, re-encoded
    thumbnail: tempfile.SpooledTemporaryFile
    width: int
    height: int


def invalid(message: str) -> RoomsError:
    return RoomsError("invalid", message, field="file")


def process(file, content_type: str) -> Processed:
    """Re-encode an uploaded image of `content_type` (one of FORMATS, told
    from its bytes) and thumbnail it; `invalid` for anything Pillow cannot
    read as that format, or too large a picture."""
    file.seek(0)
    try:
        image = Image.open(file, formats=[FORMATS[content_type]])
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except Exception:  # Pillow raises many kinds for hostile input
        raise _unreadable() from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels()
        frames = getattr(image, "n_frames", 1)
        if frames > 1 and width * height * frames > MAX_ANIMATION_PIXELS:
            megapixels = MAX_ANIMATION_PIXELS // 1_000_000
            raise invalid(
                ngettext(
                    "An animation may have at most %(count)d megapixel over all its frames.",
                    "An animation may have at most %(count)d megapixels over all its frames.",
                    megapixels,
                )
                % {"count": megapixels}
            )
        try:
            with decoding:
                if frames > 1:
                    return _animation(image)
                return _still(image)
        except RoomsError:
            raise
        except Exception:
            raise _unreadable() from None


def _unreadable() -> RoomsError:
    return invalid(gettext("The file is not a readable image."))


def _too_many_pixels() -> RoomsError:
    megapixels = MAX_PIXELS // 1_000_000
    message = ngettext(
        "An image may have at most %(count)d megapixel.",
        "An image may have at most %(count)d megapixels.",
        megapixels,
    )
    return invalid(message % {"count": megapixels})


def _still(image: Image.Image) -> Processed:
    format_name = image.format
    upright = ImageOps.exif_transpose(image)  # a copy: the orientation applied, EXIF aside
    upright.load()
    upright.info = {key: image.info[key] for key in KEEP_INFO if key in image.info}
    original = _spool()
    options = {"quality": 90} if format_name in ("JPEG", "WEBP") else {}
    if "icc_profile" in upright.info:
        options["icc_profile"] = upright.info["icc_profile"]
    if format_name == "JPEG" and upright.mode not in ("L", "RGB", "CMYK"):
        upright = upright.convert("RGB")
    upright.save(original, format=format_name, **options)
    return Processed(original, _thumbnail(upright), *upright.size)


def _animation(image: Image.Image) -> Processed:
    format_name = image.format
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(frame.info.get("duration", 100))
        clean = frame.convert("RGBA")
        clean.info = {}
        frames.append(clean)
    original = _spool()
    options = {"disposal": 2} if format_name == "GIF" else {"quality": 90}
    frames[0].save(
        original,
        format=format_name,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=image.info.get("loop", 0),
        **options,
    )
    return Processed(original, _thumbnail(frames[0]), *image.size)


def _thumbnail(image: Image.Image) -> tempfile.SpooledTemporaryFile:
    small = image.copy()
    small.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    has_alpha = small.mode in ("RGBA", "LA", "PA") or "transparency" in small.info
    small = small.convert("RGBA" if has_alpha else "RGB")
    small.info = {}
    out = _spool()
    small.save(out, format="WEBP", quality=80)
    return out


def _spool() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL)
