"""Packaging for operators (docs/deploy.md, Packages): the base install runs
on SQLite without psycopg, PostgreSQL comes with the `postgres` extra, the
benchmark's dependencies with `bench`, and `check --deploy` finds nothing in
the documented production environment."""

import os
import re
import secrets
import subprocess
import sys
import tomllib

from tests.harness.deployment import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0] for requirement in requirements}


def clean_env(**env: str) -> dict:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ROOMS_", "DATABASE_URL", "REDIS_URL"))
    }
    return {**base, "DJANGO_SETTINGS_MODULE": "project.settings", **env}


def test_the_base_dependencies_leave_postgresql_and_the_benchmark_to_extras():
    base = requirement_names(PYPROJECT["project"]["dependencies"])
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "psycopg" not in base and "matplotlib" not in base
    assert "prometheus-client" in base
    assert "psycopg" in requirement_names(extras["postgres"])
    assert "matplotlib" in requirement_names(extras["bench"])
    # The tests use PostgreSQL: `make test` (the dev extra) brings psycopg.
    assert "rooms[postgres]" in extras["dev"]
    assert "matplotlib" not in requirement_names(extras["dev"])


def test_make_bench_installs_the_bench_extra():
    makefile = (ROOT / "Makefile").read_text()
    bench = re.search(r"^bench: (.+)$", makefile, re.MULTILINE)[1].split()
    recipes = "".join(
        re.search(rf"^{re.escape(target)}: .*\n((?:\t.*\n)+)", makefile, re.MULTILINE)[1]
        for target in bench
        if target.startswith("$(VENV)/.bench")
    )
    assert "pip install -q -e '.[bench]'" in recipes


# Imports in a process where psycopg (and matplotlib) cannot be imported, as
# after `pip install rooms`: every module of the project, the migrations, the
# system checks and one request through the ASGI application.
WITHOUT_EXTRAS = """
import importlib, importlib.abc, pkgutil, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("psycopg", "psycopg2", "matplotlib"):
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, NotInstalled())
import django
django.setup()
import project, rooms
for package in (project, rooms):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("check", fail_level="WARNING")
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="localhost")
assert response.status_code == 200, response.content
assert not [name for name in sys.modules if name.startswith(("psycopg", "matplotlib"))]
print("ok")
"""


def test_the_base_install_runs_on_sqlite_without_psycopg(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS],
        cwd=ROOT,
        env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of a Markdown text (list items' indented ones too)."""
    blocks, current = [], None
    for line in markdown.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def documented_production_env() -> dict[str, str]:
    """The environment docs/deploy.md gives every worker (`/etc/rooms.env`),
    with the lines its Metrics and Logs sections add, and real secrets."""
    blocks = code_blocks((ROOT / "docs" / "deploy.md").read_text())
    (base,) = [block for block in blocks if "DJANGO_DEBUG=0" in block]
    assignment = re.compile(r"\s*([A-Z][A-Z0-9_]*)=(.*)")
    env = dict(m.groups() for line in base.splitlines() if (m := assignment.fullmatch(line)))
    for block in blocks:
        for name, _, documented in (line.partition("=") for line in block.splitlines()):
            if name in ("ROOMS_METRICS_TOKEN", "ROOMS_LOG_FORMAT"):
                env[name] = documented
    assert env["DJANGO_DEBUG"] == "0"
    assert env["ROOMS_LOG_FORMAT"] == "json" and "ROOMS_METRICS_TOKEN" in env
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), ROOMS_METRICS_TOKEN=secrets.token_urlsafe(32)
    )
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(**documented_production_env()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("System check identified no issues"), result.stdout
    assert "Warning" not in result.stderr, result.stderr
