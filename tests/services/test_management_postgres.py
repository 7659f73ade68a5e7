"""Management writes on PostgreSQL check who acts after locking the room
(services.memberships): a moderator demoted at the same moment cannot get
one more invitation or removal through. The demotion holds the room's lock
while it commits; the other write waits for it, then reads the new role."""

import pytest

from tests.harness.deployment import Deployment

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

# alice demotes mallory and keeps her transaction open for a moment; while
# it is open, mallory invites eve (or removes bob).
RACE = """
import threading
import time
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rooms import services
from rooms.errors import RoomsError

users = {{u.username: u for u in get_user_model().objects.all()}}
room = services.room_create(slug="plans", moderator=users["alice"])
services.membership_set_role(room=room, user=users["mallory"], role="moderator")
services.membership_set_role(room=room, user=users["bob"], role="member")
demoting = threading.Event()
outcome = []

def demote():
    try:
        with transaction.atomic():
            services.membership_set_role_by(
                room=room, by=users["alice"], username="mallory", role="member"
            )
            demoting.set()
            time.sleep(1.5)  # mallory's write arrives before this commits
    finally:
        connection.close()

def act():
    demoting.wait(30)
    try:
        {action}
        outcome.append("done")
    except RoomsError as error:
        outcome.append(error.code)
    finally:
        connection.close()

threads = [threading.Thread(target=demote), threading.Thread(target=act)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("@@", outcome[0], sorted(room.memberships.values_list("user__username", flat=True)))
"""

ACTIONS = {
    "invite": 'services.membership_invite_by(room=room, by=users["mallory"], username="eve")',
    "remove": 'services.membership_remove_by(room=room, by=users["mallory"], username="bob")',
}


def printed(output: str) -> str:
    return next(line[3:] for line in output.splitlines() if line.startswith("@@ "))


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_moderator_demoted_meanwhile_cannot_complete_a_management_write(
    tmp_path, postgres_url, action
):
    deployment = Deployment(tmp_path, database=postgres_url)
    deployment.create_users("alice", "mallory", "bob", "eve")
    result = printed(deployment.shell(RACE.format(action=ACTIONS[action])))
    assert result == "forbidden ['alice', 'bob', 'mallory']"


# An operator gives bob a role (the room locked, then a membership row that
# points at bob inserted) while bob's own message is being stored (bob's
# row locked, then the room's head bumped): the two must queue, not deadlock.
BESIDE_A_SEND = """
import threading
import time
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rooms import services
from rooms.services import memberships

users = {u.username: u for u in get_user_model().objects.all()}
room = services.room_create(slug="town")
locked = threading.Event()
outcome = []

def give_role():
    try:
        with transaction.atomic():
            memberships.lock_room(room)
            locked.set()
            time.sleep(1.5)  # bob's send takes his row, then waits for the room
            services.membership_set_role(room=room, user=users["bob"], role="read_only")
        outcome.append("role")
    except Exception as error:
        outcome.append(type(error).__name__)
    finally:
        connection.close()

def send():
    locked.wait(30)
    try:
        services.message_post(room=room, author=users["bob"], body="hi")
        outcome.append("sent")
    except Exception as error:
        outcome.append(type(error).__name__)
    finally:
        connection.close()

threads = [threading.Thread(target=give_role), threading.Thread(target=send)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("@@", sorted(outcome))
"""


def test_a_management_write_beside_the_members_own_send_does_not_deadlock(tmp_path, postgres_url):
    deployment = Deployment(tmp_path, database=postgres_url)
    deployment.create_users("bob")
    # Both complete, one after the other (PostgreSQL would abort one of a
    # deadlock with OperationalError); the send read bob's rights before
    # the role was committed, so it is stored.
    assert printed(deployment.shell(BESIDE_A_SEND)) == "['role', 'sent']"
