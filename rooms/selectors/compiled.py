"""Queries that the ORM builds and compiles once per database, then runs
with one value put into the parameters: a user's id, a token's hash.

For the reads of every API request (`GET /api/rooms/`'s listing, the token
lookup): building their querysets (annotations of correlated subqueries,
the visibility rule, joins) and compiling them to SQL cost more CPU than
PostgreSQL spends answering them (issue 23, docs/benchmarks.md). The
queries are still written with the ORM, in one place, from the same rules
(rooms/access.py); only their SQL is kept.

How: the queryset is built for a stand-in value that nothing has, twice,
with two such values. The two compilations must give the same SQL and differ
only in the parameters that held the stand-in; otherwise the query depends
on the value beyond that parameter and is refused at once (RuntimeError),
never run with the wrong values.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Ids no user has (negative; within every backend's integer range).
USER_STAND_INS = (-1_987_654_321, -1_987_654_322)


class CompiledQuery:
    """`build(value)` gives a `.values(...)` queryset whose SQL is the same
    for every value; `rows(value)` runs it for `value` and returns its dicts,
    as iterating the queryset would (the database's converters applied).
    `stand_ins`: two values of the parameter's type that no row has."""

    def __init__(self, build: Callable[[Any], QuerySet], stand_ins: tuple[Any, Any]):
        self.build = build
        self.stand_ins = stand_ins
        self._compiled: dict[tuple[str, str], tuple] = {}

    def rows(self, value, *, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        connection = connections[using]
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        sql, params, slots, compiler, names = compiled
        values = list(params)
        for slot in slots:
            values[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            fetched = cursor.fetchall()
        # The compiler is only asked for the columns' converters (pure
        # functions of a value and the settings), never to run anything.
        return [
            dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[fetched])
        ]

    def _compile(self, using: str) -> tuple:
        compiled = []
        for stand_in in self.stand_ins:
            queryset = self.build(stand_in)
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
            name = getattr(self, "name", None) or self.build.__qualname__
            raise RuntimeError(f"{name}: the SQL depends on more than one value")
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return sql, params, slots, compiler, names


class PerUserQuery:
    """A CompiledQuery of one user: `build(user)` is given a stand-in user
    (unsaved, with an id no user has, and the caller's flags); `rows(user)`
    runs it with `user`'s id. One compilation per kind of user (active,
    staff, superuser), so a rule that ever depends on those flags (an
    operator seeing more) gets its own SQL rather than another kind's."""

    def __init__(self, build: Callable[[AbstractBaseUser], QuerySet]):
        self.build_for_user = build
        self._by_kind: dict[tuple[bool, bool, bool], CompiledQuery] = {}

    def rows(self, user: AbstractBaseUser, *, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        kind = (bool(user.is_active), bool(user.is_staff), bool(user.is_superuser))
        query = self._by_kind.get(kind)
        if query is None:
            query = self._by_kind[kind] = CompiledQuery(
                lambda user_id: self.build_for_user(_stand_in(user_id, kind)), USER_STAND_INS
            )
            query.name = self.build_for_user.__qualname__
        return query.rows(user.pk, using=using)


def _stand_in(user_id: int, kind: tuple[bool, bool, bool]) -> AbstractBaseUser:
    is_active, is_staff, is_superuser = kind
    return get_user_model()(
        pk=user_id, is_active=is_active, is_staff=is_staff, is_superuser=is_superuser
    )
