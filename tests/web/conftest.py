"""Each page test counts reads in a cache of its own: the read budget
(rooms/budgets.py) of one test's user must not carry into the next test's
user of the same id."""

import uuid

import pytest


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    # A new in-memory cache, never a clear(): on Redis, clear() empties the
    # whole database.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }
