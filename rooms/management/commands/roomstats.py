from django.core.management.base import BaseCommand, CommandError

from rooms import protocol, selectors

COLUMNS = ("room", "messages", "members", "online", "last activity")


class Command(BaseCommand):
    help = (
        "A table of rooms (or one ROOM): stored messages, members, users online (from the "
        "presence snapshots the running workers refresh every few seconds), last activity."
    )

    def add_arguments(self, parser):
        parser.add_argument("room", nargs="?", help="only this room's slug")

    def handle(self, *args, **options):
        rooms = selectors.room_stats(slug=options["room"])
        if options["room"] and not rooms:
            raise CommandError(f"No room {options['room']!r}.")
        rows = [
            (
                room.slug,
                str(room.message_count),
                str(room.member_count),
                str(room.online),
                protocol.timestamp(room.last_activity) if room.last_activity else "-",
            )
            for room in rooms
        ]
        widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *rows, strict=True)]
        for row in (COLUMNS, *rows):
            cells = [
                cell.ljust(width) if index in (0, len(COLUMNS) - 1) else cell.rjust(width)
                for index, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("  ".join(cells).rstrip())
