import sys

from django.core.management.base import BaseCommand, CommandError

from rooms import selectors
from rooms.management.base import non_negative, room_named


class Command(BaseCommand):
    help = (
        "Export a room's messages with seq > N as JSON lines (one message object a "
        "line), streamed in constant memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument("--since", type=non_negative, default=0, metavar="N")
        parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args, **options):
        room = room_named(options["room"])
        try:
            out = open(options["output"], "w", encoding="utf-8") if options["output"] else None
        except OSError as error:
            raise CommandError(f"Cannot write {options['output']}: {error.strerror}") from None
        stream = out or self.stdout
        progress = sys.stderr.isatty()
        count = 0
        try:
            for text in selectors.iter_messages(room=room, since=options["since"]):
                stream.write(text + "\n") if out else stream.write(text)
                count += 1
                if progress and count % 10000 == 0:
                    sys.stderr.write(f"\r{count} messages")
        finally:
            if out:
                out.close()
        if progress:
            sys.stderr.write(f"\r{count} messages exported\n")
