from django.core.management.base import BaseCommand

from rooms import services
from rooms.management.base import room_named


class Command(BaseCommand):
    help = (
        "Store the JSON of the log's entries that have none: those stored before migration "
        "0014, and those whose JSON was cleared since (their author or a user holding a "
        "reaction on them was renamed or deleted). Such entries are served right without it, "
        "only slower (each backfill renders them). In batches of 1,000, each its own "
        "transaction: it may run while the servers serve. Prints the number stored first on "
        "the line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--room", metavar="ROOM", help="only this room (default: every room)")

    def handle(self, *args, **options):
        room = room_named(options["room"]) if options["room"] else None
        count = services.entries_json_fill(room=room)
        where = f" in {room.slug}" if room else ""
        entries = "entry" if count == 1 else "entries"
        self.stdout.write(f"{count} {entries} stored{where}")
