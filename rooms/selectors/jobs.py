"""The background worker's queue as an operator watches it (/metrics and
/healthz): how many jobs wait, and how late the oldest one that is due is.
A worker that runs keeps the second near zero; one that only grows means no
worker runs, or it is stuck."""

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

# A due job waiting longer than this means the worker is not keeping up.
STUCK_AFTER = timedelta(minutes=5)


def jobs_waiting() -> int:
    """Jobs not yet run, due or delayed."""
    return DBTaskResult.objects.filter(status="READY").count()


def oldest_due_seconds() -> float:
    """Seconds the oldest due job has waited past its time (0 when none). A
    job without a time of its own (`run_after` left at the backend's far
    future marker) is due from when it was enqueued."""
    ready = DBTaskResult.objects.ready()
    undated = get_date_max()
    delayed = ready.exclude(run_after=undated).aggregate(since=Min("run_after"))["since"]
    at_once = ready.filter(run_after=undated).aggregate(since=Min("enqueued_at"))["since"]
    since = min(filter(None, [delayed, at_once]), default=None)
    if since is None:
        return 0.0
    return max(0.0, (timezone.now() - since).total_seconds())


def jobs_stuck() -> bool:
    return oldest_due_seconds() > STUCK_AFTER.total_seconds()
