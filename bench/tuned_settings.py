"""Rooms with the database changes recommended in docs/benchmarks.md, to
measure them without touching project/settings.py: persistent database
connections (every `database_sync_to_async` call otherwise opens and closes
one; on SQLite the close of the last connection also checkpoints the WAL)."""

from project.settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
