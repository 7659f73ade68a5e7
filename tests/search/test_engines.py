"""selectors.search_messages on the database the suite runs on: SQLite's FTS5
by default, PostgreSQL's tsvector when DATABASE_URL names one
(tests/search/test_engines_postgres.py runs this file so). Visibility, deleted and
edited messages, the index kept by every write, ranking, filters,
highlighting, paging, and input that must give results or a clear
`invalid`, never an exception.
"""

import datetime
import os
import time

import pytest
from django.db import connection
from django.utils import timezone

from rooms import selectors, services
from rooms.errors import RoomsError
from rooms.models import Message, Room
from rooms.search import engines, parse_query
from rooms.search.query import MAX_PAGE

pytestmark = pytest.mark.django_db

# Set by tests/search/test_engines_postgres.py: the engine this run must exercise.
EXPECTED_VENDOR = os.environ.get("ROOMS_TEST_SEARCH_VENDOR")


def post(room, author, body) -> int:
    return services.message_post(room=room, author=author, body=body, check_rate=False).seq


def edit(room, author, seq, body) -> int:
    return services.entry_post(
        room=room, author=author, kind="edit", target=seq, body=body, check_rate=False
    ).seq


def delete(room, author, seq) -> int:
    return services.entry_post(
        room=room, author=author, kind="delete", target=seq, check_rate=False
    ).seq


def find(user, query, **filters) -> list[tuple[str, int]]:
    """(room slug, seq) of the hits, in order."""
    results = selectors.search_messages(user=user, query=query, **filters)
    return [(hit.room, hit.seq) for hit in results.hits]


def age(room, seq, when: datetime.datetime) -> None:
    Message.objects.filter(room=room, seq=seq).update(created_at=when)


def indexed(word: str) -> set[int]:
    """Row ids the engine's index itself holds for `word` (not joined to the
    message table, so an entry left behind by a missed update shows)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT rowid FROM rooms_message_fts WHERE rooms_message_fts MATCH %s",
                [f'"{word}"'],
            )
        else:
            cursor.execute(
                "SELECT id FROM rooms_message WHERE kind = 'text' AND NOT deleted "
                "AND search @@ plainto_tsquery('english', %s)",
                [word],
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


@pytest.fixture
def secret(room_factory, alice):
    return room_factory("secret", title="Secret", is_private=True, members=[alice])


def test_the_expected_engine_runs():
    assert connection.vendor in ("sqlite", "postgresql")
    if EXPECTED_VENDOR:
        assert connection.vendor == EXPECTED_VENDOR


def test_the_index_exists_after_every_migration():
    """A later migration that remakes rooms_message on SQLite would drop the
    FTS triggers silently: this test then fails."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert {row[0] for row in cursor.fetchall()} >= {
                "rooms_message_fts_insert",
                "rooms_message_fts_update",
                "rooms_message_fts_delete",
            }
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'rooms_message_search'"
            )
            (definition,) = cursor.fetchone()
            assert "gin" in definition and "deleted" in definition


def test_the_query_is_answered_from_the_full_text_index(alice, lobby, secret):
    post(lobby, alice, "plan me")
    parsed = parse_query("plan")
    if connection.vendor == "sqlite":
        # The searchable rows' condition and the visible rooms (rooms.access's
        # queryset, compiled into the statement), as every query states them.
        where = engines.Where.for_user(alice, parsed)
        table = engines.FTS_TABLE
        with connection.cursor() as cursor:
            cursor.execute(
                f"EXPLAIN QUERY PLAN SELECT m.id FROM {table} JOIN rooms_message m "
                f"ON m.id = {table}.rowid WHERE {table} MATCH %s AND {where}",
                [engines.Sqlite.match(parsed), *where.params],
            )
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        # FTS5 finds the rows; the messages are then read by their ids.
        assert f"SCAN {table} VIRTUAL TABLE INDEX" in plan, plan
        assert "USING INTEGER PRIMARY KEY" in plan, plan
        return
    # The searchable rows' condition, as every query states it. The visible
    # rooms' constant array is left out: on a near-empty table the planner
    # rightly reads the few rows of those rooms by the room index instead.
    where = engines.Where()
    tsquery, params = engines.Postgres.tsquery(parsed)
    with connection.cursor() as cursor:
        # A near-empty table: make every other way dearer, so the plan shows
        # whether this query's conditions imply the index's (its WHERE).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("DROP INDEX message_room_seq_messages")  # rolled back with the test
        cursor.execute(
            f"EXPLAIN SELECT m.id FROM rooms_message m WHERE {where} AND m.search @@ ({tsquery})",
            [*where.params, *params],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rooms_message_search" in plan, plan


# --- Visibility ------------------------------------------------------------------


def test_public_rooms_are_searched_by_everyone(alice, bob, lobby):
    seq = post(lobby, alice, "the harbour is open")
    assert find(bob, "harbour") == [("lobby", seq)]


def test_private_rooms_are_searched_by_their_members_only(alice, bob, secret):
    seq = post(secret, alice, "the vault code")
    assert find(alice, "vault") == [("secret", seq)]
    assert find(bob, "vault") == []


def test_direct_conversations_are_searched_by_their_people_only(alice, bob, carol, room_factory):
    room = room_factory("chat-ab", is_private=True, members=[alice, bob])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.DIRECT)
    seq = post(room, alice, "lunch tomorrow?")
    assert find(bob, "lunch") == [("chat-ab", seq)]
    assert find(carol, "lunch") == []


def test_without_a_room_filter_every_room_the_user_may_see_is_searched(alice, bob, lobby, secret):
    post(lobby, alice, "shared word")
    post(secret, alice, "shared word")
    assert {slug for slug, _ in find(alice, "shared")} == {"lobby", "secret"}
    assert {slug for slug, _ in find(bob, "shared")} == {"lobby"}


def test_a_room_the_user_cannot_see_gives_what_an_unknown_room_gives(alice, bob, secret):
    post(secret, alice, "hidden words")
    assert find(bob, "hidden in:secret") == find(bob, "hidden in:no-such-room") == []
    assert find(bob, "hidden", room="secret") == []


def test_nobody_signed_in_finds_nothing(alice, lobby):
    from django.contrib.auth.models import AnonymousUser

    post(lobby, alice, "public words")
    assert find(AnonymousUser(), "public") == []


# --- What is searchable, and the index kept current -----------------------------


def test_deleted_messages_are_never_found(alice, lobby):
    seq = post(lobby, alice, "regrettable remark")
    delete(lobby, alice, seq)
    assert find(alice, "regrettable") == []
    assert indexed("regrettable") == set()


def test_edited_messages_are_found_by_their_current_text_only(alice, lobby):
    seq = post(lobby, alice, "teh typo")
    edit(lobby, alice, seq, "the fixed text")
    assert find(alice, "typo") == []
    assert indexed("typo") == set()
    # The edit entry carries the new text too: only the message is a hit.
    assert find(alice, "fixed") == [("lobby", seq)]
    edit(lobby, alice, seq, "second thoughts")
    assert find(alice, "fixed") == []
    assert find(alice, "thoughts") == [("lobby", seq)]


def test_an_edited_then_deleted_message_leaves_the_index(alice, lobby):
    seq = post(lobby, alice, "first draft")
    edit(lobby, alice, seq, "second draft")
    delete(lobby, alice, seq)
    assert indexed("draft") == set()
    assert find(alice, "draft") == []


def test_system_messages_are_not_searched(alice, lobby):
    services.message_post(room=lobby, author=None, body="maintenance tonight")
    assert find(alice, "maintenance") == []


def test_pruned_messages_leave_the_index(alice, lobby):
    old = post(lobby, alice, "ancient history")
    post(lobby, alice, "newest")  # a room's newest entry is never pruned
    age(lobby, old, timezone.now() - datetime.timedelta(days=40))
    assert find(alice, "ancient") == [("lobby", old)]
    services.messages_prune(older_than=datetime.timedelta(days=30))
    assert find(alice, "ancient") == []
    assert indexed("ancient") == set()


def test_stemming_finds_other_forms_of_a_word(alice, lobby):
    seq = post(lobby, alice, "she was running late")
    assert find(alice, "runs") == [("lobby", seq)]


# --- Ranking ------------------------------------------------------------------


def test_more_relevant_messages_come_first(alice, lobby):
    strong = post(lobby, alice, "apple apple apple pie")
    weak = post(lobby, alice, "a long story about an apple and many other things besides")
    assert find(alice, "apple") == [("lobby", strong), ("lobby", weak)]


def test_equally_relevant_messages_come_newest_first(alice, lobby):
    first = post(lobby, alice, "banana split")
    second = post(lobby, alice, "banana split")
    third = post(lobby, alice, "banana split")
    assert find(alice, "banana") == [("lobby", third), ("lobby", second), ("lobby", first)]


# --- Syntax and filters ---------------------------------------------------------


def test_all_words_must_match(alice, lobby):
    both = post(lobby, alice, "red car")
    post(lobby, alice, "red bike")
    assert find(alice, "red car") == [("lobby", both)]


def test_a_quoted_phrase_matches_the_words_in_order(alice, lobby):
    right = post(lobby, alice, "a brown fox runs")
    post(lobby, alice, "the fox is brown")
    assert find(alice, '"brown fox"') == [("lobby", right)]


def test_excluded_words_and_phrases(alice, lobby):
    keep = post(lobby, alice, "fox in the snow")
    post(lobby, alice, "brown fox")
    post(lobby, alice, "a fox and a red hen")
    assert find(alice, 'fox -brown -"red hen"') == [("lobby", keep)]


def test_or_between_terms(alice, lobby):
    cat = post(lobby, alice, "cat food")
    dog = post(lobby, alice, "dog food")
    post(lobby, alice, "cat toys")
    post(lobby, alice, "bird food")
    assert sorted(find(alice, "cat OR dog food")) == [("lobby", cat), ("lobby", dog)]


def test_from_filters_by_author_in_any_case(alice, bob, lobby):
    mine = post(lobby, alice, "status report")
    post(lobby, bob, "status report")
    assert find(bob, "status from:alice") == [("lobby", mine)]
    assert find(bob, "status from:@ALICE") == [("lobby", mine)]
    assert find(bob, "status", author="alice") == [("lobby", mine)]
    assert find(bob, "status from:nobody") == []


def test_in_filters_by_room(alice, lobby, room_factory):
    other = room_factory("other")
    post(lobby, alice, "weekly sync")
    there = post(other, alice, "weekly sync")
    assert find(alice, "weekly in:other") == [("other", there)]
    assert find(alice, "weekly room:other") == [("other", there)]
    assert find(alice, "weekly", room="other") == [("other", there)]
    # Filters combine: two different rooms at once match nothing.
    assert find(alice, "weekly in:lobby", room="other") == []


def test_a_room_filter_names_the_room_exactly_by_its_slug_capitals_included(alice, room_factory):
    camel = room_factory("CamelRoom")
    seq = post(camel, alice, "humps ahead")
    assert find(alice, "humps in:CamelRoom") == [("CamelRoom", seq)]
    assert find(alice, "humps room:CamelRoom") == [("CamelRoom", seq)]
    assert find(alice, "humps", room="CamelRoom") == [("CamelRoom", seq)]
    # Slugs are case-sensitive: another spelling is another (here unknown) room.
    assert find(alice, "humps in:camelroom") == []
    assert find(alice, "humps", room="CAMELROOM") == []


def test_date_filters(alice, lobby):
    seqs = {}
    for day in (1, 2, 3):
        seqs[day] = post(lobby, alice, f"daily note {day}")
        age(lobby, seqs[day], timezone.make_aware(datetime.datetime(2026, 5, day, 12)))

    def days(query, **filters):
        found = {seq for _, seq in find(alice, query, **filters)}
        return sorted(day for day, seq in seqs.items() if seq in found)

    assert days("note after:2026-05-02") == [2, 3]  # from that day on
    assert days("note before:2026-05-02") == [1]  # up to that day
    assert days("note on:2026-05-02") == [2]
    assert days("note", after=datetime.date(2026, 5, 3)) == [3]
    assert days("note after:2026-05-02", before=datetime.date(2026, 5, 3)) == [2]
    assert days("note after:2026-05-03 before:2026-05-03") == []


def test_filters_alone_list_the_newest_matching_messages(alice, bob, lobby):
    first = post(lobby, alice, "one")
    post(lobby, bob, "two")
    second = post(lobby, alice, "three")
    assert find(bob, "from:alice") == [("lobby", second), ("lobby", first)]
    assert find(bob, "from:alice -three") == [("lobby", first)]
    (hit,) = selectors.search_messages(user=bob, query="from:alice -one").hits
    assert hit.snippet == [("three", False)]

    # The filters of a form (keyword arguments) count like typed ones.
    assert [
        hit.seq for hit in selectors.search_messages(user=bob, query="", author="alice").hits
    ] == [
        second,
        first,
    ]
    assert [
        hit.seq for hit in selectors.search_messages(user=bob, query=" ", room="lobby").hits
    ] == [
        second,
        2,
        first,
    ]


def test_a_hit_says_where_and_when(alice, lobby):
    seq = post(lobby, alice, "checking the details")
    edit(lobby, alice, seq, "checking the details again")
    (hit,) = selectors.search_messages(user=alice, query="details").hits
    assert (hit.room, hit.room_title, hit.seq, hit.author, hit.edited) == (
        "lobby",
        "Lobby",
        seq,
        "alice",
        True,
    )
    assert hit.created_at.endswith("Z") and hit.url == f"/rooms/lobby/#seq-{seq}"


# --- Highlighting ---------------------------------------------------------------


def test_matched_words_are_marked(alice, lobby):
    post(lobby, alice, "The quick brown foxes jumped")
    (hit,) = selectors.search_messages(user=alice, query="fox").hits
    assert hit.snippet == [("The quick brown ", False), ("foxes", True), (" jumped", False)]


def test_a_message_cannot_fake_a_highlight(alice, lobby):
    body = "\ue000fake\ue001 \U000f0000also\U000f0001 cat"
    post(lobby, alice, body)
    (hit,) = selectors.search_messages(user=alice, query="cat").hits
    assert "".join(text for text, _ in hit.snippet) == body
    assert [text for text, matched in hit.snippet if matched] == ["cat"]


def test_a_long_message_is_shown_by_an_excerpt_around_the_match(alice, lobby):
    filler = " ".join(["lorem"] * 300)
    post(lobby, alice, f"{filler} needle {filler}")
    (hit,) = selectors.search_messages(user=alice, query="needle").hits
    assert ("needle", True) in hit.snippet
    assert len("".join(text for text, _ in hit.snippet)) < 400


# --- Paging ------------------------------------------------------------------


def test_pages_and_has_more(alice, lobby):
    for n in range(25):
        post(lobby, alice, f"paged message {n}")
    pages = [
        selectors.search_messages(user=alice, query="paged", page=page, per_page=10)
        for page in (1, 2, 3)
    ]
    assert [len(page.hits) for page in pages] == [10, 10, 5]
    assert [page.has_more for page in pages] == [True, True, False]
    seqs = [hit.seq for page in pages for hit in page.hits]
    assert sorted(seqs, reverse=True) == seqs and len(set(seqs)) == 25


@pytest.mark.parametrize("page", [0, -1, MAX_PAGE + 1])
def test_a_page_out_of_range_is_invalid(alice, page):
    with pytest.raises(RoomsError) as caught:
        selectors.search_messages(user=alice, query="x", page=page)
    assert (caught.value.code, caught.value.field) == ("invalid", "page")


# --- Any input: results or a clear `invalid` ------------------------------------

ODD_QUERIES = [
    "foo AND",
    "AND OR NOT",
    "OR",
    "OR foo OR",
    '"unbalanced',
    '"',
    '""',
    "'",
    "*",
    "foo*",
    "^foo",
    "NEAR(",
    "NEAR(a b, 2)",
    "(foo",
    "foo)",
    "{a b}",
    "body:foo",
    "a:b:c",
    "col : foo",
    "-",
    "--foo",
    "- -",
    "+foo",
    "a & b | !c",
    "foo <-> bar",
    "'quote' \\ back%slash_",
    "foo\x00bar",
    "\x00",
    "\ud800 lone surrogate",
    "né café",
    "🙂 emoji",
    "日本語のテキスト",
    "from:",
    "in:",
    "from:\x00",
    "in:../../etc",
    "after:2026-02-30",
    "after:yesterday",
    "on:9999-12-31 foo",
    "before:0001-01-01 foo",
    "x" * 500,
    "x" * 501,
    "x" * 10_000,
    "the",
    " ".join(["word"] * 40),
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_any_query_gives_results_or_invalid(alice, lobby, query):
    post(lobby, alice, "foo bar né café 🙂 日本語のテキスト")
    started = time.monotonic()
    try:
        results = selectors.search_messages(user=alice, query=query)
    except RoomsError as error:
        assert error.code == "invalid" and error.field == "q", error.message
    else:
        assert isinstance(results.hits, list)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("query", ["", "   ", "***", "-foo", "\x00\x00"])
def test_a_query_without_words_or_filters_is_invalid(alice, query):
    with pytest.raises(RoomsError) as caught:
        selectors.search_messages(user=alice, query=query)
    assert (caught.value.code, caught.value.field) == ("invalid", "q")


@pytest.mark.parametrize("query", ["after:2026-13-01 foo", "on:20260501 foo", "before:x foo"])
def test_a_bad_date_is_invalid(alice, query):
    with pytest.raises(RoomsError) as caught:
        selectors.search_messages(user=alice, query=query)
    assert (caught.value.code, caught.value.field) == ("invalid", "q")


def test_search_words_that_look_like_syntax_find_their_words(alice, lobby):
    seq = post(lobby, alice, "use NEAR and AND operators")
    assert find(alice, "NEAR") == [("lobby", seq)]
    assert find(alice, "operators*") == [("lobby", seq)]
    assert find(alice, "(operators)") == [("lobby", seq)]
