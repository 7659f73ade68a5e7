"""The project's settings with a psycopg connection pool (Django 5.1+,
`pip install psycopg-pool`), for `python -m bench search --search-settings
bench.search_pool_settings`: what docs/benchmarks.md ("Search") measured
against the shipped settings.

Under daphne (ASGI) Django runs each request's view on a thread of its own
(asgiref's ThreadSensitiveContext), and a connection belongs to its thread:
with the shipped `conn_max_age=600` every API request opens a new PostgreSQL
connection. A pool hands the new thread an open one.
"""

from project.settings import *  # noqa: F403
from project.settings import DATABASES

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pool and persistent connections exclude each other
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 10}
