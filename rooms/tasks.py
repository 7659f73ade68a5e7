"""The delayed jobs of the rooms app, run by `manage.py worker` (django-tasks
with its database backend: docs/notifications.md, The worker). Each is a
thin call into the services; each may run again after an interruption and
still notify once, as the services decide from the database."""

from django_tasks import task


@task()
def deliver_away(user_id: int, room_id: int, channel: str) -> int:
    """Notify a user of what in a room still reaches them. The worker's sweep
    of due NotifyState rows does this without a job (services.away_deliver);
    this one runs the jobs enqueued before it did."""
    from .services import away_delivery  # the services enqueue jobs: no import cycle

    return away_delivery.away_deliver(user_id=user_id, room_id=room_id, channel=channel)


@task()
def push_send(subscription_id: int, payload: dict, attempt: int) -> str:
    """Try a push to one subscription again, when the push service asked to
    (429, 5xx); first pushes are sent by the worker's sweep itself."""
    from .services import away_delivery

    return away_delivery.away_push_send(
        subscription_id=subscription_id, payload=payload, attempt=attempt
    )


@task()
def forget_upload(attachment_id: str) -> bool:
    """Delete an upload a day old that no message has claimed
    (services.attachments_cleanup; `pruneuploads` sweeps what this missed)."""
    from .services import attachments_cleanup

    return attachments_cleanup.upload_forget(attachment_id=attachment_id)
