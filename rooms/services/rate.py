"""The rate limit of stored entries (settings.ROOMS_RATE_LIMIT): at most N
entries per window per user, messages and changes alike, counted in the
database inside the group commit (rooms/services/commit.py) after it has
locked the authors' rows, so that every worker process agrees and the
limit is exact."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..errors import RoomsError
from ..models import Message
from ..sql import placeholders


def budgets(author_ids: set[int]) -> dict[int, list]:
    """The rate budgets of the batch's authors: {pk: [entries left, seconds
    until the oldest counted one leaves the window]}. At most N stored
    entries per window per user (messages and changes alike), counted in the
    database so every worker process agrees: the authors' rows are locked
    (commit.py, `_lock_authors`), so no other batch of theirs stores
    meanwhile. One query for the whole batch, whatever its rooms and
    authors."""
    limit = settings.ROOMS_RATE_LIMIT
    if limit is None or not author_ids:
        return {}
    count, window = limit
    now = timezone.now()
    # Plain SQL: the ORM's GROUP BY took longer to build than to run. Both
    # engines answer it from the (author, created_at) index, or PostgreSQL
    # from created_at's when the window holds few entries.
    ordered = sorted(author_ids)
    since = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=window))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT author_id, COUNT(*), MIN(created_at) FROM {Message._meta.db_table} "
            f"WHERE author_id IN ({placeholders(ordered)}) AND created_at > %s "
            "GROUP BY author_id",
            [*ordered, since],
        )
        rows = cursor.fetchall()
    stats = {author_id: (sent, _aware(oldest)) for author_id, sent, oldest in rows}
    budgets = {}
    for author_id in author_ids:
        sent, oldest = stats.get(author_id, (0, now))
        retry = (oldest + timedelta(seconds=window) - now).total_seconds()
        budgets[author_id] = [count - sent, round(max(retry, 0.001), 3)]
    return budgets


def _aware(value) -> datetime:
    """A timestamp from a plain cursor: SQLite's is text in UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def spend(budgets: dict[int, list], author_id: int, *, enforce: bool) -> RoomsError | None:
    """Take one entry from the author's rate budget, or return rate_limited.
    An entry exempt from the limit (`enforce` false: an operator's tool)
    is never refused but counts, as it will in the next batch's count."""
    limit = settings.ROOMS_RATE_LIMIT
    budget = budgets.get(author_id)
    if limit is None or budget is None:
        return None
    count, window = limit
    if enforce and budget[0] <= 0:
        return RoomsError(
            "rate_limited",
            f"At most {count} entries per {window:g} seconds.",
            retry_after=budget[1],
        )
    budget[0] -= 1
    return None
