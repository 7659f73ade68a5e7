import contextlib
import os
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
        target = options["output"] or "stdout"
        # Any write failure (a full disk, a closed pipe), at open or later, is
        # one line naming the target, never a traceback.
        try:
            with contextlib.ExitStack() as stack:
                if options["output"]:
                    out = stack.enter_context(open(options["output"], "w", encoding="utf-8"))
                    write = out.write
                else:
                    write = self.stdout.write
                count = self._export(room, options["since"], write)
                if not options["output"]:
                    self.stdout.flush()
        except BrokenPipeError:
            if options["output"]:
                raise CommandError(f"Cannot write {target}: the pipe closed") from None
            # `exportroom lobby | head` is a reader that has had enough.
            self._drop_stdout()
            return
        except OSError as error:
            if not options["output"]:
                self._drop_stdout()
            raise CommandError(f"Cannot write {target}: {error.strerror or error}") from None
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{count} entries exported\n")

    def _drop_stdout(self) -> None:
        """What the process's stdout still buffers would fail again at exit,
        as a second message: Python's documented remedy, stdout to devnull."""
        if getattr(self.stdout, "_out", None) is sys.__stdout__:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())

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
