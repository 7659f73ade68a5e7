"""/healthz: 200 with every check true when the database and the channel
layer answer, 503 naming the failing part otherwise."""

from datetime import timedelta

import pytest
from channels.layers import channel_layers

pytestmark = pytest.mark.django_db

IDLE = {"waiting": 0, "oldest_due_seconds": 0.0, "stuck": False}


@pytest.fixture
def fresh_layers():
    """Channels caches layer instances per process; drop them around a test
    that changes CHANNEL_LAYERS."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def test_healthz_reports_database_and_layer_ok(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "db": True, "layer": True, "jobs": IDLE}


async def test_healthz_is_503_without_a_channel_layer(async_client, settings, fresh_layers):
    settings.CHANNEL_LAYERS = {}
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "db": True, "layer": False, "jobs": IDLE}


@pytest.mark.redis
async def test_healthz_checks_a_redis_layer(async_client, settings, redis_url, fresh_layers):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "rooms-test-healthz"},
        }
    }
    try:
        response = await async_client.get("/healthz")
    finally:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match="rooms-test-healthz*"):
            client.delete(key)  # the Redis is shared: only our keys
        client.close()
    assert response.status_code == 200
    assert response.json() == {"ok": True, "db": True, "layer": True, "jobs": IDLE}


async def test_healthz_is_503_when_the_redis_layer_is_down(async_client, settings, fresh_layers):
    # Nothing listens on port 1: the layer check fails fast, the database's passes.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "db": True, "layer": False, "jobs": IDLE}


@pytest.mark.django_db(transaction=True)  # the row is read from the view's thread
async def test_healthz_says_when_the_background_worker_is_stuck_but_stays_ok(async_client):
    """A due job waiting longer than STUCK_AFTER: no worker runs, or it hangs.
    The web worker itself is fine, so the load balancer keeps it."""
    from asgiref.sync import sync_to_async
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from rooms.selectors import jobs

    late = timezone.now() - jobs.STUCK_AFTER - timedelta(seconds=30)
    await sync_to_async(DBTaskResult.objects.create)(
        status="READY",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="rooms.tasks.deliver_away",
        queue_name="default",
        backend_name="default",
        run_after=late,
    )
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["jobs"]["waiting"] == 1 and body["jobs"]["stuck"] is True
    assert body["jobs"]["oldest_due_seconds"] >= jobs.STUCK_AFTER.total_seconds()


@pytest.mark.django_db(transaction=True)
async def test_healthz_counts_a_late_notification_as_the_worker_being_stuck(
    async_client, user_factory, room_factory
):
    """The worker's other queue: a NotifyState row due long ago (its email or
    push not sent) is waiting work, and late like a job."""
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from rooms.models import NotifyState
    from rooms.selectors import jobs

    bob, lobby = (
        await sync_to_async(user_factory)("bob"),
        await sync_to_async(room_factory)("lobby"),
    )
    late = timezone.now() - jobs.STUCK_AFTER - timedelta(seconds=30)
    await sync_to_async(NotifyState.objects.create)(
        user=bob, room=lobby, channel="email", due_at=late
    )
    body = (await async_client.get("/healthz")).json()
    assert body["ok"] is True
    assert body["jobs"]["waiting"] == 1 and body["jobs"]["stuck"] is True
