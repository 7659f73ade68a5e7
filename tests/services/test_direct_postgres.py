"""Concurrent creation of a direct conversation on PostgreSQL
(services.direct_open): people starting the same conversation at the same
moment end with ONE room and one membership each. The loser's INSERT waits
on the unique `direct_key` until the winner commits, fails on it, and reads
the winner's room."""

import ast
import json
import threading
import urllib.request

import pytest

from tests.harness.deployment import Deployment

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

# Every thread looks the conversation up and finds none, then all wait at the
# barrier, so every one of them INSERTs: the race, every time.
RACE = """
import threading
from django.contrib.auth import get_user_model
from django.db import connection
from rooms import selectors, services

THREADS = {threads}
users = {{u.username: u for u in get_user_model().objects.all()}}
barrier = threading.Barrier(THREADS, timeout=60)
first_lookup = threading.local()
looked_up = selectors.direct_room

def direct_room(*, key):
    room = looked_up(key=key)
    if not getattr(first_lookup, "done", False):
        first_lookup.done = True
        barrier.wait()
    return room

selectors.direct_room = direct_room
results = []

def start(n):
    me, other = ("alice", "bob") if n % 2 else ("bob", "alice")
    try:
        room, created = services.direct_open(user=users[me], others=[users[other]])
        results.append((room.pk, created))
    except Exception as error:
        results.append(("error", repr(error)))
    finally:
        connection.close()

threads = [threading.Thread(target=start, args=(n,)) for n in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("@@", sorted(results, key=repr))
"""

COUNT = """
from rooms.models import Membership, Room
rooms = Room.objects.filter(kind="direct")
print("@@", rooms.count(), sorted(Membership.objects.filter(room__in=rooms)
      .values_list("user__username", flat=True)))
"""


def printed(output: str) -> str:
    return next(line[3:] for line in output.splitlines() if line.startswith("@@ "))


def test_people_starting_one_conversation_at_once_get_one_room(tmp_path, postgres_url):
    deployment = Deployment(tmp_path, database=postgres_url)
    deployment.create_users("alice", "bob")
    results = ast.literal_eval(printed(deployment.shell(RACE.format(threads=6))))
    assert [created for _, created in results].count(True) == 1, results
    assert len({room for room, _ in results}) == 1, results
    assert printed(deployment.shell(COUNT)) == "1 ['alice', 'bob']"


def test_simultaneous_api_requests_from_both_people_get_one_room(tmp_path, postgres_url):
    with Deployment(tmp_path, database=postgres_url) as deployment:
        deployment.create_users("alice", "bob")
        tokens = {name: deployment.token(name) for name in ("alice", "bob")}
        workers = [deployment.start_worker(), deployment.start_worker()]
        requests = 8
        barrier = threading.Barrier(requests, timeout=60)
        answers = []

        def start(n: int) -> None:
            me, other = ("alice", "bob") if n % 2 else ("bob", "alice")
            request = urllib.request.Request(
                workers[n % 2].http_url + "/api/direct",
                data=json.dumps({"users": [other]}).encode(),
                headers={
                    "Authorization": f"Bearer {tokens[me]}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            barrier.wait()
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.loads(response.read())))

        threads = [threading.Thread(target=start, args=(n,)) for n in range(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(answers) == requests, answers
        assert sorted(status for status, _ in answers) == [200] * (requests - 1) + [201]
        assert len({body["room"] for _, body in answers}) == 1
        assert all(body["people"] == ["alice", "bob"] for _, body in answers)
        assert printed(deployment.shell(COUNT)) == "1 ['alice', 'bob']"
        assert deployment.tracebacks() == []


# Eight people with the longest usernames Django allows: everyone's names
# joined are far longer than Room.title's column.
LONG_NAMES = """
from django.contrib.auth import get_user_model
from rooms import selectors, services

people = list(get_user_model().objects.order_by("username"))
room, created = services.direct_open(user=people[0], others=people[1:])
print("@@", created, len(room.title), room.title.endswith("…"),
      len(selectors.direct_people(user=people[0], room_id=room.id)))
"""


def test_a_group_of_eight_long_names_fits_the_title_column(tmp_path, postgres_url):
    deployment = Deployment(tmp_path, database=postgres_url)
    deployment.create_users(*(str(n) * 150 for n in range(1, 9)))
    assert printed(deployment.shell(LONG_NAMES)) == "True 200 True 7"
