"""The manage.py commands (docs/operations.md): what each prints, the writes they
make through the services, and their clear errors for bad arguments
(a CommandError in-process; from the shell a non-zero exit, no traceback).

The live side (a CLI post reaching an open WebSocket, `tailroom --follow`)
runs against a real daphne worker: tests/integration/test_commands.py.
"""

import io
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from rooms import access, selectors, services
from rooms.errors import RoomsError
from rooms.models import ApiToken, Membership, Message, PresenceSnapshot, Room
from tests.harness.deployment import ROOT

pytestmark = pytest.mark.django_db

COMMANDS = (
    "createroom",
    "post",
    "tailroom",
    "exportroom",
    "prunemessages",
    "storeentryjson",
    "roomstats",
    "issuetoken",
    "seeddemo",
    "vapidkeys",
    "worker",
)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def lines(text: str) -> list[str]:
    return text.splitlines()


def post(room, body="hi", author=None, **extra):
    return services.message_post(room=room, author=author, body=body, check_rate=False, **extra)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_that_explains_it(name):
    command = load_command_class(get_commands()[name], name)
    text = command.create_parser("manage.py", name).format_help()
    assert len(command.help) > 40
    assert command.help.split()[0] in text


# --- createroom ------------------------------------------------------------------


def test_createroom_creates_the_room_and_prints_its_slug(alice):
    out = run("createroom", "team", "--title", "Team", "--private", "--member", "alice")
    assert out == "team\n"
    room = Room.objects.get(slug="team")
    assert (room.title, room.is_private, room.is_archived) == ("Team", True, False)
    assert Membership.objects.filter(room=room, user=alice).exists()


def test_createroom_updates_only_the_given_attributes(lobby):
    run("createroom", "lobby", "--archived")
    room = Room.objects.get(slug="lobby")
    assert (room.title, room.is_archived, room.is_private) == ("Lobby", True, False)
    assert Room.objects.count() == 1


def roles_of(slug: str) -> dict[str, str]:
    return dict(Membership.objects.filter(room__slug=slug).values_list("user__username", "role"))


def test_createroom_gives_each_user_named_the_role_of_its_option(user_factory):
    for name in ("alice", "bob", "carol", "dave"):
        user_factory(name)
    run(
        *("createroom", "team", "--member", "alice", "--member", "bob"),
        *("--moderator", "carol", "--read-only", "dave"),
    )
    assert roles_of("team") == {
        "alice": "member",
        "bob": "member",
        "carol": "moderator",
        "dave": "read_only",
    }


def test_createroom_changes_roles_and_removes_memberships_of_an_existing_room(
    room_factory, alice, bob, user_factory
):
    user_factory("carol")
    room_factory("team", is_private=True, members=[alice, bob])
    out = run("createroom", "team", "--moderator", "alice", "--remove", "bob", "--member", "carol")
    assert out == "team\n"
    assert roles_of("team") == {"alice": "moderator", "carol": "member"}
    run("createroom", "team", "--read-only", "alice", "--remove", "carol")
    assert roles_of("team") == {"alice": "read_only"}
    # Idempotent: the same arguments again change nothing; removing a
    # non-member is not an error.
    run("createroom", "team", "--read-only", "alice", "--remove", "carol")
    assert roles_of("team") == {"alice": "read_only"}
    assert Room.objects.get(slug="team").is_private is True


def test_createroom_role_changes_reach_the_access_rules(room_factory, alice):
    room = room_factory("team", is_private=True, members=[alice])
    run("createroom", "team", "--read-only", "alice")
    with pytest.raises(RoomsError) as refused:
        post(room, "hi", author=alice)
    assert refused.value.code == "forbidden"
    run("createroom", "team", "--remove", "alice")
    assert access.room_access(user=alice, slug="team") is None


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["bad slug!"], "slug"),
        (["team", "--member", "nobody"], "No user 'nobody'"),
        (["team", "--moderator", "nobody"], "No user 'nobody'"),
        (["team", "--read-only", "nobody"], "No user 'nobody'"),
        (["team", "--remove", "nobody"], "No user 'nobody'"),
        (["team", "--member", "alice", "--remove", "alice"], "a role and removed"),
        (["team", "--read-only", "alice", "--remove", "alice"], "a role and removed"),
        (["team", "--member", "alice", "--moderator", "alice"], "two roles"),
    ],
)
def test_createroom_rejects_bad_arguments(alice, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("createroom", *args)
    assert not Room.objects.exists() and not Membership.objects.exists()


def test_createroom_with_a_bad_user_changes_nothing_of_an_existing_room(room_factory, alice, bob):
    room_factory("team", members=[alice])
    for args in (
        ["--moderator", "alice", "--member", "nobody"],
        ["--remove", "alice", "--member", "alice"],
    ):
        with pytest.raises(CommandError):
            run("createroom", "team", "--title", "Changed", *args)
    assert roles_of("team") == {"alice": "member"}
    assert Room.objects.get(slug="team").title == ""


def test_createroom_repeating_a_user_with_the_same_role_is_fine(alice):
    run("createroom", "team", "--member", "alice", "--member", "alice")
    assert roles_of("team") == {"alice": "member"}


# --- post --------------------------------------------------------------------------


def test_post_stores_a_system_message_and_prints_its_seq(lobby):
    assert run("post", "lobby", "first") == "1\n"
    assert run("post", "lobby", "second") == "2\n"
    message = Message.objects.get(room=lobby, seq=2)
    assert (message.author, message.kind, message.body) == (None, "system", "second")


def test_post_as_a_user_stores_a_text_message(lobby, alice):
    run("post", "lobby", "hello", "--as", "alice")
    message = Message.objects.get(room=lobby)
    assert (message.author, message.kind) == (alice, "text")


def test_post_with_a_repeated_client_id_prints_the_original_seq_and_stores_nothing(lobby):
    assert run("post", "lobby", "once", "--client-id", "job-1") == "1\n"
    assert run("post", "lobby", "twice", "--client-id", "job-1") == "1\n"
    assert list(Message.objects.values_list("body", flat=True)) == ["once"]


def test_post_reply_to_stores_a_reply(lobby, alice):
    run("post", "lobby", "question", "--as", "alice")
    assert run("post", "lobby", "answer", "--reply-to", "1") == "2\n"
    assert Message.objects.get(room=lobby, seq=2).reply_to == 1
    with pytest.raises(CommandError, match="reply_to"):
        run("post", "lobby", "answer to nothing", "--reply-to", "9")
    with pytest.raises(CommandError, match="negative"):
        run("post", "lobby", "answer", "--reply-to", "-1")


def test_post_dash_reads_the_body_from_stdin_without_the_final_newline(lobby, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("line one\nline two\n"))
    run("post", "lobby", "-")
    assert Message.objects.get(room=lobby).body == "line one\nline two"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["nowhere", "hi"], "No room 'nowhere'"),
        (["lobby", "hi", "--as", "nobody"], "No user 'nobody'"),
        (["lobby", "   "], "empty"),
        (["lobby", "x" * 4001], "at most 4000"),
        (["lobby", "hi", "--client-id", "c" * 65], "client_id"),
    ],
)
def test_post_rejects_bad_arguments(lobby, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("post", *args)
    assert not Message.objects.exists()


def test_post_to_an_archived_room_is_refused(room_factory):
    room_factory("attic", is_archived=True)
    with pytest.raises(CommandError, match="archived"):
        run("post", "attic", "hi")


# --- issuetoken ----------------------------------------------------------------------


def test_issuetoken_prints_a_token_that_authenticates_and_stores_only_its_hash(alice):
    token = run("issuetoken", "alice").strip()
    assert services.api_token_authenticate(token=token) == alice
    stored = ApiToken.objects.get(user=alice)
    assert token not in (stored.token_hash, stored.prefix)


def test_issuetoken_revoke_prints_the_count_and_the_tokens_stop_working(alice):
    tokens = [run("issuetoken", "alice").strip() for _ in range(2)]
    assert run("issuetoken", "alice", "--revoke") == "2\n"
    assert all(services.api_token_authenticate(token=token) is None for token in tokens)


def test_issuetoken_for_an_unknown_user_is_an_error(db):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("issuetoken", "nobody")


def test_issuetoken_for_a_deactivated_user_is_an_error(user_factory):
    user_factory("gone", is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        run("issuetoken", "gone")
    assert not ApiToken.objects.exists()


# --- tailroom ------------------------------------------------------------------------


def test_tailroom_prints_the_last_ten_messages_as_json_lines(lobby):
    for n in range(1, 13):
        post(lobby, f"m{n}")
    printed = [json.loads(line) for line in lines(run("tailroom", "lobby"))]
    assert [message["seq"] for message in printed] == list(range(3, 13))
    assert printed[-1] == json.loads(
        selectors.entries_after(room_id=lobby.id, slug="lobby", after=11, limit=1)[0][1]
    )


def test_tailroom_prints_entries_of_every_kind(lobby, alice):
    post(lobby, "hello", author=alice)
    services.entry_post(room=lobby, author=alice, kind="edit", target=1, body="hello!")
    services.entry_post(room=lobby, author=alice, kind="reaction", target=1, emoji="👋")
    services.entry_post(room=lobby, author=alice, kind="delete", target=1)
    printed = [json.loads(line) for line in lines(run("tailroom", "lobby"))]
    assert [entry["kind"] for entry in printed] == ["text", "edit", "reaction", "delete"]
    assert printed[0]["deleted"] is True  # the message in its current state
    assert [entry.get("target") for entry in printed[1:]] == [1, 1, 1]


def test_tailroom_since_prints_every_message_after_it(lobby):
    for n in range(1, 13):
        post(lobby, f"m{n}")
    printed = [json.loads(line)["seq"] for line in lines(run("tailroom", "lobby", "--since", "1"))]
    assert printed == list(range(2, 13))


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["nowhere"], "No room"),
        (["lobby", "--since", "-1"], "negative"),
        (["lobby", "--since", "ten"], "not a whole number"),
        (["lobby", "--follow", "--interval", "0"], "between"),
    ],
)
def test_tailroom_rejects_bad_arguments(lobby, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("tailroom", *args)


# --- exportroom --------------------------------------------------------------------


def test_exportroom_lines_round_trip_through_the_message_schema(lobby, alice, tmp_path):
    post(lobby, "plain")
    post(lobby, 'ünïcode ✓ and "quotes"\nnewline', author=alice, client_id="c-1")
    services.entry_post(room=lobby, author=alice, kind="reaction", target=2, emoji="👍")
    services.entry_post(room=lobby, author=alice, kind="edit", target=2, body="edited ✓")
    target = tmp_path / "lobby.jsonl"
    assert run("exportroom", "lobby", "--output", str(target)) == ""
    exported = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    stored = selectors.entries_after(room_id=lobby.id, slug="lobby", after=0, limit=10)
    assert exported == [json.loads(text) for _, text in stored]
    assert [entry["kind"] for entry in exported] == ["system", "text", "reaction", "edit"]
    assert exported[1]["author"] == "alice" and exported[1]["client_id"] == "c-1"
    # Messages in their current state; the changes as they were made.
    assert exported[1]["body"] == "edited ✓" and exported[1]["reactions"] == {"👍": ["alice"]}
    assert (exported[3]["target"], exported[3]["body"]) == (2, "edited ✓")


def test_exportroom_since_skips_older_messages(lobby):
    for n in range(5):
        post(lobby, f"m{n}")
    seqs = [json.loads(line)["seq"] for line in lines(run("exportroom", "lobby", "--since", "3"))]
    assert seqs == [4, 5]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["nowhere"], "No room"),
        (["lobby", "--since", "x"], "not a whole number"),
        (["lobby", "--output", "/nonexistent-dir/out.jsonl"], "Cannot write"),
    ],
)
def test_exportroom_rejects_bad_arguments(lobby, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("exportroom", *args)


# --- prunemessages -------------------------------------------------------------------


def _age(room: Room, seqs, days: int) -> None:
    Message.objects.filter(room=room, seq__in=list(seqs)).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_prunemessages_deletes_old_messages_but_never_a_rooms_newest(lobby, room_factory):
    other = room_factory("other")
    for n in range(5):
        post(lobby, f"m{n}")
    post(other, "only")
    _age(lobby, range(1, 6), 40)
    _age(other, [1], 40)
    out = run("prunemessages", "--older-than", "30")
    assert out == "4 entries deleted\n"
    assert seqs(lobby) == [5]
    assert Message.objects.filter(room=other).count() == 1
    assert post(lobby, "after").seq == 6  # seq continues


def test_prunemessages_dry_run_counts_without_deleting(lobby):
    for n in range(3):
        post(lobby, f"m{n}")
    _age(lobby, [1, 2], 10)
    out = run("prunemessages", "--older-than", "7", "--dry-run")
    assert out == "2 entries would be deleted (dry run)\n"
    assert Message.objects.count() == 3


def test_prunemessages_room_limits_it_to_that_room(lobby, room_factory):
    other = room_factory("other")
    for room in (lobby, other):
        post(room, "old")
        post(room, "new")
    out = run("prunemessages", "--older-than", "0", "--room", "other")
    assert out == "1 entry deleted in other\n"
    assert Message.objects.filter(room=lobby).count() == 2


def seqs(room) -> list[int]:
    return list(Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))


def change(room, author, kind, target, **fields):
    return services.entry_post(
        room=room, author=author, kind=kind, target=target, check_rate=False, **fields
    ).seq


def assert_no_orphan_changes(room) -> None:
    """The log's invariant after retention: every change's message is kept."""
    messages = set(
        Message.objects.filter(room=room, kind__in=Message.MESSAGE_KINDS).values_list(
            "seq", flat=True
        )
    )
    targets = set(
        Message.objects.filter(room=room, target__isnull=False).values_list("target", flat=True)
    )
    assert targets <= messages


def test_prunemessages_deletes_a_message_with_all_its_changes_however_recent(lobby, alice, bob):
    post(lobby, "old", author=alice)  # 1
    post(lobby, "kept", author=bob)  # 2
    _age(lobby, [1], 40)
    change(lobby, alice, "edit", 1, body="old, edited")  # 3: recent, but its message is old
    change(lobby, bob, "reaction", 1, emoji="👍")  # 4
    change(lobby, bob, "reaction", 2, emoji="👍")  # 5
    post(lobby, "newest", author=bob)  # 6
    assert run("prunemessages", "--older-than", "30", "--dry-run").split()[0] == "3"
    assert run("prunemessages", "--older-than", "30").split()[0] == "3"
    assert seqs(lobby) == [2, 5, 6]
    assert_no_orphan_changes(lobby)
    kept = json.loads(
        selectors.entries_after(room_id=lobby.id, slug="lobby", after=1, limit=1)[0][1]
    )
    assert (kept["seq"], kept["reactions"]) == (2, {"👍": ["bob"]})


def test_prunemessages_deletes_old_changes_of_a_kept_message_which_keeps_its_state(
    lobby, alice, bob
):
    post(lobby, "v1", author=alice)  # 1
    change(lobby, alice, "edit", 1, body="v2")  # 2
    change(lobby, bob, "reaction", 1, emoji="🎉")  # 3
    post(lobby, "newest", author=bob)  # 4
    _age(lobby, [2, 3], 40)
    assert run("prunemessages", "--older-than", "30").split()[0] == "2"
    assert seqs(lobby) == [1, 4]
    message = json.loads(
        selectors.entries_after(room_id=lobby.id, slug="lobby", after=0, limit=1)[0][1]
    )
    assert (message["body"], message["reactions"]) == ("v2", {"🎉": ["bob"]})
    assert message["edited_at"] is not None


def test_prunemessages_never_deletes_the_newest_entry_nor_the_message_it_changes(lobby, alice, bob):
    post(lobby, "first", author=alice)  # 1
    post(lobby, "second", author=bob)  # 2
    change(lobby, alice, "edit", 1, body="first, edited")  # 3
    change(lobby, bob, "reaction", 2, emoji="👍")  # 4
    change(lobby, bob, "reaction", 1, emoji="❤️")  # 5: the newest, a change of message 1
    _age(lobby, range(1, 6), 40)
    assert run("prunemessages", "--older-than", "0").split()[0] == "2"
    # Message 1 and every change of it stay with the newest entry; message 2
    # goes, and its reaction with it.
    assert seqs(lobby) == [1, 3, 5]
    assert_no_orphan_changes(lobby)
    assert post(lobby, "after").seq == 6


def test_prunemessages_when_the_newest_entry_is_a_delete(lobby, alice):
    post(lobby, "gone soon", author=alice)  # 1
    post(lobby, "other", author=alice)  # 2
    change(lobby, alice, "delete", 1)  # 3: the newest
    _age(lobby, range(1, 4), 40)
    assert run("prunemessages", "--older-than", "0").split()[0] == "1"
    assert seqs(lobby) == [1, 3]
    assert_no_orphan_changes(lobby)


def test_prunemessages_with_zero_days_over_a_busy_log_leaves_no_orphan(lobby, alice, bob):
    previous = None
    for n in range(8):
        author = alice if n % 2 else bob
        seq = post(lobby, f"m{n}", author=author).seq
        if previous is not None:
            change(lobby, alice, "reaction", previous, emoji="👍")
        if n % 3 == 0:
            change(lobby, author, "edit", seq, body=f"m{n}!")
        previous = seq
    change(lobby, bob, "delete", 1)
    head = Room.objects.get(pk=lobby.pk).last_seq
    dry = run("prunemessages", "--older-than", "0", "--dry-run").split()[0]
    assert int(dry) > 0
    assert run("prunemessages", "--older-than", "0").split()[0] == dry
    assert_no_orphan_changes(lobby)
    assert seqs(lobby)[-1] == head


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ([], "--older-than"),
        (["--older-than", "-1"], "negative"),
        (["--older-than", "soon"], "not a whole number"),
        (["--older-than", "99999999999"], "more than"),
        (["--older-than", "1", "--room", "nowhere"], "No room"),
    ],
)
def test_prunemessages_rejects_bad_arguments(lobby, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("prunemessages", *args)


# --- storeentryjson ------------------------------------------------------------------


def test_storeentryjson_stores_what_entries_lack_and_names_a_bad_room(lobby, room_factory):
    other = room_factory("other")
    for n in range(3):
        post(lobby, f"m{n}")
    post(other, "only")
    Message.objects.update(json="")
    assert run("storeentryjson", "--room", "lobby") == "3 entries stored in lobby\n"
    assert run("storeentryjson") == "1 entry stored\n"
    assert not Message.objects.filter(json="").exists()
    with pytest.raises(CommandError, match="No room 'nowhere'"):
        run("storeentryjson", "--room", "nowhere")


# --- roomstats -----------------------------------------------------------------------


def test_roomstats_prints_a_table_of_every_room(lobby, room_factory, alice):
    room_factory("empty", members=[alice])
    post(lobby, "one")
    post(lobby, "two")
    header, *rows = lines(run("roomstats"))
    assert header.split() == ["room", "messages", "members", "online", "last", "activity"]
    cells = {row.split()[0]: row.split() for row in rows}
    assert cells["empty"] == ["empty", "0", "1", "0", "-"]
    assert cells["lobby"][:4] == ["lobby", "2", "0", "0"]
    assert cells["lobby"][4].endswith("Z")  # an ISO timestamp


def test_roomstats_counts_users_online_in_live_workers_snapshots(lobby, room_factory):
    other = room_factory("other")
    services.presence_snapshot_save(
        process_id="worker-a", rooms={lobby.id: ["alice", "bob"], other.id: ["alice"]}
    )
    services.presence_snapshot_save(process_id="worker-b", rooms={lobby.id: ["bob", "carol"]})
    # A worker that stopped refreshing its snapshot has died: not counted.
    services.presence_snapshot_save(process_id="worker-dead", rooms={lobby.id: ["dave"]})
    PresenceSnapshot.objects.filter(process_id="worker-dead").update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    _header, *rows = lines(run("roomstats"))
    online = {row.split()[0]: row.split()[3] for row in rows}
    assert online == {"lobby": "3", "other": "1"}
    services.presence_snapshot_save(process_id="worker-a", rooms={})
    _header, *rows = lines(run("roomstats", "lobby"))
    assert rows[0].split()[3] == "2"


def test_roomstats_of_one_room(lobby, room_factory):
    room_factory("other")
    _header, *rows = lines(run("roomstats", "lobby"))
    assert [row.split()[0] for row in rows] == ["lobby"]


def test_roomstats_of_an_unknown_room_is_an_error(db):
    with pytest.raises(CommandError, match="No room 'nowhere'"):
        run("roomstats", "nowhere")


# --- seeddemo ------------------------------------------------------------------------


@pytest.fixture
def development(db, settings):
    """DJANGO_DEBUG on, as `make run` has it (Django's test runner turns it off)."""
    settings.DEBUG = True


def test_seeddemo_is_idempotent(development):
    first = run("seeddemo")
    assert "room lobby" in first and "conversation in lobby" in first
    assert first.endswith("demo ready\n")
    heads = dict(Room.objects.values_list("slug", "last_seq"))
    assert run("seeddemo") == "demo ready\n"
    assert dict(Room.objects.values_list("slug", "last_seq")) == heads


def test_seeddemo_lobby_shows_a_reply_an_edit_reactions_and_a_deletion(development):
    run("seeddemo")
    lobby = Room.objects.get(slug="lobby")
    log = [json.loads(text) for text in selectors.iter_entries(room=lobby, since=0)]
    assert {entry["kind"] for entry in log} == {"system", "text", "edit", "reaction", "delete"}
    messages = {entry["seq"]: entry for entry in log if entry["kind"] in ("text", "system")}
    by_body = {message["body"]: message for message in messages.values()}
    lunch = by_body["Lunch at 12:30?"]
    assert lunch["edited_at"] is not None and lunch["author"] == "bob"
    assert lunch["reactions"] == {"👍": ["alice", "carol"]}
    assert by_body["12:30 works for me."]["reply_to"] == lunch["seq"]
    assert any(message["deleted"] for message in messages.values())
    assert {entry["author"] for entry in log} == {None, "alice", "bob", "carol"}


def test_seeddemo_gives_alice_and_bob_a_direct_conversation_and_alice_a_room_to_manage(development):
    run("seeddemo")
    alice, bob = (get_user_model().objects.get(username=name) for name in ("alice", "bob"))
    direct, created = services.direct_open(user=alice, others=[bob])
    assert not created and direct.last_seq == 1
    assert access.room_manager_access(user=alice, slug="dev").slug == "dev"


def test_seeddemo_adds_the_conversation_to_a_lobby_seeded_before_it(development):
    services.room_create_or_update(slug="lobby", title="Lobby")
    post(Room.objects.get(slug="lobby"), "Welcome to Lobby!")
    out = run("seeddemo")
    assert "room lobby" not in out and "conversation in lobby" in out
    assert Room.objects.get(slug="lobby").last_seq > 1


def test_seeddemo_in_an_archived_lobby_still_makes_the_demo(development):
    services.room_create_or_update(slug="lobby", title="Lobby", is_archived=True)
    err = io.StringIO()
    out = io.StringIO()
    call_command("seeddemo", stdout=out, stderr=err)
    assert out.getvalue().endswith("demo ready\n")
    assert Room.objects.get(slug="lobby").last_seq == 0


# --- a newcomer's path (clear words, no traceback) --------------------------------


def test_post_as_a_user_who_may_not_see_a_private_room_says_so(room_factory, user_factory):
    room_factory("team", is_private=True)
    user_factory("carol")
    with pytest.raises(CommandError, match="carol may not post in team: it is a private room"):
        run("post", "team", "hi", "--as", "carol")


def test_exportroom_to_a_full_disk_is_one_line_not_a_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for args in (["migrate", "-v0"], ["createroom", "lobby"], ["post", "lobby", "hi"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    for args in (["--output", "/dev/full"], []):
        with open("/dev/full", "w") as full:
            shell = subprocess.run(
                [sys.executable, "manage.py", "exportroom", "lobby", *args],
                cwd=ROOT,
                env=env,
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
            )
        assert shell.returncode == 1, shell.stderr
        assert shell.stderr.strip().splitlines() == [
            f"CommandError: Cannot write {args[-1] if args else 'stdout'}: No space left on device"
        ]


def test_seeddemo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"public passwords .* only with DJANGO_DEBUG on"):
        run("seeddemo")
    assert not get_user_model().objects.filter(username="admin").exists()
