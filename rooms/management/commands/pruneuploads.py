from datetime import timedelta

from django.core.management.base import BaseCommand

from rooms import services
from rooms.management.base import day_count


class Command(BaseCommand):
    help = (
        "Delete the uploads that no message claimed within DAYS days (default 1), with "
        "their files. The worker deletes each one when its day is up; this sweeps what it "
        "missed (run it from cron if no worker runs). Prints the number deleted (with "
        "--dry-run: that would be) first on the line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=day_count, default=1, metavar="DAYS", help="age in days"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
        )

    def handle(self, *args, **options):
        count = services.uploads_prune(
            older_than=timedelta(days=options["older_than"]), dry_run=options["dry_run"]
        )
        uploads = "upload" if count == 1 else "uploads"
        if options["dry_run"]:
            self.stdout.write(f"{count} {uploads} would be deleted (dry run)")
        else:
            self.stdout.write(f"{count} {uploads} deleted")
