"""`manage.py worker`: deliver the notifications of people who are away and
run the delayed jobs (rooms/tasks.py), from the project's database
(docs/notifications.md, The worker; the loop is rooms/worker.py). Any number
may run against one database: each takes due NotifyState rows and claims
jobs with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL) or an exclusive
transaction (SQLite). On SIGTERM it exits at once when idle; in a batch of
notifications, before the next send, giving the rest back; in a job, after
it (each is short: a few queries and one send with its timeout)."""

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands import db_worker

from ...worker import Worker


class Command(BaseCommand):
    help = "Deliver email and push notifications, and run the delayed jobs, from the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between looks for due work when there is none (default 1).",
        )
        parser.add_argument("--batch", action="store_true", help="Do what is due now, then exit.")

    def handle(self, *, interval: float, batch: bool, verbosity: int, **options):
        # django-tasks-db's logging: a line per job at verbosity 1.
        db_worker.Command(stdout=self.stdout, stderr=self.stderr).configure_logging(verbosity)
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        # No autoreloader: its parent process would not pass SIGTERM's
        # graceful stop on to the worker.
        worker.configure_signals()
        worker.run()
