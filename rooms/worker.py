"""The loop of `manage.py worker` (docs/notifications.md, The worker):
django-tasks-db's worker, which in each turn also delivers a batch of due
notifications (services.away_deliver_due: the NotifyState rows are their
own queue, so a delivery costs no job of its own).

Each turn: close stale connections; deliver one batch (up to
away_delivery.BATCH rows); claim and run one job, as django-tasks-db's
worker does (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, an exclusive
transaction on SQLite); sleep `interval` when neither found anything.

SIGTERM (or SIGINT): idle, the worker exits at once; in a batch, the batch
stops before its next send and gives what it has not sent back, due at
once; in a job, the job finishes. A second signal cuts short whatever runs.
"""

import logging
import time

from django.db import close_old_connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker as TaskWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from .services import away_delivery

logger = logging.getLogger("django_tasks_db")


class Worker(TaskWorker):
    """django-tasks-db's Worker, whose loop also delivers notifications."""

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, self.queue_names)
        while self.running:
            close_old_connections()
            delivered = self._deliver()
            looked, ran = self._run_one_job() if self.running else (False, False)
            if self.batch and looked and not delivered and not ran:
                logger.info("Nothing more to run for worker_id=%s: exiting.", self.worker_id)
                return
            close_old_connections()
            if self.running and not delivered and not ran:
                time.sleep(self.interval)

    def _stopping(self) -> bool:
        return not self.running

    def _deliver(self) -> int:
        """One batch of due notifications; how many rows it took. Marked as a
        running task, so that SIGTERM lets it stop between two sends."""
        self.running_task = True
        try:
            return away_delivery.away_deliver_due(stop=self._stopping)
        except OperationalError as error:
            if not is_locked_database_exception(error):  # else SQLite was busy
                logger.exception("Delivering notifications failed; trying again.")
            return 0
        except Exception:
            # Rolled back, or what was not sent given back: the rows stay due.
            logger.exception("Delivering notifications failed; trying again.")
            return 0
        finally:
            self.running_task = False

    def _run_one_job(self) -> tuple[bool, bool]:
        """Claim one due job and run it, as django-tasks-db's own loop does:
        (whether the queue could be read, whether a job ran)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)  # RUNNING: no other worker takes it
            except OperationalError as error:
                if is_locked_database_exception(error):
                    return False, False
                raise
        if task_result is None:
            return True, False
        self.run_task(task_result)
        return True, True
