"""The database's options by engine, for project/settings.py (which reads
the environment): SQLite in WAL mode with IMMEDIATE transactions;
PostgreSQL with a connect timeout and Django's own connection pool."""


def tune(database: dict, *, connect_timeout: int, pool_size: int) -> None:
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write
        # lock at BEGIN, so concurrent senders queue on the busy timeout instead
        # of failing with "database is locked" when a read lock is upgraded.
        database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    elif database["ENGINE"] == "django.db.backends.postgresql":
        # While PostgreSQL is unreachable a connection attempt fails within
        # these seconds, not the kernel's TCP timeout: frames get
        # `unavailable` and /healthz 503 promptly (docs/deploy.md, Database
        # outages).
        database["OPTIONS"] = {"connect_timeout": connect_timeout, **database.get("OPTIONS", {})}
        # A pool (Django's): under ASGI each HTTP request has a thread of its
        # own, whose persistent connection was opened anew for every request.
        # No check on checkout (a round trip): a dropped connection fails its
        # call, leaves the pool, and the call is retried (realtime/db.py,
        # entry_post_many).
        if pool_size:  # the pool keeps the connections instead of CONN_MAX_AGE
            database["CONN_MAX_AGE"] = 0
            database["OPTIONS"]["pool"] = {
                "min_size": min(2, pool_size),
                "max_size": pool_size,
                "timeout": connect_timeout,  # waiting for a free connection, or a new one
                # Retries of a failed connect stop after a second; the next
                # request tries at once, so a worker is healthy right after an
                # outage.
                "reconnect_timeout": 1.0,
            }
