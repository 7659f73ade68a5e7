from datetime import timedelta

from django.core.management.base import BaseCommand

from rooms import services
from rooms.management.base import day_count, room_named


class Command(BaseCommand):
    help = (
        "Retention: delete the entries of the log created more than DAYS days ago (0: all "
        "of them), in one room or in every room. A message goes together with every change "
        "to it (edit, delete, reaction), however recent, so no change is left without its "
        "message. A room's newest entry, and the message it changes, are always kept, so "
        "its seq continues and clients that join with an older since are told `truncated`. "
        "Prints the number of entries deleted (with --dry-run: that would be) first on "
        "the line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=day_count, required=True, metavar="DAYS", help="age in days"
        )
        parser.add_argument("--room", metavar="ROOM", help="only this room (default: every room)")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
        )

    def handle(self, *args, **options):
        room = room_named(options["room"]) if options["room"] else None
        count = services.messages_prune(
            older_than=timedelta(days=options["older_than"]),
            room=room,
            dry_run=options["dry_run"],
        )
        where = f" in {room.slug}" if room else ""
        entries = "entry" if count == 1 else "entries"
        if options["dry_run"]:
            self.stdout.write(f"{count} {entries} would be deleted{where} (dry run)")
        else:
            self.stdout.write(f"{count} {entries} deleted{where}")
