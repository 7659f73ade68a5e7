"""rooms/files/images.py: what is stored of an image keeps nothing of its
metadata (GPS EXIF, comments, text chunks), stands as the camera meant it
(orientation applied), stays animated when it was, gets a thumbnail of at
most 400 px, and a decompression bomb or a broken file is a clear `invalid`."""

import io
import threading

import pytest
from PIL import Image, ImageSequence

from rooms.errors import RoomsError
from rooms.files import images

from .samples import GPS_IFD, animated_gif, jpeg_with_gps, png, png_header


def stored(processed) -> tuple[bytes, Image.Image]:
    processed.original.seek(0)
    data = processed.original.read()
    return data, Image.open(io.BytesIO(data))


def test_a_jpeg_loses_its_gps_position_and_comment():
    processed = images.process(io.BytesIO(jpeg_with_gps()), "image/jpeg")
    data, image = stored(processed)
    assert image.format == "JPEG"
    assert image.getexif().get_ifd(GPS_IFD) == {} and len(image.getexif()) == 0
    assert b"shot at home" not in data and b"Exif" not in data


def test_the_orientation_is_applied_to_the_pixels():
    # Orientation 6: the camera was turned; the picture is shown rotated 90° clockwise.
    processed = images.process(io.BytesIO(jpeg_with_gps((800, 600), orientation=6)), "image/jpeg")
    _, image = stored(processed)
    assert (processed.width, processed.height) == image.size == (600, 800)
    red, blue = image.getpixel((300, 100)), image.getpixel((300, 700))
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]


def test_a_png_loses_its_text_chunks_and_keeps_its_transparency():
    processed = images.process(io.BytesIO(png(text="secret location")), "image/png")
    data, image = stored(processed)
    assert b"secret location" not in data
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 128


def test_an_animated_gif_stays_animated_without_its_comment():
    processed = images.process(io.BytesIO(animated_gif(4, comment=b"made by me")), "image/gif")
    data, image = stored(processed)
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(image)]
    assert durations == [100, 110, 120, 130] and b"made by me" not in data


def test_the_thumbnail_is_webp_within_400_px_keeping_the_aspect():
    processed = images.process(io.BytesIO(jpeg_with_gps((1600, 1000))), "image/jpeg")
    processed.thumbnail.seek(0)
    thumbnail = Image.open(processed.thumbnail)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (400, 250))


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 7000),  # past our limit, under Pillow's
        (20000, 20000),  # past twice Pillow's own: its DecompressionBombError
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(width, height):
    with pytest.raises(RoomsError) as refused:
        images.process(io.BytesIO(png_header(width, height)), "image/png")
    assert (refused.value.code, refused.value.field) == ("invalid", "file")
    assert refused.value.message == "An image may have at most 50 megapixels."


def test_an_animation_past_its_pixel_budget_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_ANIMATION_PIXELS", 60 * 40 * 3)
    with pytest.raises(RoomsError, match="frames"):
        images.process(io.BytesIO(animated_gif(4)), "image/gif")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
        (png(), "image/jpeg"),  # not what its bytes were said to be
        (jpeg_with_gps()[:300], "image/jpeg"),  # truncated
    ],
)
def test_a_broken_image_is_invalid_not_a_server_error(content, kind):
    with pytest.raises(RoomsError) as refused:
        images.process(io.BytesIO(content), kind)
    assert refused.value.code == "invalid"


def test_no_more_than_decoding_images_are_decoded_at_once():
    held = [images.decoding.acquire(blocking=False) for _ in range(images.DECODING)]
    assert all(held)  # every slot taken, as by DECODING uploads in progress
    done = threading.Event()
    waiting = threading.Thread(
        target=lambda: (images.process(io.BytesIO(png()), "image/png"), done.set())
    )
    try:
        waiting.start()
        assert not done.wait(0.5)  # it waits for a slot
    finally:
        images.decoding.release()
    assert done.wait(10)  # one slot free: it runs
    waiting.join(10)
    for _ in range(images.DECODING - 1):
        images.decoding.release()
