"""The newest entries of one room, kept in memory by its feed, so a join
that resumes close to the head is backfilled without the database
(docs/architecture.md, Resuming from memory).

The window holds the entries with seq in (start, head], contiguous up to the
feed's head: the feed appends every run it delivers (live, or read from the
database by a repair), in order, and the oldest fall out past
ROOMS_RESUME_WINDOW's count or bytes. A join whose effective since is at or
above `start` is served from here; anything older reads the database.

An entry's JSON must show what the database would show now. A message's
state changes through later entries (an edit, a deletion, a reaction) and a
deletion also empties the bodies of the message's edits: each change entry
marks what it alters as stale, and a stale entry is read again from the
database when a join needs it (rooms/realtime/resume.py), never rebuilt
here, so the window applies no rule of its own. Retention trims the window
to the oldest seq still stored, as the repair loop learns it.
"""

import itertools
from collections import deque

import orjson

# Only a change entry has this key (a body's quotes are escaped in JSON), so
# a message's JSON is never parsed here.
TARGET_KEY = '"target":'


def _target(text: str) -> tuple[int, bool]:
    """The target of a change entry and whether it deletes (0: a message)."""
    if TARGET_KEY not in text:
        return 0, False
    entry = orjson.loads(text)
    return entry["target"], entry["kind"] == "delete"


class ResumeWindow:
    """(seq, entry JSON) of the newest entries of a room, contiguous to `head`."""

    __slots__ = ("entries", "head", "max_bytes", "max_entries", "size", "stale", "start", "version")

    def __init__(self, head: int, *, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.reset(head)

    def reset(self, head: int) -> None:
        """Empty, contiguous to `head` (a feed's start, or a jump in seq)."""
        # (seq, JSON, its target or 0, its size in UTF-8 bytes)
        self.entries: deque[tuple[int, str, int, int]] = deque()
        self.start = self.head = head
        self.size = 0
        self.stale: set[int] = set()
        self.version = 0  # moves on with every change entry: a read under way may be stale

    def __len__(self) -> int:
        return len(self.entries)

    def extend(self, run) -> None:
        """Append entries (seq, JSON) continuing the window, ascending. A run
        that does not continue it (it cannot, from the feed) starts it anew."""
        if not self.max_entries:
            if run:
                self.start = self.head = run[-1][0]
            return
        for seq, text in run:
            if seq != self.head + 1:
                self.reset(seq - 1)
            target, deletes = _target(text)
            if target:
                self.version += 1
                self._changed(target, deletes)
            size = len(text.encode())
            self.entries.append((seq, text, target, size))
            self.head = seq
            self.size += size
        self._bound()

    def _changed(self, target: int, deletes: bool) -> None:
        if target <= self.start:
            return
        self.stale.add(target)
        if deletes:
            # The deletion empties the bodies of the message's edits too.
            self.stale.update(seq for seq, _, aim, _ in self.entries if aim == target)

    def _bound(self) -> None:
        while self.entries and (len(self.entries) > self.max_entries or self.size > self.max_bytes):
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        seq, _, _, size = self.entries.popleft()
        self.size -= size
        self.stale.discard(seq)
        self.start = seq

    def trim_below(self, oldest: int | None) -> None:
        """Retention deleted every entry below `oldest` (None: the log was
        empty when read, so nothing held here was pruned)."""
        if oldest is None:
            return
        while self.entries and self.entries[0][0] < oldest:
            self._drop_oldest()

    def covers(self, since: int) -> bool:
        """Whether every entry above `since` up to the head is here."""
        return self.start <= since <= self.head

    def after(self, since: int, up_to: int) -> tuple[list[tuple[int, str]], list[int]]:
        """The entries in (since, up_to], and the seqs among them that are
        stale (to be read from the database)."""
        first = since - self.start  # index of seq since + 1
        window = itertools.islice(self.entries, first, first + up_to - since)
        picked = [(seq, text) for seq, text, _, _ in window]
        stale = [seq for seq, _ in picked if seq in self.stale] if self.stale else []
        return picked, stale

    def refresh(self, fresh: dict[int, str], version: int) -> None:
        """Take entries read from the database again, unless a change came
        in since the read began (`version`): they may predate it."""
        if version != self.version:
            return
        for index in range(len(self.entries)):
            seq, _, target, size = self.entries[index]
            if seq in fresh:
                text = fresh[seq]
                new_size = len(text.encode())
                self.size += new_size - size
                self.entries[index] = (seq, text, target, new_size)
                self.stale.discard(seq)
        self._bound()
