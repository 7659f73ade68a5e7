"""The read budget: how many of the reads that cost the most, searches and
user-picker look-ups, one user may make per period (ROOMS_READ_RATE;
docs/security.md, Limits). The search page, `/api/search` and `/api/users`
spend from one budget per user.

Counted in Django's cache (project/settings.py, CACHES): Redis when
REDIS_URL is set, so every worker process spends from the same budget;
otherwise the process's memory. A counter per user and fixed window, raised
with the cache's atomic increment, so concurrent requests never both take
the last read.
"""

import math
import time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.utils.translation import gettext

from .errors import RoomsError

# The budget's clock, wall time: its windows are the same in every process.
clock = time.time


def read_spend(*, user: AbstractBaseUser) -> None:
    """Take one read from the user's budget, or raise `rate_limited` with
    the seconds until the next window."""
    limit = settings.ROOMS_READ_RATE
    if limit is None:
        return
    count, window = limit
    now = clock()
    index = int(now // window)
    spent = _increment(f"read-budget:{user.pk}:{index}", lifetime=window)
    if spent > count:
        retry_after = round(max((index + 1) * window - now, 0.001), 3)
        raise RoomsError(
            "rate_limited",
            gettext(
                "At most %(count)d searches and user look-ups per %(window)s seconds: "
                "try again in %(wait)d s."
            )
            % {"count": count, "window": f"{window:g}", "wait": math.ceil(retry_after)},
            retry_after=retry_after,
        )


def _increment(key: str, *, lifetime: float) -> int:
    # add() makes the counter only where there is none (Redis: SET NX), and
    # incr() is atomic (Redis: INCR). The counter outlives its window, so it
    # cannot expire between the two while anyone still counts in it.
    timeout = math.ceil(lifetime) + 1
    for _ in range(2):
        cache.add(key, 0, timeout=timeout)
        try:
            return cache.incr(key)
        except ValueError:  # evicted from a full in-memory cache meanwhile
            continue
    return 1
