"""`/healthz`: whether this process can reach the database and the channel
layer (docs/deploy.md, Health). Load balancers take a worker out on 503.

It answers within about TIMEOUT seconds whatever the database does: the probe
runs on a thread of its own (not behind the worker's queue of database work,
which an outage makes slow), with a statement timeout, and is given up after
TIMEOUT; a new connection fails within the connect timeout of DATABASES.
"""

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.http import JsonResponse

from ..events import LOCAL_CHANNEL_PREFIX
from ..selectors import jobs

logger = logging.getLogger(__name__)

TIMEOUT = 2.0


def _database_ok() -> bool:
    # A connection that failed before (the database went away) is replaced.
    connection.close_if_unusable_or_obsolete()
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [int(TIMEOUT * 1000)])
                cursor.execute("SELECT 1")
        else:  # SQLite: no transaction, which would queue behind the writer
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


async def _database_ok_within_timeout() -> bool:
    try:
        async with asyncio.timeout(TIMEOUT):
            return await sync_to_async(_database_ok, thread_sensitive=False)()
    except TimeoutError:
        logger.warning("database check: no answer within %ss", TIMEOUT)
        return False


async def _layer_ok() -> bool:
    """A round trip through the layer on a process-local channel."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async with asyncio.timeout(TIMEOUT):
            channel = await layer.new_channel(prefix=LOCAL_CHANNEL_PREFIX)
            await layer.send(channel, {"type": "healthz"})
            await layer.receive(channel)
        return True
    except Exception:
        logger.warning("channel layer check failed", exc_info=True)
        return False


def _jobs() -> dict | None:
    """The background worker's queue, notifications and jobs
    (docs/notifications.md, The worker).
    Said, not judged: a stuck worker must not take the web workers out of
    the load balancer, so `ok` does not depend on it."""
    try:
        late = jobs.oldest_due_seconds()
        return {
            "waiting": jobs.jobs_waiting(),
            "oldest_due_seconds": round(late, 1),
            "stuck": late > jobs.STUCK_AFTER.total_seconds(),
        }
    except Exception:
        logger.warning("job queue check failed", exc_info=True)
        return None


async def healthz(request):
    database = await _database_ok_within_timeout()
    layer = await _layer_ok()
    ok = database and layer
    answer = {"ok": ok, "db": database, "layer": layer}
    if database:
        answer["jobs"] = await sync_to_async(_jobs, thread_sensitive=False)()
    return JsonResponse(answer, status=200 if ok else 503)
