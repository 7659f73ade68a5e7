"""WebSocket handshake rules (rooms/realtime/auth.py) through the real ASGI
application: the Origin check (the request's own origin or a trusted one, as
Django's CSRF check compares them), token auth by header or query, session
cookies only with an Origin, and auth_required for a socket nobody vouches
for. A refused handshake closes before accept (daphne answers
it with HTTP 403) and is logged with its reason.
"""

import logging

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured

from rooms import services
from rooms.realtime.auth import WebSocketAuthMiddleware, origin_allowed
from tests.harness.inprocess import ORIGIN, issue_token, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


def refusals(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "rooms.realtime.auth" and record.levelno == logging.WARNING
    ]


async def assert_refused(clients, caplog, headers, reason: str, path: str = "/ws/") -> None:
    caplog.clear()
    accepted, _, _ = await clients.handshake(path, headers)
    assert not accepted
    assert any(reason in line for line in refusals(caplog)), refusals(caplog)


async def assert_auth_required(clients, headers, path: str = "/ws/") -> None:
    accepted, _, client = await clients.handshake(path, headers)
    assert accepted
    await client.expect("error", code="auth_required")
    assert await client.closed() == 4401


# --- Origin ----------------------------------------------------------------------------


def scope(origin: str, host: str = "127.0.0.1:8000", **extra) -> dict:
    """A handshake's scope as the ASGI server hands it over."""
    headers = [(b"host", host.encode()), (b"origin", origin.encode())]
    headers += [(name.encode(), value.encode()) for name, value in extra.pop("headers", {}).items()]
    return {"type": "websocket", "path": "/ws/", "headers": headers, **extra}


async def cookie(user) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={await session_cookie(user)}".encode())


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "https://127.0.0.1.evil.example", "null", "not a url"]
)
async def test_foreign_origin_is_refused_even_with_a_valid_token(clients, alice, caplog, origin):
    token = await issue_token(alice)
    headers = [bearer(token), (b"origin", origin.encode())]
    await assert_refused(clients, caplog, headers, "is not this site's origin")
    assert origin in refusals(caplog)[-1]


async def test_foreign_origin_is_refused_with_a_session_cookie(clients, alice, caplog):
    headers = [await cookie(alice), (b"origin", b"http://evil.example:8000")]
    await assert_refused(clients, caplog, headers, "is not this site's origin")


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",  # the same host on another port
        b"https://127.0.0.1:8000",  # another scheme
        b"https://localhost:1",  # another allowed host, scheme and port
        b"http://localhost:8000",  # another allowed host
        b"http://127.0.0.1",  # the default port, which is not the request's
    ],
)
@pytest.mark.parametrize("via", ["session", "token"])
async def test_an_origin_other_than_the_requests_own_is_refused(
    clients, alice, caplog, origin, via
):
    """The request's own origin is http://127.0.0.1:8000 (its Host, and no
    TLS): an allowed host on another port or scheme is another site."""
    credentials = await cookie(alice) if via == "session" else bearer(await issue_token(alice))
    headers = [credentials, (b"host", b"127.0.0.1:8000"), (b"origin", origin)]
    await assert_refused(clients, caplog, headers, "is not this site's origin")
    assert "own origin 'http://127.0.0.1:8000'" in refusals(caplog)[-1]


@pytest.mark.parametrize(
    "host, origin",
    [
        (b"127.0.0.1:8000", b"http://127.0.0.1:8000"),
        (b"localhost", b"http://localhost"),
        (b"localhost:1", b"http://localhost:1"),
    ],
)
@pytest.mark.parametrize("via", ["session", "token"])
async def test_the_requests_exact_own_origin_is_accepted(clients, alice, host, origin, via):
    credentials = await cookie(alice) if via == "session" else bearer(await issue_token(alice))
    headers = [credentials, (b"host", host), (b"origin", origin)]
    accepted, _, client = await clients.handshake("/ws/", headers)
    assert accepted
    await client.expect("hello", user="alice")


@pytest.mark.parametrize("via", ["session", "token"])
async def test_a_trusted_origin_is_accepted_and_another_is_not(
    clients, alice, caplog, settings, via
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com", "https://*.rooms.example"]
    credentials = await cookie(alice) if via == "session" else bearer(await issue_token(alice))
    for origin in (b"https://chat.example.com", b"https://eu.rooms.example"):
        headers = [credentials, (b"host", b"127.0.0.1:8000"), (b"origin", origin)]
        accepted, _, client = await clients.handshake("/ws/", headers)
        assert accepted, origin
        await client.expect("hello", user="alice")
    for origin in (b"http://chat.example.com", b"https://chat.example.com:8443"):
        headers = [credentials, (b"host", b"127.0.0.1:8000"), (b"origin", origin)]
        await assert_refused(clients, caplog, headers, "nor a trusted origin")


def test_a_secure_handshake_has_an_https_origin(settings):
    """wss (the ASGI server's scheme), or a trusted proxy's X-Forwarded-Proto
    when SECURE_PROXY_SSL_HEADER is set, as Django's request.is_secure()."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "chat.example.com"]
    assert origin_allowed(scope("https://chat.example.com", "chat.example.com", scheme="wss"))
    assert not origin_allowed(scope("http://chat.example.com", "chat.example.com", scheme="wss"))
    assert origin_allowed(scope("http://127.0.0.1:8000", scheme="ws"))
    proxied = {"headers": {"x-forwarded-proto": "https"}}
    settings.SECURE_PROXY_SSL_HEADER = None  # no proxy vouches: the header means nothing
    assert not origin_allowed(scope("https://127.0.0.1:8000", **proxied))
    assert origin_allowed(scope("http://127.0.0.1:8000", **proxied))
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(scope("https://127.0.0.1:8000", **proxied))
    assert not origin_allowed(scope("http://127.0.0.1:8000", **proxied))


async def test_a_bracketed_ipv6_allowed_host_admits_its_own_origin_only(clients, alice, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "[::1]"]
    token = await issue_token(alice)
    host = (b"host", b"[::1]:8000")
    accepted, _, client = await clients.handshake(
        "/ws/", [bearer(token), host, (b"origin", b"http://[::1]:8000")]
    )
    assert accepted
    await client.expect("hello", user="alice")
    assert not origin_allowed(scope("https://[::1]", "[::1]:8000"))


@pytest.mark.parametrize("origin", ["http://[::2]:8000", "http://[::1", "http://[::1]:x"])
def test_other_or_malformed_ipv6_origins_are_not_allowed(settings, origin):
    settings.ALLOWED_HOSTS = ["[::1]"]
    assert not origin_allowed(scope(origin, "[::1]:8000"))


def test_a_host_outside_allowed_hosts_has_no_own_origin(settings):
    """The Host is the request's own origin only once ALLOWED_HOSTS vouches
    for it (a DNS-rebound page names its own host)."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert not origin_allowed(scope("http://evil.example", "evil.example"))
    settings.CSRF_TRUSTED_ORIGINS = ["http://evil.example"]
    assert origin_allowed(scope("http://evil.example", "evil.example"))


def test_a_star_in_allowed_hosts_stops_the_application_from_starting(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com", "*"]
    with pytest.raises(ImproperlyConfigured, match="DNS rebinding"):
        WebSocketAuthMiddleware(inner=None)


async def test_a_star_in_allowed_hosts_admits_no_other_origin(clients, alice, caplog, settings):
    """Should ALLOWED_HOSTS gain a `*` after start-up, the check still holds."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "*"]
    token = await issue_token(alice)
    headers = [bearer(token), (b"origin", b"http://evil.example")]
    await assert_refused(clients, caplog, headers, "is not this site's origin")
    assert origin_allowed(scope("http://127.0.0.1:8000"))


def test_debug_without_allowed_hosts_admits_the_local_origins_only(settings):
    settings.DEBUG, settings.ALLOWED_HOSTS = True, []
    for origin, host in [
        ("http://localhost:8000", "localhost:8000"),
        ("http://[::1]:1", "[::1]:1"),
        ("http://x.localhost", "x.localhost"),
    ]:
        assert origin_allowed(scope(origin, host)), origin
    assert not origin_allowed(scope("http://evil.example", "evil.example"))
    settings.DEBUG = False
    assert not origin_allowed(scope("http://localhost:8000", "localhost:8000"))


# --- session cookies -------------------------------------------------------------------


async def test_session_cookie_with_an_allowed_origin_is_accepted(clients, alice):
    client = await clients.connect(alice, via="session")
    assert client.hello == {"type": "hello", "protocol": 2, "user": "alice"}


async def test_session_cookie_without_origin_is_refused(clients, alice, caplog):
    await assert_refused(
        clients, caplog, [await cookie(alice)], "no Origin header and no API token"
    )


async def test_no_credentials_with_an_allowed_origin_get_auth_required(clients):
    await assert_auth_required(clients, [ORIGIN])
    await assert_auth_required(clients, [ORIGIN, (b"cookie", b"sessionid=forged")])


async def test_no_credentials_and_no_origin_are_refused(clients, caplog):
    await assert_refused(clients, caplog, [], "no Origin header and no API token")
    await assert_refused(clients, caplog, [(b"authorization", b"Basic YTpi")], "no Origin")


# --- tokens ----------------------------------------------------------------------------


async def test_token_in_the_header_without_origin_is_accepted(clients, alice):
    client = await clients.connect(alice, via="header")
    assert client.hello["user"] == "alice"


async def test_token_in_the_query_is_accepted(clients, alice):
    client = await clients.connect(alice, via="query")
    await client.send({"type": "ping", "ref": "q"})
    await client.expect("pong", ref="q", heads={})


async def test_token_with_an_allowed_origin_is_accepted(clients, alice):
    client = await clients.connect(alice, via="header", origin=True)
    assert client.hello["user"] == "alice"


async def test_revoked_token_gets_auth_required_and_close_4401(clients, alice):
    token = await issue_token(alice)
    await database_sync_to_async(services.api_token_revoke_all)(user=alice)
    await assert_auth_required(clients, [bearer(token)])
    await assert_auth_required(clients, [], path=f"/ws/?token={token}")


async def test_unknown_token_or_inactive_user_gets_auth_required(clients, user_factory):
    await assert_auth_required(clients, [bearer("rooms_not-a-real-token")])
    await assert_auth_required(clients, [], path="/ws/?token=garbage")
    retired = await database_sync_to_async(user_factory)("retired", is_active=False)
    await assert_auth_required(clients, [bearer(await issue_token(retired))])


async def test_frames_after_auth_required_get_no_reply(clients):
    accepted, _, client = await clients.handshake("/ws/", [bearer("rooms_wrong")])
    assert accepted
    await client.expect("error", code="auth_required")
    assert await client.closed() == 4401
    await client.send({"type": "ping"})
    assert await client.quiet()
