"""Fixtures shared by the whole suite: users, rooms, and the outside services
(PostgreSQL, Redis, Chromium) that some tests need.

A test that needs a service it cannot reach is skipped with the reason, unless
ROOMS_REQUIRE_SERVICES=1 (set by .ci/run): then the skip becomes a failure,
so CI cannot pass without running them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.harness import frames

REQUIRE_SERVICES = os.environ.get("ROOMS_REQUIRE_SERVICES") == "1"
POSTGRES_HOST = os.environ.get("ROOMS_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("ROOMS_TEST_REDIS", "redis://127.0.0.1:6379")
# Our own Redis database number, so tests never touch anybody else's keys.
REDIS_TEST_DB = int(os.environ.get("ROOMS_TEST_REDIS_DB", "13"))


def missing_service(reason: str):
    """Skip, or fail when the services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """On SQLite, the test database is a file in WAL mode like production's,
    not Django's shared-cache in-memory one: the realtime runtime reads from
    several threads, and a shared cache locks whole tables against that."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The .mo files are built, not kept in git (`make test` builds them
    first): pytest run alone compiles those out of date, so the pages of
    the tests that ask for German, and the servers they start, have them."""
    from django.core.management import call_command

    call_command("compiletranslations", verbosity=0)


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in LANGUAGE_CODE: a request through Django's test
    client leaves the language it activated (German, say) active in this
    thread after it returns, for whatever the next test calls directly."""
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made in most tests; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test counts reads (the read budget, rooms/budgets.py) in a cache
    of its own, so one test's user does not spend the next one's budget of
    the same id. A new in-memory cache, never a clear(): on Redis, clear()
    empties the whole database."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def attachments_in_tmp(settings, tmp_path_factory):
    """Uploaded files go to a directory of the test's own, never into the
    checkout's media/ (settings.STORAGES: Django renews its storages)."""
    storages = {**settings.STORAGES}
    storages["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("media")), "base_url": None},
    }
    settings.STORAGES = storages


@pytest.fixture(autouse=True)
def read_budget_mid_window(monkeypatch):
    """The read budget counts in fixed windows (rooms/budgets.py): a test
    that crossed a window's edge would find its budget renewed halfway. The
    budget's clock stands still at the test's start; a test about windows
    moves it itself."""
    now = time.time()
    monkeypatch.setattr("rooms.budgets.clock", lambda: now)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    frames.failures.clear()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A server frame that docs/asyncapi.yaml does not describe fails the
    test that received it, also when a client's background reader got it
    (tests/harness/frames.py)."""
    try:
        result = yield
    except frames.FrameError:
        frames.failures.clear()  # raised where it was received: said once
        raise
    _frames_matched()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    _frames_matched()  # frames read while fixtures closed their sockets
    return result


def _frames_matched() -> None:
    if frames.failures:
        first, count = frames.failures[0], len(frames.failures)
        frames.failures.clear()
        raise frames.FrameError(f"{count} server frame(s) did not match; the first: {first}")


@pytest.fixture
def redis_url() -> str:
    """A Redis URL on our own database number, with a unique key prefix per
    test set by tests.harness.deployment.Deployment."""
    if not _reachable("127.0.0.1", 6379):
        missing_service("Redis is not reachable on 127.0.0.1:6379")
    return f"{REDIS_HOST}/{REDIS_TEST_DB}"


@contextlib.contextmanager
def postgres_database():
    """A fresh PostgreSQL database's URL, dropped afterwards."""
    if not _reachable("127.0.0.1", 5432):
        missing_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"rooms_test_{uuid.uuid4().hex[:10]}"
    admin_url = f"{POSTGRES_HOST}/postgres"
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        missing_service(f"cannot create a PostgreSQL database: {error}")
    try:
        yield f"{POSTGRES_HOST}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def user_factory(db):
    from django.contrib.auth import get_user_model

    def make(username: str | None = None, **fields):
        User = get_user_model()
        user = User.objects.create_user(
            username=username or f"user-{uuid.uuid4().hex[:8]}", password="test-pass-123"
        )
        for key, value in fields.items():
            setattr(user, key, value)
        if fields:
            user.save()
        return user

    return make


@pytest.fixture
def alice(user_factory):
    return user_factory("alice")


@pytest.fixture
def bob(user_factory):
    return user_factory("bob")


@pytest.fixture
def lobby(room_factory):
    return room_factory("lobby", title="Lobby")


@pytest.fixture
async def clients():
    """Opens WebSocket communicators for a test and closes them all after it
    (tests/harness/inprocess.py)."""
    from tests.harness.inprocess import Clients

    async with Clients() as opened:
        yield opened


@pytest.fixture
def room_factory(db):
    from rooms import services

    def make(slug: str | None = None, **fields):
        room, _ = services.room_create_or_update(
            slug=slug or f"room-{uuid.uuid4().hex[:8]}",
            title=fields.pop("title", None),
            is_private=fields.pop("is_private", None),
            is_archived=fields.pop("is_archived", None),
            roles={user: "member" for user in fields.pop("members", ())},
        )
        return room

    return make
