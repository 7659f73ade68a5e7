"""`manage.py worker`: run the delayed jobs (rooms/tasks.py) from the
project's database, as django-tasks-db's `db_worker` does (docs/notifications.md,
The worker). Any number may run against one database: each claims a job with
SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL) or an exclusive transaction
(SQLite). On SIGTERM it exits at once when idle, or after the job it is
running (each job is short: a few queries and one send with EMAIL_TIMEOUT)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the delayed jobs (email and push notifications) from the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between looks for due jobs when there are none (default 1).",
        )
        parser.add_argument("--batch", action="store_true", help="Run the jobs due now, then exit.")

    def handle(self, *, interval: float, batch: bool, verbosity: int, **options):
        # No autoreloader: its parent process would not pass SIGTERM's
        # graceful stop on to the worker.
        call_command(
            "db_worker",
            queue_name="*",
            interval=interval,
            batch=batch,
            reload=False,
            verbosity=verbosity,
            stdout=self.stdout,
            stderr=self.stderr,
        )
