"""The API's OpenAPI document against a live server (Schemathesis): a real
daphne process on SQLite, and one on PostgreSQL, serve the API; Schemathesis
sends every operation of the document requests made from it, valid and
invalid, with alice's API token. Each answer must be no 5xx, with a status,
content type, headers and body that the document declares; a method the
document does not declare must be a 405 with `Allow`; and a success must
turn into 401 without the token, or with a wrong one (Schemathesis's
`ignored_auth` check re-sends it so).

The document is the one the code makes (rooms.api.urls.api), which is what
`/api/openapi.json` serves: test_the_live_server_serves_that_document.

Random slugs, seqs and usernames name nothing, so part of the requests are
steered to what the server holds (the room `lobby` with alice's messages,
bob, carol), to reach the successes too. Each operation gets the coverage phase's
cases (every boundary the document states, each method it does not take)
and MAX_EXAMPLES random ones, so that each server's run stays well under a
minute.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection

from rooms.api.urls import api
from tests.conftest import postgres_database
from tests.harness.deployment import Deployment, http_get

pytestmark = [pytest.mark.integration]

MAX_EXAMPLES = 6
ROOM = "lobby"
# Path parameters and body fields naming what the server holds.
KNOWN = {"slug": ROOM, "username": "bob", "seq": 2}
KNOWN_IN_BODY = {"users": ["bob"], "user": "carol"}

DOCUMENT = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/")))
# Every check but one: a request the document allows may still be refused
# (400 `invalid`) for what no schema states, the server's state or two
# parameters together: a slug taken, a user or a seq that names nothing, a
# room that is no conversation, both `after` and `before`.
# And the API, like any Django view, ignores parameters and body fields it
# does not know: an extra one makes no request invalid. A request may wait
# longer than Schemathesis's 10 s on two cores shared with other suites.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"positive_data_acceptance": {"enabled": False}},
        "generation": {"allow-extra-parameters": False},
        "request-timeout": 60,
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@schema.hook("map_case")
def steer(context, case):
    """Half the valid cases, the same naming what the server holds (which
    half: a hash of what was drawn, so that Hypothesis replays a case alike)."""
    if case.meta is None or not _drawn_half(case):
        return case
    if not case.meta.is_negative_at(ParameterLocation.PATH):
        known = {name: value for name, value in KNOWN.items() if name in case.path_parameters}
        case.path_parameters = {**case.path_parameters, **known}
    if isinstance(case.body, dict) and not case.meta.is_negative_at(ParameterLocation.BODY):
        known = {name: value for name, value in KNOWN_IN_BODY.items() if name in case.body}
        case.body = {**case.body, **known}
    return case


def _drawn_half(case) -> bool:
    drawn = repr((sorted(case.path_parameters.items()), case.body))
    return zlib.crc32(drawn.encode()) % 2 == 1


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request, tmp_path_factory):
    """A daphne worker with alice (an API token), bob and carol, and the
    room lobby that alice moderates and bob is a member of, holding three of
    her messages; no rate limits, so that requests reach the code behind
    them."""
    postgres = request.param == "postgres"
    with postgres_database() if postgres else contextlib.nullcontext() as database:
        deployment = Deployment(
            tmp_path_factory.mktemp(request.param),
            database=database,
            env={"ROOMS_CREATE_RATE": "off", "ROOMS_UPLOAD_RATE": "off"},
        )
        try:
            out = deployment.shell(
                "from django.contrib.auth import get_user_model\n"
                "from rooms import services\n"
                "User = get_user_model()\n"
                "alice, _, _ = (User.objects.create_user(n) for n in ('alice', 'bob', 'carol'))\n"
                f"room = services.room_create_by(by=alice, slug={ROOM!r})\n"
                "services.membership_invite_by(room=room, by=alice, username='bob')\n"
                "for n in range(3):\n"
                "    services.message_post(room=room, author=alice, body=f'm{n}')\n"
                "print('@@' + services.api_token_issue(user=alice))\n"
            )
            token = next(line[2:] for line in out.splitlines() if line.startswith("@@"))
            worker = deployment.start_worker()
            yield Live(worker.http_url, token, deployment)
        finally:
            deployment.stop()
        assert deployment.tracebacks() == [], deployment.workers[0].log()[-3000:]


@dataclass
class Live:
    base_url: str
    token: str  # alice's
    deployment: Deployment


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_answer_matches_the_schema(case, live):
    excluded = []
    if case.operation.path.endswith("/attachments"):
        # A file is any bytes: a "negative" multipart body that Schemathesis
        # draws is still a file, and rightly stored.
        excluded.append(negative_data_rejection)
    case.call_and_validate(
        base_url=live.base_url,
        headers={"Authorization": f"Bearer {live.token}"},
        excluded_checks=excluded,
    )


def test_the_live_server_serves_that_document(live):
    status, served = http_get(f"{live.base_url}/api/openapi.json")
    assert (status, json.loads(served)) == (200, DOCUMENT)


def test_without_credentials_every_operation_answers_401_as_documented(live):
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [
            p.name for p in operation.iter_parameters() if p.location == ParameterLocation.PATH
        ]
        case = operation.Case(path_parameters={name: KNOWN[name] for name in names})
        response = case.call(base_url=live.base_url)
        assert response.status_code == 401, operation.label
        assert response.json()["error"]["code"] == "auth_required"
        assert response.headers["www-authenticate"] == ['Bearer realm="rooms"']
        case.validate_response(response)
