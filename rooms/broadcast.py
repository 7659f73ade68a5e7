"""The publishing side of live delivery: services hand events (rooms/events.py)
to `publish_on_commit` inside their transaction, so an event goes out only
once its change is committed (or to `publish` when nothing is stored).

An event reaches the hubs of this process through the local sinks they
register, and every other process through the channel layer. The layer is a
doorbell, not the log: a lost event is repaired from the database by the hubs.
This module knows nothing of the hubs (rooms/realtime/) beyond the sink
registry, so the domain never imports the realtime runtime.
"""

import logging
import threading
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from . import events
from .ops import metrics

logger = logging.getLogger(__name__)

# Identifies this process's events on the layer, so its own hub skips the
# echo of what it already delivered locally.
PROCESS_ID = uuid.uuid4().hex[:12]


# A sink takes an encoded event from any thread and returns whether it will
# also forward it to the layer (a running hub does, without blocking us).
LocalSink = Callable[[dict], bool]
_sinks: set[LocalSink] = set()
_sinks_lock = threading.Lock()


def add_local_sink(sink: LocalSink) -> None:
    with _sinks_lock:
        _sinks.add(sink)


def remove_local_sink(sink: LocalSink) -> None:
    with _sinks_lock:
        _sinks.discard(sink)


def layer_is_shared(layer) -> bool:
    """Whether the layer reaches other processes (the in-memory one does not)."""
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def publish(event: events.Event) -> None:
    """Deliver `event` to the hubs of this process and, through a shared
    layer, of every other process. Safe from sync code (on_commit) and from
    any thread; never raises: the hubs' repair loop covers a lost event."""
    message = events.encode(event, origin=PROCESS_ID)
    with _sinks_lock:
        sinks = list(_sinks)
    forwarded = False
    for sink in sinks:
        forwarded = sink(message) or forwarded
    if forwarded:
        return
    layer = get_channel_layer()
    if not layer_is_shared(layer):
        return
    try:
        async_to_sync(layer.group_send)(event.group, message)
    except Exception:
        metrics.LAYER_ERRORS.labels("send").inc()
        logger.warning("channel layer unavailable: %s not sent to %s", event.kind, event.group)


def publish_on_commit(event: events.Event) -> None:
    """Publish `event` once the current transaction commits (at once outside
    one); nothing when it rolls back, so nobody hears of a change that was
    never made."""
    transaction.on_commit(lambda: publish(event))


def publish_entries(stored: list[tuple[int, int, str]]) -> None:
    """Publish the entries of one commit, given as (room id, seq, entry JSON):
    one event per room."""
    by_room: dict[int, list] = {}
    for room_id, seq, text in stored:
        by_room.setdefault(room_id, []).append((seq, text))
    for room_id, items in by_room.items():
        publish(events.Entries(room_id=room_id, items=tuple(items)))
