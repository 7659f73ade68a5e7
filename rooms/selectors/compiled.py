"""A per-user query that the ORM builds and compiles once per database, then
runs for any user with that user's id in the parameters.

For the hot listings (`GET /api/rooms/`, the room list): building their
querysets (annotations of correlated subqueries, the visibility rule) and
compiling them to SQL cost more CPU than PostgreSQL spends answering them
(issue 23, docs/benchmarks.md: about 60 % of a worker's Python time per
request). The query is still written with the ORM, in one place, from the
same rules (rooms/access.py); only its SQL is kept.

How: the queryset is built for a stand-in user whose id no user has, twice,
with two such ids. The two compilations must give the same SQL and differ
only in the parameters that held the stand-in's id; otherwise the query
depends on the user beyond their id and is refused at once (RuntimeError),
never run with the wrong values.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Ids no user has (negative; within every backend's integer range).
STAND_INS = (-1_987_654_321, -1_987_654_322)


class PerUserQuery:
    """`build(user)` gives a `.values(...)` queryset whose SQL is the same for
    every user; `rows(user)` runs it for `user` and returns its dicts, as
    iterating the queryset would (the database's converters applied)."""

    def __init__(self, build: Callable[[AbstractBaseUser], QuerySet]):
        self.build = build
        self._compiled: dict[tuple[str, str], tuple] = {}

    def rows(self, user: AbstractBaseUser, *, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        connection = connections[using]
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        sql, params, slots, compiler, names = compiled
        values = list(params)
        for slot in slots:
            values[slot] = user.pk
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            fetched = cursor.fetchall()
        # The compiler is only asked for the columns' converters (pure
        # functions of a value and the settings), never to run anything.
        return [
            dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[fetched])
        ]

    def _compile(self, using: str) -> tuple:
        user_model = get_user_model()
        compiled = []
        for stand_in in STAND_INS:
            queryset = self.build(user_model(pk=stand_in))
            compiler = queryset.query.get_compiler(using)
            sql, params = compiler.as_sql()
            slots = [i for i, value in enumerate(params) if value == stand_in]
            compiled.append((sql, tuple(params), slots, compiler, queryset.query))
        (sql, params, slots, compiler, query), (other_sql, other_params, other_slots, _, _) = (
            compiled
        )
        pairs = zip(params, other_params, strict=True) if len(params) == len(other_params) else ()
        others_equal = bool(pairs) and all(
            a == b for i, (a, b) in enumerate(pairs) if i not in slots
        )
        if sql != other_sql or not slots or slots != other_slots or not others_equal:
            raise RuntimeError(f"{self.build.__qualname__}: the SQL depends on more than a user id")
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return sql, params, slots, compiler, names
