"""A joining stream's backfill: from the feed's resume window when the
stream's start falls inside it, else from the database, until the stream
reaches the feed's head and goes live (G2: each entry once, in order, no
gap, whichever way it was read).
"""

from rooms import selectors
from rooms.ops import metrics

from . import db


async def catch_up(subscription, feed, send_page) -> None:
    """Send everything after `subscription.last_sent` as backfill pages,
    then turn the subscription live: at a moment with no await since the
    check that it has reached the feed's head, so the feed's next delivery
    continues the stream exactly."""
    room = subscription.room
    empty_reads = 0
    while True:
        window = feed.window
        head = feed.head
        if head is not None and window is not None and window.covers(subscription.last_sent):
            metrics.BACKFILL_READS.labels("memory").inc()
            rows = await _from_window(feed, window, subscription.last_sent, head)
            pages, last = selectors.split_pages(room.slug, rows, after=subscription.last_sent)
            empty_reads = 0
        else:
            metrics.BACKFILL_READS.labels("database").inc()
            pages, last = await db.read(selectors.backfill_pages)(
                room=room, after=subscription.last_sent
            )
            empty_reads = 0 if pages else empty_reads + 1
        for page in pages:
            await send_page(page)
        subscription.last_sent = last
        # Live once the stream has reached the feed's head: the feed
        # delivers every newer entry. The feed may have passed `last`
        # meanwhile: read again then (twice empty from the database means
        # the entries in between were pruned).
        if feed.head is None or feed.head <= last or empty_reads > 1:
            subscription.live = True  # no await since the check: nothing slips by
            return


async def _from_window(feed, window, since: int, head: int) -> list[tuple[int, str]]:
    """The window's entries in (since, head]; those a later change made
    stale are read from the database (and kept, when still current)."""
    rows, stale = window.after(since, head)
    if not stale:
        return rows
    version = window.version
    fresh = dict(
        await db.read(selectors.entries_at)(room_id=feed.room_id, slug=feed.slug, seqs=stale)
    )
    if feed.window is window:
        window.refresh(fresh, version)
    stale = set(stale)  # one the database no longer has was pruned: left out, as there
    return [(seq, fresh.get(seq, text)) for seq, text in rows if seq not in stale or seq in fresh]
