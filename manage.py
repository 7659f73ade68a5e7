#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    # A command works on one thread: no connection pool (the servers' is
    # ROOMS_DB_POOL), so a database it cannot use is named with the reason.
    os.environ.setdefault("ROOMS_DB_POOL", "0")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as error:
        # An unknown role or database, a server that does not answer: the
        # operator's fix is DATABASE_URL (or the server), not a traceback.
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        sys.exit(f"Cannot use the database of DATABASE_URL: {first}")


if __name__ == "__main__":
    main()
