"""The Prometheus metrics of this worker process (docs/deploy.md, Metrics).

Every metric lives here, in prometheus_client's default registry, named
`rooms_…`. Each worker process serves its own on `/metrics`
(rooms/ops/views.py), so there is no multiprocess mode. The places where
things happen (services, the consumer, the hub, the feeds, group commit) add
one-line increments; the gauges of sockets, subscriptions and rooms are read
from the hubs at scrape time.

A hub registers itself with `watch_hub` (this module imports nothing from
rooms.realtime). A scrape runs in a thread of Django's HTTP side, beside the
hub's event loop: it only takes the sizes of the hub's dicts and sets, which
the GIL keeps whole, and never calls into the loop.
"""

import time
import weakref
from datetime import datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily

# No `_created` series beside every counter and histogram: they double the
# scrape and no dashboard reads them.
disable_created_metrics()

# Frame types of docs/protocol.md; anything else is counted as "other", so a
# client cannot grow the label set.
FRAME_TYPES_IN = ("join", "leave", "send", "edit", "delete", "react", "typing", "read")
FRAME_TYPES_IN += ("history", "ping")
FRAME_TYPES_OUT = ("hello", "joined", "backfill", "message", "presence", "typing", "read")
FRAME_TYPES_OUT += ("room", "left", "ack", "history", "pong", "error")

SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# --- gauges, read from the hubs at scrape time ------------------------------

_hubs: "weakref.WeakSet" = weakref.WeakSet()


def watch_hub(hub) -> None:
    """Count `hub`'s sockets and rooms in the gauges while it lives. A hub
    has `user_sockets` (user id -> set of sockets) and `feeds` (room id ->
    feed with a set of `subscriptions`)."""
    _hubs.add(hub)


def _total(count) -> int:
    # A hub's dict may change size while another thread copies it: try again.
    for _ in range(10):
        try:
            return sum(count(hub) for hub in list(_hubs))
        except RuntimeError:
            continue
    return 0


OPEN_SOCKETS = Gauge("rooms_open_sockets", "Authenticated WebSockets open on this worker")
OPEN_SOCKETS.set_function(
    lambda: _total(lambda hub: sum(len(s) for s in list(hub.user_sockets.values())))
)
SUBSCRIPTIONS = Gauge("rooms_subscriptions", "Joined (socket, room) subscriptions")
SUBSCRIPTIONS.set_function(
    lambda: _total(lambda hub: sum(len(f.subscriptions) for f in list(hub.feeds.values())))
)
ROOMS_SERVED = Gauge("rooms_rooms_served", "Rooms with a socket joined on this worker")
ROOMS_SERVED.set_function(lambda: _total(lambda hub: len(hub.feeds)))

# --- frames -------------------------------------------------------------------


class FrameCounter:
    """A counter of frames by type, in plain integers. Frames are counted on
    the event loop's thread, once per socket for every frame (the hottest
    path of a worker), where a prometheus_client Counter's lock would double
    the cost; a scrape reads a copy."""

    def __init__(self, name: str, documentation: str, types: tuple[str, ...]):
        self.name = name
        self.documentation = documentation
        self.counts = dict.fromkeys((*types, "other"), 0)

    def count(self, frame_type: str) -> None:
        try:
            self.counts[frame_type] += 1
        except KeyError:
            self.counts["other"] += 1

    def collect(self):
        family = CounterMetricFamily(self.name, self.documentation, labels=["type"])
        for frame_type, count in list(self.counts.items()):
            family.add_metric([frame_type], count)
        yield family


FRAMES_IN = FrameCounter(
    "rooms_frames_in", "Client frames received, by type", (*FRAME_TYPES_IN, "invalid")
)
FRAMES_OUT = FrameCounter("rooms_frames_out", "Frames sent to clients, by type", FRAME_TYPES_OUT)
REGISTRY.register(FRAMES_IN)
REGISTRY.register(FRAMES_OUT)


def frame_in(frame_type: str) -> None:
    """Count a client frame: its type, or "invalid" when it did not parse."""
    FRAMES_IN.count(frame_type)


def frame_out(text: str) -> None:
    """Count a frame the server sends. Every frame of rooms/protocol/encode.py
    starts with `{"type":"<type>"`: read it there, without parsing the JSON."""
    FRAMES_OUT.count(text[9 : text.find('"', 9)])


# --- entries ------------------------------------------------------------------

ENTRIES_STORED = Counter("rooms_entries_stored", "Entries committed to the log, by kind", ["kind"])
COMMIT_SECONDS = Histogram(
    "rooms_entry_commit_seconds",
    "Time of one group commit of entries: the transaction and its hand-off to broadcast",
    buckets=SECONDS,
)
BATCH_SIZE = Histogram(
    "rooms_commit_batch_size",
    "Entries per group commit of this process's sockets (rooms/realtime/batching.py)",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
RATE_LIMITED = Counter(
    "rooms_rate_limited",
    "Requests refused by a limit, by limit (entries, frames, sockets, rooms, login)",
    ["limit"],
)


def entries_committed(requests, results, started: float) -> None:
    """Count a committed group commit: its stored entries by kind, its
    entries refused by the rate limit, and how long it took since
    `started` (time.perf_counter())."""
    COMMIT_SECONDS.observe(time.perf_counter() - started)
    for request, result in zip(requests, results, strict=True):
        if getattr(result, "code", None) == "rate_limited":
            RATE_LIMITED.labels("entries").inc()
        elif getattr(result, "duplicate", True) is False:
            ENTRIES_STORED.labels(request.entry_kind).inc()


# --- streams --------------------------------------------------------------------

BACKFILL_ENTRIES = Counter("rooms_backfill_entries", "Entries sent in backfill frames")
BACKFILL_SECONDS = Histogram(
    "rooms_backfill_seconds",
    "Time from a join's subscription to its stream going live (the whole backfill)",
    buckets=SECONDS,
)
BACKFILL_READS = Counter(
    "rooms_backfill_reads",
    "Backfill rounds of joining streams, by where they read: the resume window or the database",
    ["source"],
)
JOINS = Counter(
    "rooms_joins",
    "Joins by where their access was decided: the worker's memory or the database",
    ["source"],
)
GAP_REPAIRS = Counter(
    "rooms_gap_repairs", "Seq gaps a feed read from the database before delivering on"
)
HEAD_REPAIRS = Counter(
    "rooms_head_repairs", "Feeds the repair loop found behind the database's head"
)
DELIVERY_LAG = Histogram(
    "rooms_delivery_lag_seconds",
    "Time from an entry's creation (in its transaction) to its delivery by this "
    "process's hub; across hosts it includes their clocks' difference",
    buckets=SECONDS,
)
_CREATED_AT = '"created_at":"'


def entry_delivered(entry_text: str) -> None:
    """Observe the delivery lag of an entry (rooms/selectors/log.py's entry JSON,
    whose `created_at` comes before any user-supplied field)."""
    start = entry_text.find(_CREATED_AT)
    if start < 0:
        return
    start += len(_CREATED_AT)
    try:
        created = datetime.fromisoformat(entry_text[start : entry_text.find('"', start)])
    except ValueError:  # not an entry (rooms/selectors/log.py): nothing to measure
        return
    DELIVERY_LAG.observe(max(0.0, time.time() - created.timestamp()))


# --- the channel layer --------------------------------------------------------

LAYER_ERRORS = Counter(
    "rooms_layer_errors",
    "Channel-layer operations that failed, by operation (subscribe, send, receive)",
    ["operation"],
)
LAYER_RECONNECTS = Counter(
    "rooms_layer_reconnects", "Times a hub found the channel layer back and resubscribed"
)

# --- reaching people who are away (docs/notifications.md) -------------------

NOTIFICATIONS_SENT = Counter(
    "rooms_notifications_sent", "Emails and pushes handed over, by channel", ["channel"]
)


def _queue_depth() -> float:
    """What waits for the worker, due or not (notifications pending and
    jobs not yet run): read at scrape time, two counts on the database; NaN
    when it cannot be read."""
    from ..selectors import jobs

    try:
        return jobs.jobs_waiting()
    except Exception:
        return float("nan")


QUEUE_DEPTH = Gauge(
    "rooms_task_queue_depth", "Notifications and delayed jobs waiting for `manage.py worker`"
)
QUEUE_DEPTH.set_function(_queue_depth)
