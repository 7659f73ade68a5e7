"""The search scenario (issue 11): `GET /api/search` over a log of
1,000,000 messages on PostgreSQL, end to end over HTTP, per query class.

    python -m bench search --targets rooms-postgres            # 1,000,000 messages
    python -m bench search --targets rooms-postgres --quick    # 50,000, for a smoke check

The corpus (bench/search_corpus.py) is seeded once into a database of its
own, `rooms_bench_search` (`rooms_bench_search_quick` for --quick), and
reused while it holds what this code would seed: the database's comment
records the corpus version, the message count and the hash of the search
migration it was seeded under. Any newer migration is applied on reuse
(`migrate`); a different corpus, count or search migration means the
database is dropped and seeded again (a few minutes for 1,000,000; see
docs/benchmarks.md). Only databases named `rooms_bench_*` are ever dropped.

The measurement: two daphne workers on that database (PostgreSQL + Redis,
as the `rooms-postgres` target runs), one API token of the searching user
(`user000`, a member of 8 of the 40 private rooms), then

1. sequential requests on one kept-alive HTTP connection, the query classes
   interleaved round by round (after one unmeasured warm-up round);
2. a few concurrent clients (one connection each, spread over both workers);
3. the selector alone (`rooms.selectors.search_messages`), timed in a
   Django process against the same database, with EXPLAIN ANALYZE of each
   class's slowest statement.

Every loop is bounded by a count and a deadline; clients connect to
127.0.0.1 only; the servers are stopped at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from tests.harness.deployment import ROOT

from . import search_corpus as corpus
from .scenarios import ServerCpu, percentiles
from .servers import POSTGRES, REDIS, SETUP, BenchDeployment, Server, Target, _delete_redis_keys

SEARCH_MIGRATION = ROOT / "rooms" / "migrations" / "0008_search.py"


@dataclass(frozen=True)
class SearchPlan:
    messages: int
    database: str
    rounds: int  # sequential rounds: every query of every class once per round
    seconds: float  # at most this long for the sequential rounds
    clients: int  # concurrent clients
    concurrent_requests: int  # per client
    selector_rounds: int


FULL = SearchPlan(1_000_000, "rooms_bench_search", 70, 900, 4, 120, 20)
QUICK = SearchPlan(50_000, "rooms_bench_search_quick", 10, 120, 4, 20, 5)


# --- the queries -------------------------------------------------------------


def queries() -> list[dict]:
    """Three queries per class: {"class", "q", "room"?, "from"?}. Words are
    picked by their rank in the corpus's vocabulary (so by frequency); the
    matches of each are counted in the database when the run ends."""
    words = corpus.vocabulary()
    pairs = corpus.collocations(words)
    # Collocations whose two words differ and are not among the most common.
    phrases = [p for p in pairs if p[0] != p[1]][:3]
    # The three busiest public rooms.
    busy = [f"room-{i:03d}" for i in corpus.Corpus().room_rank if not corpus.is_private(i)][:3]
    rank = lambda r: words[r - 1]  # noqa: E731
    plan = {
        # ~130-300 messages each
        "rare": [rank(3000), rank(4500), rank(6000)],
        # ~1 % of messages
        "medium": [rank(100), rank(110), rank(125)],
        # ~13-16 % of messages
        "common": [rank(1), rank(2), rank(3)],
        # two words, both must match: a common and a medium-frequency one
        "and": [f"{rank(5)} {rank(60)}", f"{rank(8)} {rank(90)}", f"{rank(12)} {rank(70)}"],
        "phrase": [f'"{a} {b}"' for a, b in phrases],
        # one author's messages holding a medium-frequency word
        "from": [
            f"from:user001 {rank(40)}",
            f"from:user007 {rank(45)}",
            f"from:user023 {rank(50)}",
        ],
        # one busy room's messages holding a common word
        "in": [f"in:{busy[0]} {rank(4)}", f"in:{busy[1]} {rank(6)}", f"in:{busy[2]} {rank(7)}"],
        "nothing": ["zzqxjv", "qwxzzy", "xqjvzz"],
    }
    return [{"class": name, "q": q} for name, qs in plan.items() for q in qs]


# --- the database ----------------------------------------------------------------


def _connect(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(f"{POSTGRES}/{dbname}", autocommit=True)


def _migration_hash() -> str | None:
    if not SEARCH_MIGRATION.exists():
        return None
    return hashlib.sha256(SEARCH_MIGRATION.read_bytes()).hexdigest()[:16]


def _meta(name: str) -> dict | None:
    with _connect() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0] or "{}")
    except ValueError:
        return {}


def _set_meta(name: str, meta: dict) -> None:
    with _connect() as conn:
        literal = json.dumps(meta).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{literal}'")


def _drop(name: str) -> None:
    if not name.startswith("rooms_bench_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    with _connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _message_count(name: str) -> int:
    with _connect(name) as conn:
        try:
            return conn.execute("SELECT count(*) FROM rooms_message").fetchone()[0]
        except Exception:  # no table yet: not seeded
            return -1


def _vacuum(name: str) -> float:
    started = time.monotonic()
    with _connect(name) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.monotonic() - started, 1)


class SearchDeployment(BenchDeployment):
    """A deployment whose management commands may run long: `migrate` adds
    the search column to 1,000,000 rows, the seeding takes minutes."""

    def manage(self, *args, timeout=3600, **kwargs):
        return super().manage(*args, timeout=timeout, **kwargs)


def _env(settings: str = "project.settings") -> dict:
    return {"DJANGO_SETTINGS_MODULE": settings, "ROOMS_LOG_LEVEL": "WARNING"}


def prepare(plan: SearchPlan, workdir: Path, log=print) -> dict:
    """The benchmark database, seeded (or reused) and migrated; returns what
    was done, with timings."""
    name = plan.database
    url = f"{POSTGRES}/{name}"
    meta = _meta(name)
    current = _migration_hash()
    wanted = {"corpus": corpus.CORPUS_VERSION, "messages": plan.messages}
    reusable = (
        meta is not None
        and meta.get("seeded")
        and all(meta.get(k) == v for k, v in wanted.items())
        and meta.get("search_migration") in (None, current)
        and _message_count(name) == plan.messages
    )
    info: dict = {"database": name}
    if reusable:
        log(f"   {name}: reusing {plan.messages:,} seeded messages; migrating")
        started = time.monotonic()
        SearchDeployment(workdir / "migrate", database=url, env=_env())  # runs migrate
        info["migrate_seconds"] = round(time.monotonic() - started, 1)
        info["reused"] = True
        if meta.get("search_migration") != current:
            info["vacuum_seconds"] = _vacuum(name)  # the search column is new
            _set_meta(name, {**meta, "search_migration": current})
        return info
    if meta is not None:
        log(f"   {name}: holds another corpus or schema ({meta}); dropping it")
        _drop(name)
    with _connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _set_meta(name, {**wanted, "seeded": False})
    log(f"   {name}: created; migrating, then seeding {plan.messages:,} messages")
    seeder = SearchDeployment(workdir / "seed", database=url, env=_env())
    out = seeder.shell(
        f"from bench.search_corpus import main_seed\nmain_seed({plan.messages})", timeout=7200
    )
    seeded = json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))
    log(f"   seeded: {seeded}")
    info.update(seeded)
    info["vacuum_seconds"] = _vacuum(name)
    info["reused"] = False
    _set_meta(name, {**wanted, "seeded": True, "search_migration": current, **seeded})
    return info


def corpus_figures(name: str, items: list[dict]) -> dict:
    """Sizes of the seeded database, and how many messages each query
    matches (when the search column exists; counted with the same
    websearch syntax, without the filters)."""
    figures: dict = {}
    with _connect(name) as conn:
        figures["table_size"] = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('rooms_message'))"
        ).fetchone()[0]
        figures["rooms"] = conn.execute("SELECT count(*) FROM rooms_room").fetchone()[0]
        figures["private_rooms"] = conn.execute(
            "SELECT count(*) FROM rooms_room WHERE is_private"
        ).fetchone()[0]
        figures["users"] = conn.execute("SELECT count(*) FROM auth_user").fetchone()[0]
        figures["memberships"] = conn.execute("SELECT count(*) FROM rooms_membership").fetchone()[0]
        span = conn.execute(
            "SELECT min(created_at)::date::text, max(created_at)::date::text, "
            "round(avg(array_length(regexp_split_to_array(body, ' '), 1)), 1) "
            "FROM rooms_message"
        ).fetchone()
        figures["created_at"] = [span[0], span[1]]
        figures["mean_words"] = float(span[2])
        has_column = conn.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'rooms_message' AND column_name = 'search'"
        ).fetchone()
        if has_column:
            figures["indexes"] = [
                row[0]
                for row in conn.execute(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = 'rooms_message'"
                )
            ]
            counts = {}
            conn.execute("SET statement_timeout = '60s'")
            for item in items:
                words = " ".join(t for t in item["q"].split() if ":" not in t)
                with contextlib.suppress(Exception):
                    counts[item["q"]] = conn.execute(
                        "SELECT count(*) FROM rooms_message WHERE kind = 'text' AND NOT deleted "
                        "AND search @@ websearch_to_tsquery('english', %s)",
                        [words],
                    ).fetchone()[0]
            figures["matches_unfiltered"] = counts
    return figures


# --- the HTTP client ------------------------------------------------------------


class Client:
    """One kept-alive HTTP/1.1 connection to one worker."""

    def __init__(self, port: int, token: str, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, params: dict) -> tuple[float, int, dict | None]:
        """(seconds, status, body) of one GET /api/search."""
        path = "/api/search?" + urlencode(params)
        for attempt in (1, 2):  # a connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            spent = time.perf_counter() - started
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            return spent, response.status, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _params(item: dict) -> dict:
    params = {"q": item["q"]}
    for key in ("room", "from"):
        if item.get(key):
            params[key] = item[key]
    return params


def _hits(body: dict | None) -> int | None:
    if not isinstance(body, dict):
        return None
    hits = body.get("hits", body.get("results"))
    return len(hits) if isinstance(hits, list) else None


def sequential(client: Client, items: list[dict], rounds: int, seconds: float) -> dict:
    """Every query once per round, classes interleaved; the first round is
    a warm-up and not counted."""
    times: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    first_page: dict[str, int | None] = {}
    deadline = time.monotonic() + seconds
    done = 0
    for round_no in range(rounds + 1):
        if time.monotonic() > deadline:
            break
        for item in items:
            spent, status, body = client.get(_params(item))
            if round_no == 0:
                first_page[item["q"]] = _hits(body)
                if status != 200:
                    print(f"   !! {item['q']!r}: HTTP {status} {str(body)[:300]}", flush=True)
                continue
            if status != 200:
                errors[item["class"]] = errors.get(item["class"], 0) + 1
                continue
            times.setdefault(item["class"], []).append(spent)
        done = round_no
    return {"times": times, "errors": errors, "first_page": first_page, "rounds": done}


def concurrent(server: Server, token: str, items: list[dict], clients: int, each: int) -> dict:
    """`clients` threads, one connection each (spread over the workers),
    each making `each` requests over the query mix, as fast as answered."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(index: int) -> None:
        client = Client(server.workers[index % len(server.workers)].port, token)
        deadline = time.monotonic() + 300
        try:
            for n in range(each):
                if time.monotonic() > deadline:
                    break
                item = items[(index * 7 + n) % len(items)]
                try:
                    spent, status, _ = client.get(_params(item))
                except (OSError, http.client.HTTPException):
                    status, spent = 0, 0.0
                with lock:
                    if status == 200:
                        times.append(spent)
                    else:
                        errors[0] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=330)
    seconds = time.monotonic() - started
    return {
        "clients": clients,
        "requests": len(times),
        "errors": errors[0],
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(times) / seconds, 1) if seconds else None,
        **percentiles(times),
    }


# --- the scenario --------------------------------------------------------------


def _pg_options(name: str, options: list[str], *, reset: bool = False) -> None:
    """`ALTER DATABASE name SET option` (what a deployment could set per
    database or role), for trying a setting; RESET afterwards."""
    with _connect() as conn:
        for option in options:
            key, _, value = option.partition("=")
            if not key.replace("_", "").isalnum():
                raise ValueError(f"not a setting name: {key!r}")
            if reset:
                conn.execute(f'ALTER DATABASE "{name}" RESET {key}')
            else:
                literal = value.replace("'", "''")
                conn.execute(f"ALTER DATABASE \"{name}\" SET {key} = '{literal}'")


def run(
    target: Target,
    quick: bool,
    emit,
    log=print,
    pg_options: list[str] = (),
    settings: str = "project.settings",
) -> None:
    """Prepare the database, start the servers, measure, stop; `emit(target,
    "search", record)` per figure. `pg_options` ("name=value"): PostgreSQL
    settings for the benchmark database during this run only; `settings`:
    the Django settings module of the servers and the selector's process
    (e.g. bench.search_pool_settings)."""
    if target.app != "rooms" or target.backend != "postgres":
        log(f"   search: {target.name} skipped (the search scenario runs on rooms-postgres)")
        return
    plan = QUICK if quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    prepared = prepare(plan, workdir, log)
    _pg_options(plan.database, list(pg_options))
    try:
        _measure(target, plan, workdir, prepared, emit, log, list(pg_options), settings)
    finally:
        _pg_options(plan.database, list(pg_options), reset=True)


def _measure(target, plan, workdir, prepared, emit, log, pg_options, settings) -> None:
    items = queries()
    url = f"{POSTGRES}/{plan.database}"
    prefix = f"rooms-bench-{uuid.uuid4().hex[:10]}"
    env = {
        **_env(settings),
        "ROOMS_METRICS_TOKEN": "bench-metrics-token",
        "ROOMS_REDIS_PREFIX": prefix,
    }
    deployment = SearchDeployment(workdir / "serve", database=url, redis_url=REDIS, env=env)
    deployment.configure("project.asgi:application", target.server)
    out = deployment.shell(f"NAMES = [{corpus.SEARCHER!r}]\nROOMS = []\n" + SETUP)
    token = json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))[
        corpus.SEARCHER
    ]
    # database=None: Server.stop() must not drop the cached database.
    server = Server(target, deployment, {corpus.SEARCHER: token}, None, prefix)
    try:
        for _ in range(target.workers):
            server.workers.append(deployment.start_worker())
        log(f"   search: {len(items)} queries, {plan.rounds} rounds on one connection")
        cpu = ServerCpu(server)
        client = Client(server.workers[0].port, token)
        try:
            result = sequential(client, items, plan.rounds, plan.seconds)
        finally:
            client.close()
        server_cpu = cpu.stop()
        every = [t for ts in result["times"].values() for t in ts]
        for name in dict.fromkeys(item["class"] for item in items):
            times = result["times"].get(name, [])
            emit(
                target,
                "search",
                {
                    "phase": "http-sequential",
                    "class": name,
                    "queries": [i["q"] for i in items if i["class"] == name],
                    "first_page_hits": [
                        result["first_page"].get(i["q"]) for i in items if i["class"] == name
                    ],
                    "requests": len(times),
                    "errors": result["errors"].get(name, 0),
                    **percentiles(times),
                },
            )
        emit(
            target,
            "search",
            {
                "phase": "http-sequential",
                "class": "overall",
                "messages": plan.messages,
                "rounds": result["rounds"],
                "requests": len(every),
                "errors": sum(result["errors"].values()),
                **percentiles(every),
                **server_cpu,
                "server_cpu_ms_per_request": round(
                    server_cpu["server_cpu_seconds"] * 1000 / len(every), 2
                )
                if every
                else None,
            },
        )
        log(f"   search: {plan.clients} concurrent clients")
        emit(
            target,
            "search",
            {
                "phase": "http-concurrent",
                "class": "overall",
                **concurrent(server, token, items, plan.clients, plan.concurrent_requests),
            },
        )
        tracebacks = deployment.tracebacks()
        if tracebacks:
            log(f"   !! {len(tracebacks)} tracebacks in the server logs ({deployment.workdir})")
    finally:
        server.stop()
        _delete_redis_keys(prefix)
    log("   search: the selector alone")
    try:
        selector = deployment.shell(
            "from bench.search_corpus import main_selector\n"
            f"main_selector({json.dumps(items)!r}, {plan.selector_rounds}, 300)",
            timeout=900,
        )
        timed = json.loads(
            next(line[2:] for line in selector.splitlines() if line.startswith("@@"))
        )
    except AssertionError as error:  # no selector yet, or it failed: say so, keep the rest
        log(f"   !! the selector could not be timed: {str(error)[-600:]}")
        timed = {"times": {}, "plans": {}}
    for name, times in timed["times"].items():
        emit(
            target,
            "search",
            {
                "phase": "selector",
                "class": name,
                "requests": len(times),
                **percentiles(times),
                "explain": timed["plans"].get(name),
            },
        )
    every = [t for ts in timed["times"].values() for t in ts]
    emit(
        target,
        "search",
        {"phase": "selector", "class": "overall", "requests": len(every), **percentiles(every)},
    )
    emit(
        target,
        "search",
        {
            "phase": "corpus",
            "class": "-",
            "messages": plan.messages,
            "pg_options": pg_options,
            "settings": settings,
            **prepared,
            **corpus_figures(plan.database, items),
        },
    )
