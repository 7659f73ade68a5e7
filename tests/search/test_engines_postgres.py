"""tests/search/test_engines.py again, on PostgreSQL: the same selector tests
against the tsvector column and its GIN index instead of SQLite's FTS5.

The suite's database is chosen once per process (DATABASE_URL, read by
project/settings.py), so the file runs in a pytest of its own, which
creates its test database (`test_<name>`) on the server of `postgres_url`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_search_selector_tests_pass_on_postgres(postgres_url):
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        # test_engines.py asserts that this engine is the one that ran.
        "ROOMS_TEST_SEARCH_VENDOR": "postgresql",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/search/test_engines.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # The PostgreSQL-only test ran rather than skipped: this was PostgreSQL.
    assert "skipped" not in output.splitlines()[-1], output
