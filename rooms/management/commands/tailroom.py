import os
import sys
import time

from django.core.management.base import BaseCommand

from rooms import selectors
from rooms.management.base import non_negative, positive_seconds, room_named

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Print a room's messages with seq > N as JSON lines, one message object a line "
        "(default: the last 10). With --follow, keep printing new messages as they are "
        "stored until interrupted (Ctrl-C). --follow polls the database every --interval "
        "seconds: the database is the log, so this is simple and correct with every "
        "channel layer, including the in-memory one that never reaches this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument(
            "--since", type=non_negative, metavar="N", help="print messages with seq > N"
        )
        parser.add_argument("--follow", action="store_true", help="keep printing new messages")
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=0.5,
            metavar="SECONDS",
            help="with --follow: how often to look for new messages (default 0.5)",
        )

    def handle(self, *args, **options):
        room = room_named(options["room"])
        since = options["since"]
        last = max(0, room.last_seq - 10) if since is None else since
        try:
            last = self._print_after(room, last)
            while options["follow"]:
                time.sleep(options["interval"])
                last = self._print_after(room, last)
        except KeyboardInterrupt:
            return
        except BrokenPipeError:
            # The reader went away (`| head -n 1`): stop quietly, and keep
            # Python's final flush of stdout from complaining about it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _print_after(self, room, after: int) -> int:
        """Print every stored message with seq > `after`; the last seq printed."""
        while True:
            page = selectors.messages_after(
                room_id=room.id, slug=room.slug, after=after, limit=BATCH
            )
            for seq, text in page:
                self.stdout.write(text)
                after = seq
            self.stdout.flush()
            if len(page) < BATCH:
                return after
