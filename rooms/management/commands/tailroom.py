import asyncio
import json
import os
import sys

from channels.db import database_sync_to_async
from django.core.management.base import BaseCommand

from rooms import selectors
from rooms.management.base import non_negative, positive_seconds, room_named
from rooms.realtime.feed import Subscription
from rooms.realtime.hub import get_hub

from ...access import room_stream

BATCH = 1000


class Printer:
    """Stands where a socket would in a hub subscription: prints the entry of
    each live `message` frame as one JSON line."""

    username = ""
    socket_id = "tailroom"

    def __init__(self, write):
        self.write = write

    async def send_text(self, frame: str) -> None:
        message = json.loads(frame).get("message")
        if message is not None:
            # message_json's own form: compact, keys in order, UTF-8.
            self.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    async def close(self, code: int) -> None:
        raise SystemExit(f"tailroom: the stream cannot be repaired (close {code})")


class Command(BaseCommand):
    help = (
        "Print a room's log: the entries with seq > N as JSON lines, one entry a line "
        "(default: the last 10 entries). Entries are messages (kind text or system, in "
        "their current state) and the changes to them (kind edit, delete or reaction, "
        "naming the message by its seq in `target`). With --follow, keep printing new "
        "entries until interrupted (Ctrl-C), in order and each once, the way a WebSocket "
        "client gets them: live through the channel layer when REDIS_URL is set, and "
        "from the database every --interval seconds for anything the layer did not bring "
        "(with the in-memory layer, that is everything)."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument(
            "--since", type=non_negative, metavar="N", help="print the entries with seq > N"
        )
        parser.add_argument("--follow", action="store_true", help="keep printing new entries")
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=0.5,
            metavar="SECONDS",
            help="with --follow: how often to check the database (default 0.5)",
        )

    def handle(self, *args, **options):
        room = room_named(options["room"])
        since = options["since"]
        after = max(0, room.last_seq - 10) if since is None else since
        try:
            if options["follow"]:
                asyncio.run(self._follow(room, after, options["interval"]))
            else:
                self._print_after(room, after)
        except KeyboardInterrupt:
            return
        except BrokenPipeError:
            # The reader went away (`| head -n 1`): stop quietly, and keep
            # Python's final flush of stdout from complaining about it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _print_after(self, room, after: int) -> int:
        """Print every stored entry with seq > `after`; the last seq printed."""
        while True:
            page = selectors.entries_after(
                room_id=room.id, slug=room.slug, after=after, limit=BATCH
            )
            for seq, text in page:
                self.stdout.write(text)
                after = seq
            self.stdout.flush()
            if len(page) < BATCH:
                return after

    async def _follow(self, room, after: int, interval: float) -> None:
        """Subscribe like a socket (rooms/realtime/hub.py): catch up from the database,
        then print live entries as the hub delivers them."""
        hub = get_hub(repair_interval=interval)
        access = await database_sync_to_async(room_stream)(room=room)
        subscription = Subscription(
            socket=Printer(self._write), room=access, since=after, present=False
        )
        feed = await hub.subscribe(subscription)

        async def print_page(page: list[str]) -> None:
            for text in page:
                self._write(text)

        try:
            await subscription.catch_up(feed, print_page)
            await asyncio.Event().wait()  # until interrupted
        finally:
            await hub.unsubscribe(subscription)
