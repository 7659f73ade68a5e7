"""Flow control of sockets (docs/protocol.md, Access and flow control): the
per-socket frame budget, `typing` relayed at most once per interval per user
and room, and `read` frames coalesced. Each takes its clock as an argument,
so its rules are tested without waiting.
"""

import time
from collections.abc import Callable

Clock = Callable[[], float]


class FrameBudget:
    """At most `count` frames per sliding window of `seconds`. `spend()`
    returns None when the frame may go, else the seconds until one may."""

    __slots__ = ("clock", "count", "seconds", "spent")  # one per socket

    def __init__(self, count: int, seconds: float, *, clock: Clock = time.monotonic):
        self.count = count
        self.seconds = seconds
        self.clock = clock
        # A list, not a deque: an idle socket holds one or two times (a
        # deque takes 600 bytes however short), and `count` bounds it.
        self.spent: list[float] = []

    def spend(self) -> float | None:
        now = self.clock()
        expired = 0
        while expired < len(self.spent) and self.spent[expired] <= now - self.seconds:
            expired += 1
        if expired:
            del self.spent[:expired]
        if len(self.spent) >= self.count:
            return round(max(self.spent[0] + self.seconds - now, 0.001), 3)
        self.spent.append(now)
        return None


class Throttle:
    """One event per key per `interval`; the extra ones are dropped. Keys
    whose interval has passed are forgotten, so memory stays bounded by what
    happened within one interval."""

    def __init__(self, interval: float, *, clock: Clock = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.last: dict = {}

    def allow(self, key) -> bool:
        now = self.clock()
        if len(self.last) > 1024:
            self.last = {k: t for k, t in self.last.items() if now - t < self.interval}
        last = self.last.get(key)
        if last is not None and now - last < self.interval:
            return False
        self.last[key] = now
        return True


class Coalescer:
    """The last value per key wins within `interval`: the first value of a
    quiet key goes at once (`submit` returns it), the later ones wait and
    `due()` hands out the newest of each key once its interval has passed."""

    __slots__ = ("clock", "interval", "pending", "sent_at")  # one per socket

    def __init__(self, interval: float, *, clock: Clock = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.sent_at: dict = {}
        self.pending: dict = {}

    def submit(self, key, value) -> bool:
        """Whether `value` may go now; otherwise it waits for `due()`."""
        now = self.clock()
        last = self.sent_at.get(key)
        if key not in self.pending and (last is None or now - last >= self.interval):
            self.sent_at[key] = now
            return True
        self.pending[key] = value
        return False

    def next_due_in(self) -> float | None:
        """Seconds until the earliest pending value is due (None: nothing)."""
        if not self.pending:
            return None
        now = self.clock()
        return max(0.0, min(self.sent_at[key] + self.interval - now for key in self.pending))

    def drain(self) -> list[tuple]:
        """Every pending value, due or not (the socket is closing)."""
        pending, self.pending = list(self.pending.items()), {}
        return pending

    def due(self) -> list[tuple]:
        now = self.clock()
        ready = [
            (key, value)
            for key, value in self.pending.items()
            if now - self.sent_at[key] >= self.interval
        ]
        for key, _ in ready:
            del self.pending[key]
            self.sent_at[key] = now
        return ready
