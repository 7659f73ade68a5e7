"""The README's pictures of the pages: each is a copy of one the browser
tests write on every run, and the README's words about them count them
right."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PICTURES = re.findall(r'<img src="docs/screenshots/([^"]+\.png)"', README)
COUNTS = {"both": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# Pictures no browser test can take, each with why and how it was made (the
# README says so beside it).
MADE_ELSEWHERE = {
    "push-notification.png": "a desktop's notification daemon draws a push; headless Chromium "
    "shows none (made under Xvfb with dunst, the push delivered through the DevTools protocol)",
}
BY_TESTS = [name for name in PICTURES if name not in MADE_ELSEWHERE]


def test_every_picture_of_the_readme_is_written_by_a_browser_test():
    assert BY_TESTS
    written = "\n".join(path.read_text() for path in (ROOT / "tests/browser").glob("test_*.py"))
    for name in BY_TESTS:
        assert (ROOT / "docs/screenshots" / name).exists(), name
        stem = name.removesuffix(".png")
        # Named whole, or (room-{name}.png) with its prefix and its parts.
        assert name in written or stem.split("-", 1)[0] + "-{" in written, name


def test_the_words_about_the_pictures_count_them_right():
    (sentence,) = [line for line in README.splitlines() if "test-output/screenshots/" in line]
    said = [COUNTS[word] for word in re.findall(r"[a-z]+", sentence.lower()) if word in COUNTS]
    assert all(count == len(BY_TESTS) for count in said), (sentence, len(BY_TESTS))


def test_a_picture_made_elsewhere_exists_and_the_readme_says_how():
    for name in MADE_ELSEWHERE:
        assert name in PICTURES and (ROOT / "docs/screenshots" / name).exists(), name
    assert "Xvfb" in README
