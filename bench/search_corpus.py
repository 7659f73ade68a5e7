"""The search benchmark's corpus (issue 11): a deterministic chat log of
rooms, people and messages, and the code that runs inside a Django process
against the benchmark's database (seeding, timing the selector alone).

Everything is drawn from `random.Random(SEED)`, so the same `count` always
gives the same rooms, members, bodies, authors and timestamps:

- a vocabulary of `VOCABULARY` made-up English-ish words (consonant/vowel
  syllables, none of them an English stop word) used with Zipf-like
  frequencies (weight 1 / (rank + ZIPF_Q)^ZIPF_S), plus real function words ("the",
  "to", "and", ...) as a third of the tokens, as in real chat; a few
  fixed two-word collocations give phrases something to find;
- message lengths of 3-30 words, mostly short;
- `ROOMS` rooms (every fifth one private, its members chosen at random),
  busy and quiet ones (Zipf-like weights), `USERS` users, some talkative;
- created_at spread evenly over one year, in the order the log is written.

Seeding goes through `services.entry_post_many`, the one path that
allocates seqs (G1), in group commits of `BATCH` entries over `BATCH_ROOMS`
rooms. The service stamps `created_at` with `timezone.now()`; the seeding
process runs under a simulated clock (`_SimulatedClock`) that advances one
step per call, so the year of history is written in minutes without a
second pass over the table.

Nothing here imports Django at module level: the orchestrator
(bench/search.py) uses the vocabulary and the queries without it.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import time
from datetime import UTC, datetime, timedelta

SEED = 11
CORPUS_VERSION = 1  # bump when anything below changes what is seeded
VOCABULARY = 6000
ZIPF_S = 1.1
ZIPF_Q = 8  # Zipf-Mandelbrot offset: the most common word is in ~16 % of messages
ROOMS = 200
USERS = 500
PRIVATE_EVERY = 5  # room i is private when i % 5 == 4: 40 of 200
FILLER_SHARE = 0.33
BATCH = 2000
BATCH_ROOMS = 16
SEARCHER = "user000"  # the user who searches: a member of PRIVATE_OF_SEARCHER private rooms
PRIVATE_OF_SEARCHER = 8
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)

FILLER = (
    "the", "to", "and", "i", "a", "it", "is", "you", "that", "of", "in", "for",
    "we", "on", "this", "so", "but", "not", "be", "with", "just", "are", "have",
    "if", "was", "at", "do", "can", "me", "my",
)  # fmt: skip

# PostgreSQL's English stop words of 4+ letters (shorter words are never made).
_STOP_WORDS = (
    "about above after again against because been before being below between both does "
    "doing down during each from further have having here hers herself himself into "
    "itself just more most myself once only other ours ourselves over same should some "
    "such than that their theirs them themselves then there these they this those "
    "through under until very were what when where which while whom will with your "
    "yours yourself yourselves"
)
STOP = frozenset(_STOP_WORDS.split())
_ONSETS = (
    "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l",
    "m", "n", "p", "pl", "pr", "r", "s", "sh", "sl", "sp", "st", "t", "th", "tr", "v",
    "w", "z",
)  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "oo", "ou", "y")
_CODAS = ("", "", "n", "r", "t", "l", "m", "nd", "ck", "ng", "rk", "x", "p")


def vocabulary() -> list[str]:
    """`VOCABULARY` distinct words, most frequent first."""
    rng = random.Random(SEED)
    words: list[str] = []
    seen: set[str] = set()
    for _ in range(VOCABULARY * 50):  # bounded: far more tries than needed
        if len(words) == VOCABULARY:
            break
        syllables = rng.choice((1, 2, 2, 2, 3, 3))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        # Plural-looking or stop words would fold into other lexemes.
        if len(word) < 4 or len(word) > 12 or word in STOP or word.endswith(("s", "e", "y")):
            continue
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def weights(n: int) -> list[float]:
    return [1.0 / (rank + ZIPF_Q) ** ZIPF_S for rank in range(1, n + 1)]


def expected_share(rank: int, mean_words: float = 11.0) -> float:
    """Roughly the share of messages holding the word of `rank` (1-based)."""
    every = weights(VOCABULARY)
    per_token = (1 - FILLER_SHARE) * every[rank - 1] / sum(every)
    return 1 - (1 - per_token) ** mean_words


def collocations(words: list[str]) -> list[tuple[str, str]]:
    """Fixed word pairs (like "pull request") written together now and then."""
    rng = random.Random(SEED + 1)
    return [(rng.choice(words[20:400]), rng.choice(words[20:400])) for _ in range(40)]


def usernames() -> list[str]:
    return [f"user{i:03d}" for i in range(USERS)]


def room_slugs() -> list[str]:
    return [f"room-{i:03d}" for i in range(ROOMS)]


def is_private(index: int) -> bool:
    return index % PRIVATE_EVERY == PRIVATE_EVERY - 1


def members() -> dict[int, list[int]]:
    """{private room index: member user indexes}; the searcher is in the
    first PRIVATE_OF_SEARCHER private rooms and in no other."""
    rng = random.Random(SEED + 2)
    result = {}
    privates = [i for i in range(ROOMS) if is_private(i)]
    for n, room in enumerate(privates):
        chosen = set(rng.sample(range(1, USERS), rng.randint(8, 60)))
        if n < PRIVATE_OF_SEARCHER:
            chosen.add(0)
        result[room] = sorted(chosen)
    return result


class Corpus:
    """The stream of (room index, author index, body), deterministic."""

    def __init__(self):
        self.words = vocabulary()
        self.cum = list(itertools.accumulate(weights(len(self.words))))
        self.pairs = collocations(self.words)
        self.room_cum = list(itertools.accumulate(1.0 / (r + 1) ** 0.8 for r in range(ROOMS)))
        self.user_cum = list(itertools.accumulate(1.0 / (u + 1) ** 0.6 for u in range(USERS)))
        self.members = members()
        self.rng = random.Random(SEED + 3)
        # Room order by activity: a shuffled list, so busy rooms are not all
        # public or all private.
        self.room_rank = list(range(ROOMS))
        random.Random(SEED + 4).shuffle(self.room_rank)

    def body(self) -> str:
        rng = self.rng
        length = 3 + int(27 * rng.random() ** 2.2)
        tokens = []
        picks = rng.choices(self.words, cum_weights=self.cum, k=length)
        for word in picks:
            tokens.append(rng.choice(FILLER) if rng.random() < FILLER_SHARE else word)
        if rng.random() < 0.03:
            at = rng.randrange(len(tokens))
            tokens[at : at + 1] = list(rng.choice(self.pairs))
        return " ".join(tokens)

    def batch_rooms(self) -> list[int]:
        picks = {
            self.room_rank[bisect.bisect_left(self.room_cum, self.rng.random() * self.room_cum[-1])]
            for _ in range(BATCH_ROOMS)
        }
        return sorted(picks)

    def author(self, room: int) -> int:
        allowed = self.members.get(room)
        if allowed:
            return self.rng.choice(allowed)
        return bisect.bisect_left(self.user_cum, self.rng.random() * self.user_cum[-1])


class _SimulatedClock:
    """`timezone.now()` for the seeding process: START, then one step per
    call, so message i of N is stamped about START + SPAN * i / N."""

    def __init__(self, count: int):
        self.at = START
        self.step = SPAN / max(count, 1)

    def __call__(self) -> datetime:
        self.at += self.step
        return self.at


def seed(count: int) -> dict:
    """Create the users, rooms and memberships, then store `count` messages
    through the service. Prints progress; returns the figures of the load."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from rooms import services
    from rooms.models import Membership, Message, Room
    from rooms.services import EntryRequest

    User = get_user_model()
    corpus = Corpus()
    with transaction.atomic():
        User.objects.bulk_create([User(username=name) for name in usernames()])
        users = list(User.objects.filter(username__in=usernames()).order_by("username"))
        titles = [" ".join(corpus.words[i * 7 % 900 : i * 7 % 900 + 2]) for i in range(ROOMS)]
        Room.objects.bulk_create(
            [
                Room(slug=slug, title=titles[i], is_private=is_private(i))
                for i, slug in enumerate(room_slugs())
            ]
        )
        rooms = list(Room.objects.filter(slug__in=room_slugs()).order_by("slug"))
        Membership.objects.bulk_create(
            [
                Membership(room=rooms[room], user=users[user])
                for room, people in corpus.members.items()
                for user in people
            ]
        )
    # From here on the service's created_at comes from the simulated clock
    # (nothing else runs in this process).
    timezone.now = _SimulatedClock(count)
    started = time.monotonic()
    stored = errors = 0
    deadline = started + 3 * 3600  # bounded: far beyond the expected minutes
    while stored < count and time.monotonic() < deadline:
        size = min(BATCH, count - stored)
        picks = corpus.batch_rooms()
        requests = []
        for _ in range(size):
            room = corpus.rng.choice(picks)
            author = users[corpus.author(room)]
            requests.append(EntryRequest(rooms[room], author, corpus.body(), check_rate=False))
        results = services.entry_post_many(requests)
        failed = [r for r in results if not hasattr(r, "seq")]
        errors += len(failed)
        if failed:
            raise RuntimeError(f"seeding refused {len(failed)} entries: {failed[0]!r}")
        stored += size
        if stored % 100_000 < BATCH:
            rate = stored / (time.monotonic() - started)
            print(f"   seeded {stored:,} messages ({rate:,.0f}/s)", flush=True)
    seconds = time.monotonic() - started
    return {
        "messages": Message.objects.count(),
        "seed_seconds": round(seconds, 1),
        "seed_per_s": round(stored / seconds) if seconds else None,
        "batch": BATCH,
        "batch_rooms": BATCH_ROOMS,
    }


# --- inside the server's Django: the selector alone ------------------------------


def time_selector(plan: list[dict], repeats: int, seconds: float) -> dict:
    """Time `rooms.selectors.search_messages` for each query of `plan`
    ({"class", "q", "room"?, "from"?}), `repeats` rounds (at most `seconds`),
    in this process, against the benchmark database; and EXPLAIN ANALYZE the
    slowest SQL statement of each class's slowest query."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms import selectors

    user = get_user_model().objects.get(username=SEARCHER)

    def call(item):
        kwargs = {"user": user, "query": item["q"]}
        if item.get("room"):
            kwargs["room"] = item["room"]  # a slug
        if item.get("from"):
            kwargs["author"] = item["from"]  # a username
        return kwargs

    prepared = [(item, call(item)) for item in plan]
    for _, kwargs in prepared:  # warm-up
        list(selectors.search_messages(**kwargs).hits)
    times: dict[str, list[float]] = {}
    slowest: dict[str, tuple[float, dict]] = {}
    deadline = time.monotonic() + seconds
    for _ in range(repeats):
        if time.monotonic() > deadline:
            break
        for item, kwargs in prepared:
            started = time.perf_counter()
            result = selectors.search_messages(**kwargs)
            list(result.hits)
            spent = time.perf_counter() - started
            times.setdefault(item["class"], []).append(spent)
            if spent > slowest.get(item["class"], (0.0, None))[0]:
                slowest[item["class"]] = (spent, kwargs)
    plans = {}
    for name, (_, kwargs) in slowest.items():
        with CaptureQueriesContext(connection) as captured:
            list(selectors.search_messages(**kwargs).hits)
        queries = sorted(captured.captured_queries, key=lambda q: float(q["time"]))
        if not queries:
            continue
        sql = queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plans[name] = {
                "sql": sql,
                "statements": len(queries),
                "plan": "\n".join(row[0] for row in cursor.fetchall()),
            }
    return {"times": times, "plans": plans}


def main_seed(count: int) -> None:
    print("@@" + json.dumps(seed(count)), flush=True)


def main_selector(plan_json: str, repeats: int, seconds: float) -> None:
    print("@@" + json.dumps(time_selector(json.loads(plan_json), repeats, seconds)), flush=True)
