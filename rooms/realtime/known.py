"""What one process knows of the users who have a socket in it, so a
handshake and a join need not ask the database (docs/architecture.md,
Joins from memory).

- **Credentials**: an API token's hash -> the user it logs in, and one user
  object per user, shared by all of that user's sockets here (the repair
  loop updates its rights in place, the group commit re-reads them under
  lock anyway).
- **Access**: per (room, user), the user's role, read-only restriction and
  read cursor. Together with the room's own facts, which its feed keeps
  (title, archived, private, head, oldest: `RoomFeed.state`), that is a
  `RoomAccess` and the join's effective since, decided by the same
  functions as a join read from the database (access.may_see,
  selectors.effective_since).

It is kept current the way open sockets are: events drop what they change
(AccessChanged drops the pair, or everything of the user when it names no
room; ReadMoved moves the cursor), and every ROOMS_REPAIR_INTERVAL the
repair loop re-reads all of it with the sockets' own check and drops what no
longer holds. A read from the database is only remembered if no event about
the user came in while it ran. Whatever is not known is read from the
database, and remembered: the first handshake of a user, the first join of
a user to a room, and any join to a room whose feed has not read its state.
Everything about a user is forgotten when the user's last socket here goes.
"""

import asyncio
import dataclasses

from rooms import access


@dataclasses.dataclass(slots=True)
class Standing:
    """A user's standing in one room, as last read or heard."""

    role: str | None
    restricted: bool
    cursor: int | None


class Known:
    def __init__(self):
        self.users: dict[int, object] = {}  # user id -> the one user object
        self.tokens: dict[str, int] = {}  # token hash -> user id
        self.standing: dict[tuple[int, int], Standing] = {}  # (room id, user id)
        self.epochs: dict[int, int] = {}  # user id -> events about the user so far
        self.revocations = 0  # events that ended some user's credentials, so far
        self.reading: dict[tuple, asyncio.Future] = {}  # reads under way, by what they read

    async def read_once(self, key: tuple, read):
        """`await read()`, shared by every caller asking for the same `key`
        meanwhile: a reconnect storm reads a user's token and access once,
        not once per socket."""
        future = self.reading.get(key)
        if future is None:
            future = self.reading[key] = asyncio.ensure_future(read())
            future.add_done_callback(lambda _: self.reading.pop(key, None))
        return await asyncio.shield(future)

    # --- credentials ------------------------------------------------------------

    def user_for_token(self, token_hash: str):
        """The user a token logs in, if known (None: ask the database)."""
        user_id = self.tokens.get(token_hash)
        return None if user_id is None else self.users.get(user_id)

    def learn_token(self, token_hash: str, user, revocations: int) -> object:
        """Remember what the database said of a token, unless credentials
        ended meanwhile (`revocations` when the read began); returns the user
        object that the sockets of that user share."""
        if self.revocations != revocations:
            return user
        shared = self.users.setdefault(user.pk, user)
        self.tokens[token_hash] = user.pk
        return shared

    def connected(self, user) -> None:
        """A socket of `user` is attached to the hub (its events reach it):
        what the database says of the user's joins may be remembered."""
        self.users.setdefault(user.pk, user)

    def epoch(self, user_id: int) -> int:
        return self.epochs.get(user_id, 0)

    # --- access -----------------------------------------------------------------

    def room_access(self, user, feed) -> access.RoomAccess | None:
        """The room of `feed` as `user` sees it, from memory; None when
        either the user's standing or the room's state is not known."""
        standing = self.standing.get((feed.room_id, user.pk))
        state = feed.state
        if standing is None or state is None or not feed.state_current or feed.head is None:
            return None
        return access.RoomAccess(
            id=feed.room_id,
            slug=feed.slug,
            title=state.title,
            head=feed.head,
            is_archived=state.is_archived,
            role=standing.role,
            last_read_seq=standing.cursor,
            is_private=state.is_private,
            oldest=state.oldest,
            kind=state.kind,
            restricted=standing.restricted,
        )

    def learn_access(self, user_id: int, room: access.RoomAccess, epoch: int) -> None:
        if self.epoch(user_id) != epoch or user_id not in self.users:
            return
        self.standing[(room.id, user_id)] = Standing(room.role, room.restricted, room.last_read_seq)

    # --- what events say ----------------------------------------------------------

    def access_changed(self, user_id: int, room_id: int | None) -> None:
        """A role or membership changed (`room_id`), or the user's right to
        be connected at all (None): forget it, so the next join reads."""
        self.epochs[user_id] = self.epoch(user_id) + 1
        if room_id is not None:
            self.standing.pop((room_id, user_id), None)
        else:
            self.revocations += 1
            self._forget_credentials(user_id)
            self._forget_standing(user_id)

    def read_moved(self, user_id: int, room_id: int | None, seq: int) -> None:
        standing = self.standing.get((room_id, user_id))
        if standing is not None and (standing.cursor is None or seq > standing.cursor):
            standing.cursor = seq

    def forget_user(self, user_id: int) -> None:
        """The user's last socket here went: nothing keeps the facts current."""
        self.epochs.pop(user_id, None)
        self.users.pop(user_id, None)
        self._forget_credentials(user_id)
        self._forget_standing(user_id)

    def _forget_credentials(self, user_id: int) -> None:
        for token_hash in [h for h, owner in self.tokens.items() if owner == user_id]:
            del self.tokens[token_hash]

    def _forget_standing(self, user_id: int) -> None:
        for pair in [pair for pair in self.standing if pair[1] == user_id]:
            del self.standing[pair]

    # --- the repair loop's re-read -----------------------------------------------

    def pairs(self) -> set[tuple[int, int]]:
        return set(self.standing)

    def epochs_of(self, user_ids) -> dict[int, int]:
        return {user_id: self.epoch(user_id) for user_id in user_ids}

    def check(self, snapshot, *, asked: set, epochs: dict[int, int], connected: set[int]) -> None:
        """Bring what is known in line with the repair loop's snapshot, read
        for the standings `asked` while the users' events were at `epochs`:
        users no longer active or connected and revoked tokens are
        forgotten, and each standing takes the role, restriction and cursor
        read (unless an event about its user came in meanwhile)."""
        for user_id in list(self.users):
            if user_id not in connected or user_id not in snapshot.active_users:
                self.forget_user(user_id)
        for token_hash in [h for h in self.tokens if h not in snapshot.live_tokens]:
            del self.tokens[token_hash]
        cursors = snapshot.cursors or {}
        for pair in asked:
            standing = self.standing.get(pair)
            if standing is None or self.epoch(pair[1]) != epochs.get(pair[1]):
                continue
            standing.role = snapshot.roles.get(pair)
            standing.restricted = pair in snapshot.restricted
            cursor = cursors.get(pair)
            if cursor is not None and (standing.cursor is None or cursor > standing.cursor):
                standing.cursor = cursor
