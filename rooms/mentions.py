"""@mentions: which users a message body names, and recording them when the
group commit (rooms/services/commit.py) stores messages and edits.

The syntax is the browser's (static/rooms/render.js, docs/ui.md): `@name`,
the name made of letters, digits and `_ . + -` as Django allows, not
preceded by a name character (`bob@example.com` names nobody), a trailing
dot left out; nothing inside code spans, fenced code blocks or a link's
text counts. Only users who may see the room are recorded (access.may_see),
so a mention of anyone else notifies nobody, and nobody is notified of
their own message.
"""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

from . import access
from .models import Membership, Mention, Message

Kind = Message.Kind

MENTION = re.compile(r"(?<![\w.+@/-])@([\w.+-]+)")
# An unclosed fence runs to the end of the body, as the renderer shows it.
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*$.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
LINK_TEXT = re.compile(r"\[[^\[\]\n]*\]\([^()\s]*\)")
TICKS = re.compile(r"`+")


def _without_code_spans(text: str) -> str:
    """`text` with each code span blanked: a run of N backticks up to the next
    run of exactly N. Linear in the number of runs, whatever the input."""
    runs = [(match.start(), match.end()) for match in TICKS.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    cursor = dict.fromkeys(by_length, 0)  # per length: the next run not yet passed
    pieces, kept_from, index = [], 0, 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        while cursor[end - start] < len(same) and same[cursor[end - start]] <= index:
            cursor[end - start] += 1
        if cursor[end - start] == len(same):
            index += 1
            continue
        closing = same[cursor[end - start]]
        pieces.append(text[kept_from:start])
        kept_from = runs[closing][1]
        pieces.append(" ")
        index = closing + 1
    pieces.append(text[kept_from:])
    return "".join(pieces)


def mentioned_names(body: str) -> set[str]:
    """The usernames `body` mentions, as the page highlights them."""
    if "@" not in body:
        return set()
    text = FENCE.sub(" ", body)
    text = _without_code_spans(text)
    text = LINK_TEXT.sub(" ", text)
    names = set()
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".")
        if name:
            names.add(name)
    return names


@dataclass(frozen=True)
class Stored:
    """The rows one room's group commit stored (rooms/services/commit.py)."""

    room_id: int
    is_private: bool
    rows: list[Message]
    is_direct: bool = False


def record(batches: list[Stored]) -> set[tuple[int, int]]:
    """Record the mentions of the messages and edits just stored, in the
    group commit's transaction: one query for the users named, one for their
    roles in private rooms, one bulk insert for the whole batch. An
    edit records the mentions it adds and drops the ones it removes.
    Returns {(user id, room id)} the batch's new messages mention (whom
    they may notify while away: rooms/services/away.py)."""
    named: dict[tuple[int, int], tuple[Stored, Message, set[str]]] = {}
    edited: dict[int, set[int]] = {}  # room id -> seqs of messages edited
    for batch in batches:
        for row in batch.rows:
            if row.kind in Message.MESSAGE_KINDS:
                named[(batch.room_id, row.seq)] = (batch, row, mentioned_names(row.body))
            elif row.kind == Kind.EDIT:
                # The last edit of a message in the batch has its final body.
                named[(batch.room_id, row.target)] = (batch, row, mentioned_names(row.body))
                edited.setdefault(batch.room_id, set()).add(row.target)
    names = set().union(*(each[2] for each in named.values())) if named else set()
    if not names and not edited:
        return set()
    users = dict(
        get_user_model()
        .objects.filter(username__in=names, is_active=True)
        .values_list("username", "pk")
    )
    # Only a private room's readers depend on their role: read those alone.
    private_rooms = {batch.room_id for batch in batches if batch.is_private}
    roles: dict[tuple[int, int], str] = {}  # (room id, user id) -> role
    if private_rooms and users:
        rows = Membership.objects.filter(room_id__in=private_rooms, user_id__in=users.values())
        roles = {(r, u): role for r, u, role in rows.values_list("room", "user", "role")}
    message_pks = _edited_message_pks(edited)
    mentions, kept_by_message = [], {}
    for (room_id, seq), (batch, row, found) in named.items():
        message_pk = row.pk if row.kind != Kind.EDIT else message_pks.get((room_id, seq))
        if message_pk is None:
            continue
        wanted = set()
        for name in found:
            user_id = users.get(name)
            if user_id is None or user_id == row.author_id:
                continue
            role = roles.get((room_id, user_id))
            if not access.may_see(is_private=batch.is_private, role=role):
                continue
            wanted.add(user_id)
        mentions += [
            Mention(room_id=room_id, message_id=message_pk, user_id=user_id, seq=seq)
            for user_id in sorted(wanted)
        ]
        if row.kind == Kind.EDIT:
            kept_by_message[message_pk] = wanted
    for message_pk, wanted in kept_by_message.items():
        Mention.objects.filter(message_id=message_pk).exclude(user_id__in=wanted).delete()
    if mentions:
        Mention.objects.bulk_create(mentions, ignore_conflicts=True)
    # An edit's mentions are the message's again, not news: only new messages'.
    return {(m.user_id, m.room_id) for m in mentions if m.message_id not in kept_by_message}


def _edited_message_pks(edited: dict[int, set[int]]) -> dict[tuple[int, int], int]:
    """{(room id, seq): pk} of the messages the batch's edits changed."""
    if not edited:
        return {}
    which = Q()
    for room_id, seqs in edited.items():
        which |= Q(room_id=room_id, seq__in=seqs)
    rows = Message.objects.filter(which, kind__in=Message.MESSAGE_KINDS)
    return {(room_id, seq): pk for room_id, seq, pk in rows.values_list("room_id", "seq", "pk")}
