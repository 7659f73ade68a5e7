"""project/settings.py refuses what cannot work, in one line that names the
setting (docs/deploy.md, From an empty PostgreSQL to two workers): no
secret key with DJANGO_DEBUG off, a DATABASE_URL that is no database URL or
names a role that does not exist. Run as an operator runs them: manage.py in
a process of its own."""

import os
import re
import subprocess
import sys

import pytest

from tests.harness.deployment import ROOT

OURS = ("DJANGO_", "ROOMS_", "DATABASE_URL", "REDIS_URL")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(result: subprocess.CompletedProcess) -> str:
    """The one line a refusal prints (and a non-zero exit)."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    line = refused(manage("check", DJANGO_DEBUG="0", DATABASE_URL=f"sqlite:///{tmp_path}/db"))
    assert "DJANGO_SECRET_KEY is not set" in line


def test_production_with_a_secret_key_starts(tmp_path):
    result = manage(
        "check",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="settings-test-" + "k" * 50,
        DATABASE_URL=f"sqlite:///{tmp_path}/db",
    )
    assert result.returncode == 0, result.stderr


def test_development_starts_without_a_secret_key(tmp_path):
    result = manage("check", DATABASE_URL=f"sqlite:///{tmp_path}/db")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("bogus://x", "DATABASE_URL is not a database URL (Scheme 'bogus://' is unknown)"),
        ("postgres://", "DATABASE_URL names no database"),
    ],
)
def test_a_database_url_that_is_no_database_is_one_line(url, said):
    assert said in refused(manage("check", DATABASE_URL=url))


@pytest.mark.postgres
def test_an_unknown_database_role_is_one_line(postgres_url):
    # postgres_url names the suite's server; a role nobody created there.
    url = postgres_url.replace("postgres@", "no_such_role_rooms@", 1)
    line = refused(manage("migrate", DATABASE_URL=url))
    assert line.startswith("Cannot use the database of DATABASE_URL:")
    assert "no_such_role_rooms" in line


def test_every_variable_the_settings_read_is_documented():
    """docs/operations.md, Environment, lists each variable project/settings.py
    reads, so an operator finds every knob in one table."""
    source = (ROOT / "project" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|_env_bool|_env_list)\(\s*"([A-Z_]+)"', source))
    table = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.M))
    assert read and read - documented == set()
