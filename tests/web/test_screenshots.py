"""The README's pictures of the pages: each is a copy of one the browser
tests write on every run, and the README's words about them count them
right."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PICTURES = re.findall(r'<img src="docs/screenshots/([^"]+\.png)"', README)
COUNTS = {"both": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def test_every_picture_of_the_readme_is_written_by_a_browser_test():
    assert PICTURES
    written = "\n".join(path.read_text() for path in (ROOT / "tests/browser").glob("test_*.py"))
    for name in PICTURES:
        assert (ROOT / "docs/screenshots" / name).exists(), name
        stem = name.removesuffix(".png")
        # Named whole, or (room-{name}.png) with its prefix and its parts.
        assert name in written or stem.split("-", 1)[0] + "-{" in written, name


def test_the_words_about_the_pictures_count_them_right():
    (sentence,) = [line for line in README.splitlines() if "test-output/screenshots/" in line]
    said = [COUNTS[word] for word in re.findall(r"[a-z]+", sentence.lower()) if word in COUNTS]
    assert all(count == len(PICTURES) for count in said), (sentence, len(PICTURES))
