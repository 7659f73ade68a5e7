"""The HTTP side of docs/security.md through Django's test client: login
throttling, the Content-Security-Policy of every page type (and pages that
need no inline script or style to pass it), the settings that switch sign-up
and HSTS preloading, and the shipped nginx config's logs.

The admin's privileges: tests/admin/test_privileges.py. Origins:
tests/realtime/test_auth.py. Tokens in real servers' logs: tests/integration/test_security.py.
"""

import logging
import os
import re
import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings

from project.logfilters import RedactTokens

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
WRONG = "not-the-password-1234"
RIGHT = "test-pass-123"  # tests/conftest.py, user_factory


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def refused(response) -> bool:
    return response.status_code == 429 and "Too many failed logins" in response.content.decode()


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- login throttling ---------------------------------------------------------------------


def test_ten_failures_lock_that_username_from_that_address_whatever_the_password(
    client, alice, caplog
):
    caplog.set_level(logging.INFO)
    responses = [attempt(client, "alice", WRONG) for _ in range(25)]
    # Nine failures answer with the form's error; the tenth locks, and from
    # then on every attempt is refused.
    assert [r.status_code for r in responses[:9]] == [200] * 9
    assert all(refused(r) for r in responses[9:])
    assert int(responses[-1]["Retry-After"]) == 15 * 60
    response = attempt(client, "alice", RIGHT)
    assert refused(response) and not logged_in(client)
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        "login refused (429)" in line and "'alice'" in line and "127.0.0.1" in line
        for line in lines
    ), lines
    assert not any(WRONG in line or RIGHT in line for line in lines)


def test_a_usernames_lock_spares_other_addresses_and_other_usernames_below_the_address_limit(
    client, alice, bob, django_user_model
):
    for _ in range(10):
        attempt(client, "alice", WRONG)
    assert refused(attempt(client, "alice", RIGHT))
    # The same username from another address.
    assert attempt(client, "alice", RIGHT, address="10.1.2.3").status_code == 302
    client.logout()
    # Another username from the locked address: its 10 failures are far
    # from the address's own limit (50).
    assert attempt(client, "bob", RIGHT).status_code == 302
    client.logout()
    assert refused(attempt(client, "alice", RIGHT))


def test_fifty_failures_from_one_address_across_usernames_lock_that_address(client, alice, caplog):
    """One address may not try a few passwords against every username: 50
    failures within 15 minutes, whatever the usernames, lock the address."""
    caplog.set_level(logging.INFO)
    responses = [attempt(client, f"someone-{n}", WRONG) for n in range(50)]
    assert [r.status_code for r in responses[:49]] == [200] * 49
    assert refused(responses[49])
    assert "from your address" in responses[49].content.decode()
    # Every username, the right password too, from that address.
    assert refused(attempt(client, "alice", RIGHT)) and not logged_in(client)
    assert refused(attempt(client, "someone-new", WRONG))
    # Other addresses are not affected.
    assert attempt(client, "alice", RIGHT, address="10.1.2.3").status_code == 302
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        "login refused (429)" in line and "from 127.0.0.1" in line and "any username" in line
        for line in lines
    ), lines
    # And it ends with the cool-off.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    client.logout()
    assert attempt(client, "alice", RIGHT).status_code == 302


def test_a_successful_login_does_not_clear_the_addresss_failures(client, alice, bob):
    """A login to an account of one's own clears that account's failures only:
    else it would reset the address's count before every 50th guess."""
    for n in range(49):
        attempt(client, f"someone-{n}", WRONG)
    assert attempt(client, "bob", RIGHT).status_code == 302
    client.logout()
    assert refused(attempt(client, "someone-49", WRONG))


def test_a_lock_ends_after_fifteen_minutes(client, alice):
    for _ in range(10):
        attempt(client, "alice", WRONG)
    assert refused(attempt(client, "alice", RIGHT))
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert refused(attempt(client, "alice", RIGHT))
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=2))
    assert attempt(client, "alice", RIGHT).status_code == 302


def test_failures_older_than_fifteen_minutes_do_not_count(client, alice):
    for _ in range(9):
        attempt(client, "alice", WRONG)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert attempt(client, "alice", WRONG).status_code == 200
    assert attempt(client, "alice", RIGHT).status_code == 302


def test_a_successful_login_clears_the_failures(client, alice):
    for _ in range(9):
        attempt(client, "alice", WRONG)
    assert attempt(client, "alice", RIGHT).status_code == 302
    client.logout()
    for _ in range(9):
        assert attempt(client, "alice", WRONG).status_code == 200


def test_the_admin_login_counts_and_is_refused_alike(client, user_factory):
    user_factory("boss", is_staff=True)
    for _ in range(5):
        attempt(client, "boss", WRONG)
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": WRONG})
    response = client.post("/admin/login/", {"username": "boss", "password": RIGHT})
    assert refused(response) and not logged_in(client)


# --- Content-Security-Policy ------------------------------------------------------------

DIRECTIVES = {
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self' ws://testserver wss://testserver",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}
# What the policy would block in a page: a <script> with no src that is not a
# JSON data block, a style attribute or element, an inline event handler, a
# javascript: URL.
INLINE = re.compile(
    r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>"
    r"|<style\b|\sstyle=|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in header.split(";"))


def page_types(client, user_factory, room_factory) -> dict[str, object]:
    """Every kind of page the project serves, by name: its response."""
    room = room_factory("lobby")
    pages = {
        "login": client.get(LOGIN),
        "login refused": None,
        "signup": client.get("/accounts/signup/"),
        "not found": client.get("/nope/"),
        "healthz": client.get("/healthz"),
        "api": client.get("/api/rooms/"),
    }
    for _ in range(10):
        attempt(client, "nobody", WRONG, address="10.9.9.9")
    pages["login refused"] = attempt(client, "nobody", WRONG, address="10.9.9.9")
    boss = user_factory("boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    pages |= {
        "room list": client.get("/"),
        "room": client.get("/rooms/lobby/"),
        "admin index": client.get("/admin/"),
        "admin changelist": client.get("/admin/rooms/message/"),
        "admin change form": client.get(f"/admin/rooms/room/{room.pk}/change/"),
        "admin post": client.get("/admin/rooms/message/post/"),
        "admin token": client.get("/admin/rooms/apitoken/add/"),
        "admin token issued": client.post("/admin/rooms/apitoken/add/", {"user": boss.pk}),
    }
    client.logout()
    pages["logged out"] = client.get("/accounts/login/")
    return pages


@override_settings(ROOMS_SIGNUP=True)
def test_every_page_type_carries_the_policy_and_needs_no_inline_script_or_style(
    client, user_factory, room_factory
):
    pages = page_types(client, user_factory, room_factory)
    assert pages["login refused"].status_code == 429
    for name, response in pages.items():
        assert response.status_code < 500, name
        directives = policy(response)
        for directive, sources in DIRECTIVES.items():
            assert directives.get(directive) == sources, (name, directive, directives)
        if response["Content-Type"].startswith("text/html"):
            found = INLINE.findall(response.content.decode())
            assert found == [], (name, found)


def test_the_room_page_loads_its_modules_without_an_import_map(client, alice, room_factory):
    room_factory("lobby")
    client.force_login(alice)
    html = client.get("/rooms/lobby/").content.decode()
    assert "importmap" not in html
    assert '<script type="module" src="/static/rooms/app.js"></script>' in html


def test_collected_modules_import_each_other_by_their_hashed_names(tmp_path, settings):
    """Production pages link the hashed app.js; its imports must name hashed
    files too, or a deploy would mix versions kept by the caches."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "project.staticfiles.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    source_root = ROOT / "rooms/static/rooms"
    modules = sorted(path.relative_to(source_root) for path in source_root.rglob("*.js"))
    hashed = {
        module: re.compile(rf"^{re.escape(str(module.with_suffix('')))}\.[0-9a-f]{{12}}\.js$")
        for module in modules
    }
    collected_root = tmp_path / "rooms"
    collected = {str(path.relative_to(collected_root)) for path in collected_root.rglob("*.js")}
    imports_seen = 0
    for module in modules:
        (name,) = [n for n in collected if hashed[module].match(n)]
        source = (collected_root / name).read_text()
        for target in re.findall(r"""from\s+["'](\.[^"']+)["']""", source):
            imports_seen += 1
            resolved = os.path.normpath(os.path.join(os.path.dirname(name), target))
            assert any(pattern.match(resolved) for pattern in hashed.values()), (name, target)
            assert resolved in collected, (name, target)
    assert imports_seen >= len(modules) - 2  # the vendored libraries import nothing


# --- settings -----------------------------------------------------------------------------


def settings_with(monkeypatch, **env: str) -> dict:
    """project/settings.py run afresh with `env` (the test's own settings stay)."""
    for name in ("DJANGO_DEBUG", "ROOMS_SIGNUP", "DJANGO_HSTS_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "settings-test-" + "k" * 50)
    return runpy.run_path(str(ROOT / "project/settings.py"))


@pytest.mark.parametrize(
    ("env", "signup"),
    [
        ({"DJANGO_DEBUG": "1"}, True),
        ({"DJANGO_DEBUG": "0"}, False),
        ({"DJANGO_DEBUG": "0", "ROOMS_SIGNUP": "1"}, True),
        ({"DJANGO_DEBUG": "1", "ROOMS_SIGNUP": "0"}, False),
    ],
)
def test_signup_is_on_with_debug_and_off_in_production_unless_set(monkeypatch, env, signup):
    assert settings_with(monkeypatch, **env)["ROOMS_SIGNUP"] is signup


def test_the_read_budget_is_generous_by_default_and_can_be_switched_off(monkeypatch):
    monkeypatch.delenv("ROOMS_READ_RATE", raising=False)
    assert settings_with(monkeypatch)["ROOMS_READ_RATE"] == (120, 60.0)
    assert settings_with(monkeypatch, ROOMS_READ_RATE="30/10")["ROOMS_READ_RATE"] == (30, 10.0)
    assert settings_with(monkeypatch, ROOMS_READ_RATE="off")["ROOMS_READ_RATE"] is None


def test_the_cache_the_budget_counts_in_is_redis_when_configured(monkeypatch):
    """Shared by every worker through Redis, under a key prefix of its own;
    without Redis, the process's memory (one worker)."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("ROOMS_REDIS_PREFIX", raising=False)
    local = settings_with(monkeypatch)["CACHES"]["default"]
    assert local["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = settings_with(monkeypatch, REDIS_URL="redis://10.0.0.5:6379/2")
    cache = shared["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://10.0.0.5:6379/2"
    assert cache["KEY_PREFIX"] == "rooms-cache"
    assert cache["KEY_PREFIX"] != shared["CHANNEL_LAYERS"]["default"]["CONFIG"]["prefix"]


def test_hsts_preload_is_opt_in(monkeypatch):
    production = settings_with(monkeypatch, DJANGO_DEBUG="0")
    assert production["SECURE_HSTS_SECONDS"] > 0 and production["SECURE_HSTS_PRELOAD"] is False
    assert settings_with(monkeypatch, DJANGO_DEBUG="0", DJANGO_HSTS_PRELOAD="1")[
        "SECURE_HSTS_PRELOAD"
    ]


# --- secrets in logs ------------------------------------------------------------------------


def test_the_log_filter_redacts_every_token_value():
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/ws/?a=1&token=rooms_s3cret&b=2"),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5 - "WebSocket /ws/?a=1&token=[redacted]&b=2" [accepted]'
    )


def test_the_shipped_nginx_config_logs_no_query_string():
    """Every access_log names the `rooms` format (or is off), and that format
    has the path without its query: $uri, never $request, $request_uri,
    $args, $query_string or an $arg_ variable."""
    config = (ROOT / "deploy/nginx.conf").read_text()
    config = re.sub(r"#[^\n]*", "", config)
    (log_format,) = re.findall(r"log_format\s+rooms\s+([^;]+);", config)
    assert "$uri" in log_format
    assert not re.search(r"\$(request\b|request_uri|args|query_string|arg_)", log_format)
    access_logs = re.findall(r"access_log\s+([^;]+);", config)
    assert access_logs
    for directive in access_logs:
        assert directive.strip() == "off" or directive.split()[1:2] == ["rooms"], directive


def test_pictures_from_a_bucket_are_allowed_from_its_host_only(client, settings):
    # A file's address redirects to a presigned one on the bucket's host
    # (docs/attachments.md): the page must be allowed to show it.
    assert policy(client.get(LOGIN))["img-src"] == "'self' data:"
    settings.ROOMS_S3_BUCKET = "files"
    settings.ROOMS_S3_ENDPOINT_URL = "https://s3.example.org:9000/"
    assert policy(client.get(LOGIN))["img-src"] == "'self' data: https://s3.example.org:9000"
    settings.ROOMS_S3_ENDPOINT_URL = None
    assert policy(client.get(LOGIN))["img-src"] == "'self' data: https://*.amazonaws.com"
