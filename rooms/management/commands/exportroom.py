import contextlib
import sys

from django.core.management.base import BaseCommand, CommandError

from rooms import selectors
from rooms.management.base import non_negative, room_named


class Command(BaseCommand):
    help = (
        "Export a room's log: the entries with seq > N as JSON lines, one entry a line, "
        "streamed in constant memory. Entries are messages (kind text or system, in their "
        "current state) and the changes to them (kind edit, delete or reaction, naming "
        "the message by its seq in `target`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument(
            "--since",
            type=non_negative,
            default=0,
            metavar="N",
            help="export the entries with seq > N (default 0: all)",
        )
        parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args, **options):
        room = room_named(options["room"])
        with contextlib.ExitStack() as stack:
            if options["output"]:
                try:
                    out = stack.enter_context(open(options["output"], "w", encoding="utf-8"))
                except OSError as error:
                    raise CommandError(
                        f"Cannot write {options['output']}: {error.strerror}"
                    ) from None
                write = out.write
            else:
                write = self.stdout.write
            count = self._export(room, options["since"], write)
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{count} entries exported\n")

    @staticmethod
    def _export(room, since: int, write) -> int:
        progress = sys.stderr.isatty()
        count = 0
        for text in selectors.iter_entries(room=room, since=since):
            write(text + "\n")
            count += 1
            if progress and count % 10000 == 0:
                sys.stderr.write(f"\r{count} entries")
        return count
