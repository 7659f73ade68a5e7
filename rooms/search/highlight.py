"""How a hit shows its message (docs/search.md, Highlighting): the whole
text or an excerpt, as (text, is_match) segments.

Highlighting never trusts any text as markup: the engine marks the matched
words with two private-use characters that occur in none of the page's
messages (`markers`), and `segments` splits on them.
"""

import itertools
import re

# A message up to this long is shown whole, with its matches marked;
# a longer one by an excerpt around them.
WHOLE_MESSAGE_CHARS = 280
EXCERPT_WORDS = 24


def markers(bodies: list[str]) -> tuple[str, str] | None:
    """Two private-use characters found in none of `bodies`: the start and
    stop marks of a match, which no message can then fake."""
    used = set().union(*map(set, bodies))
    code_points = itertools.chain(
        range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE)
    )
    free = (chr(code) for code in code_points if chr(code) not in used)
    start, stop = next(free, None), next(free, None)
    return (start, stop) if stop is not None else None


def snippet(body: str, marked: str | None, marks: tuple[str, str] | None) -> list[tuple[str, bool]]:
    """What a hit shows of `body`: the engine's `marked` text (whole or an
    excerpt) split into segments, or, with no match to mark (a filter-only
    query), the text itself, cut when long."""
    if marked is not None and marks is not None:
        return segments(marked, *marks)
    if len(body) <= WHOLE_MESSAGE_CHARS:
        return [(body, False)]
    return [(body[:WHOLE_MESSAGE_CHARS].rstrip() + "…", False)]


def segments(text: str, start: str, stop: str) -> list[tuple[str, bool]]:
    """Split a marked text into (text, is_match) segments, adjacent
    segments of the same kind merged, empty ones left out."""
    merged: list[tuple[str, bool]] = []
    for piece, matched in _pieces(text, start, stop):
        if not piece:
            continue
        if merged and merged[-1][1] == matched:
            merged[-1] = (merged[-1][0] + piece, matched)
        else:
            merged.append((piece, matched))
    return merged


def _pieces(text: str, start: str, stop: str):
    matched = False
    for part in re.split(f"({re.escape(start)}|{re.escape(stop)})", text):
        if part == start:
            matched = True
        elif part == stop:
            matched = False
        else:
            yield part, matched
