"""The reads of the group commit (rooms/services/commit.py), inside its
transaction: what decides whether the batch's authors may post in a room,
and which of its client_ids are already stored (G4). Each is one query
however large the batch."""

from dataclasses import dataclass

from django.db import connection

from ..models import Membership, Message, PrunedClientId, Room, RoomRestriction
from ..sql import placeholders


@dataclass(frozen=True)
class PostAccess:
    """What decides whether users may post in a room, read in one go; the
    decision itself is rooms/access.py's."""

    exists: bool
    is_private: bool
    is_archived: bool
    roles: dict[int, str]  # user id -> membership role, for the users asked about
    # Of the users asked about, those with a read-only restriction (a
    # RoomRestriction outlives the membership).
    restricted: frozenset[int] = frozenset()
    # Those who hid this direct conversation (services.direct_hide): a new
    # message brings it back to their lists.
    hidden_by: frozenset[int] = frozenset()
    is_direct: bool = False


def post_access(*, room_id: int, author_ids: list[int]) -> PostAccess:
    """The room's flags, the authors' roles and restrictions, and who hid
    it, in one round trip: it runs in every group commit, inside the
    transaction."""
    authors = placeholders(author_ids) or "NULL"
    membership, restriction = Membership._meta.db_table, RoomRestriction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.is_private, r.is_archived, a.user_id, a.role, a.what, r.kind "
            f"FROM {Room._meta.db_table} r LEFT JOIN ("
            f"SELECT room_id, user_id, role, 'role' AS what FROM {membership} "
            f"WHERE room_id = %s AND user_id IN ({authors}) "
            f"UNION ALL SELECT room_id, user_id, NULL, 'restricted' FROM {restriction} "
            f"WHERE room_id = %s AND user_id IN ({authors}) "
            f"UNION ALL SELECT room_id, user_id, NULL, 'hidden' FROM {membership} "
            f"WHERE room_id = %s AND hidden_at_seq IS NOT NULL"
            f") a ON a.room_id = r.id WHERE r.id = %s",
            [room_id, *author_ids, room_id, *author_ids, room_id, room_id],
        )
        rows = cursor.fetchall()
    if not rows:
        return PostAccess(False, False, False, {})
    of_kind = {
        what: {user_id: role for _, _, user_id, role, each, _ in rows if each == what}
        for what in ("role", "restricted", "hidden")
    }
    return PostAccess(
        True,
        bool(rows[0][0]),
        bool(rows[0][1]),
        of_kind["role"],
        restricted=frozenset(of_kind["restricted"]),
        hidden_by=frozenset(of_kind["hidden"]),
        is_direct=rows[0][5] == Room.Kind.DIRECT,
    )


def seqs_by_client_id(*, keys: list[tuple[int, int | None, str]]) -> dict[tuple, int]:
    """{(room id, author id or None for system, client_id): seq} of the keys
    already stored, in one round trip: the log's entries, then the
    client_ids of entries retention deleted. Unordered, on the (room,
    client_id) indexes: the model's ordering (by the room's slug) made it a
    join that SQLite answered by reading the whole room's log. (No "client_id
    IS NOT NULL" either: the IN implies it, and SQLite took it for a range
    over every client_id of the room.)"""
    if not keys:
        return {}
    wanted = set(keys)
    room_ids = sorted({room_id for room_id, _, _ in keys})
    client_ids = sorted({client_id for _, _, client_id in keys})
    rooms = placeholders(room_ids)
    cids = placeholders(client_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT room_id, author_id, kind, client_id, seq FROM {Message._meta.db_table} "
            f"WHERE room_id IN ({rooms}) AND client_id IN ({cids}) "
            f"UNION ALL SELECT room_id, author_id, NULL, client_id, seq "
            f"FROM {PrunedClientId._meta.db_table} "
            f"WHERE room_id IN ({rooms}) AND client_id IN ({cids})",
            [*room_ids, *client_ids, *room_ids, *client_ids],
        )
        rows = cursor.fetchall()
    found, pruned = {}, []
    for room_id, author_id, kind, client_id, seq in rows:
        if kind is None:  # a pruned entry's: its author_id is None for system
            pruned.append(((room_id, author_id, client_id), seq))
            continue
        key = (room_id, None if kind == Message.Kind.SYSTEM else author_id, client_id)
        if key in wanted:
            found[key] = seq
    for key, seq in pruned:
        if key in wanted:
            found.setdefault(key, seq)
    return found
