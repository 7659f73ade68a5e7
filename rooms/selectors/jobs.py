"""The background worker's queue as an operator watches it (/metrics and
/healthz): how much waits, and how late the oldest thing that is due is.
The worker's queue is two tables: the jobs of django-tasks-db (push retries)
and the NotifyState rows with a delivery pending (the email or push of what
someone missed: docs/notifications.md), which the worker sweeps. A worker
that runs keeps the lateness near zero; one that only grows means no worker
runs, or it is stuck."""

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from . import away

# Something due waiting longer than this means the worker is not keeping up.
STUCK_AFTER = timedelta(minutes=5)


def jobs_waiting() -> int:
    """Jobs not yet run and deliveries pending, due or delayed."""
    return DBTaskResult.objects.filter(status="READY").count() + away.deliveries_waiting()


def oldest_due_seconds() -> float:
    """Seconds the oldest due job or delivery has waited past its time (0
    when none). A job without a time of its own (`run_after` left at the
    backend's far future marker) is due from when it was enqueued."""
    ready = DBTaskResult.objects.ready()
    undated = get_date_max()
    delayed = ready.exclude(run_after=undated).aggregate(since=Min("run_after"))["since"]
    at_once = ready.filter(run_after=undated).aggregate(since=Min("enqueued_at"))["since"]
    since = min(filter(None, [delayed, at_once, away.oldest_delivery_due()]), default=None)
    if since is None:
        return 0.0
    return max(0.0, (timezone.now() - since).total_seconds())


def jobs_stuck() -> bool:
    return oldest_due_seconds() > STUCK_AFTER.total_seconds()
