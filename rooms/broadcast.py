"""The publishing side of live delivery: group names and the events that
services send after commit.

An event reaches every process's hub (rooms/hub.py): the hubs of this process
directly, the others through the channel layer. The layer is a doorbell, not
the log: a lost event is repaired from the database by the hubs.
"""

import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# Identifies this process's events on the layer, so its own hub skips the
# echo of what it already delivered locally.
PROCESS_ID = uuid.uuid4().hex[:12]

# channels-redis receives every process-local channel of one prefix with one
# blocking pop; local channels of another prefix would wait for that pop to
# time out. The hub and the health check share this prefix.
LOCAL_CHANNEL_PREFIX = "rooms-local"


def room_group(room_id: int) -> str:
    return f"rooms.room.{room_id}"


def user_group(user_id: int) -> str:
    return f"rooms.user.{user_id}"


def layer_is_shared(layer) -> bool:
    """Whether the layer reaches other processes (the in-memory one does not)."""
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def publish(group: str, event: dict) -> None:
    """Deliver `event` to the hubs of this process and, through a shared
    layer, of every other process. Safe from sync code (on_commit) and from
    any thread; never raises: the hubs' repair loop covers a lost event."""
    from .hub import deliver_local  # the hub imports this module

    event = {**event, "type": "rooms.event", "group": group, "origin": PROCESS_ID}
    if deliver_local(event):
        return  # the running hub forwards it to the layer without blocking us
    layer = get_channel_layer()
    if not layer_is_shared(layer):
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        logger.warning("channel layer unavailable: %s not sent to %s", event["kind"], group)


def publish_messages(stored: list[tuple[int, int, str]]) -> None:
    """Publish the messages of one commit, given as (room id, seq, message
    JSON): one event per room."""
    by_room: dict[int, list] = {}
    for room_id, seq, text in stored:
        by_room.setdefault(room_id, []).append([seq, text])
    for room_id, items in by_room.items():
        publish(room_group(room_id), {"kind": "messages", "room_id": room_id, "items": items})


def room_event(*, room_id: int, kind: str, **fields) -> dict:
    return {"kind": kind, "room_id": room_id, **fields}
