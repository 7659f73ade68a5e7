"""Keeping each entry's stored JSON (`Message.json`) equal to what a fresh
rendering says, so a backfill page can be a read of stored text.

The group commit stores each new entry's JSON in its INSERT and, after a
change (edit, delete, reaction), re-renders the messages it changed with
`entries_json_refresh`. Outside the log, what an entry's JSON shows is a
username: the entry's author and the users holding a reaction. Renaming or
deleting a user clears the JSON of those entries (`entries_json_forget`);
the readers render a row without stored JSON from its columns, as they do
for rows stored before the column existed (rooms/selectors/log.py), and
`entries_json_fill` (`manage.py storeentryjson`) stores it for such rows.

The user model is Django's, renamed and deleted by Django's own admin and by
any script, so its `pre_save`, `post_save` and `pre_delete` signals are the
one place every such change passes: rooms/apps.py connects the receivers
below.
A room's slug, also in every entry, never changes (rooms/admin/rooms.py).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from .. import selectors
from ..models import Message, Reaction, Room


def new_entry_json(*, slug: str, row: Message, author, files: list[tuple]) -> str:
    """The JSON of an entry the group commit is about to insert: `author`
    its author (or None), `files` the columns of the uploads it claims
    (services.attachments.claim_take)."""
    return selectors.entry_json(
        room=slug,
        entry=row,
        author=author.get_username() if author is not None else None,
        attachments=[selectors.attachment_object(*columns) for columns in files],
    )


def changed_json_refresh(*, room, rows: list[Message]) -> None:
    """After the group commit applied the changes among `rows` (the entries
    it stored): re-render the messages they changed, and the edits of those
    deleted (their bodies were emptied; this batch's own edits among them,
    whose JSON is published)."""
    changed = {row.target for row in rows if row.kind in Message.CHANGE_KINDS}
    if not changed:
        return
    deleted = {row.target for row in rows if row.kind == Message.Kind.DELETE}
    which = Q(seq__in=changed) | Q(kind=Message.Kind.EDIT, target__in=deleted)
    fresh = entries_json_refresh(room_id=room.id, slug=room.slug, which=which)
    for row in rows:
        row.json = fresh.get(row.pk, row.json)


def entries_json_refresh(*, room_id: int, slug: str, which: Q) -> dict[int, str]:
    """Re-render the entries of the room that `which` selects and store
    their JSON (one read, the reactions' and files', one UPDATE); returns
    {pk: JSON}."""
    # Locked first: a rename's or a deletion's clearing (below) of one of
    # them then either waits for this transaction or is seen by this read,
    # never overwritten with the name it removed.
    rendered = dict(selectors.entries_rendered(room_id=room_id, slug=slug, which=which, lock=True))
    Message.objects.bulk_update(
        [Message(pk=pk, json=text) for pk, text in rendered.items()], ["json"]
    )
    return rendered


def entries_json_forget(*, user_id: int) -> int:
    """Clear the stored JSON of every entry that shows user `user_id`'s
    name: the entries they authored and the messages they hold a reaction
    on. Returns how many were cleared."""
    reacted = Reaction.objects.filter(user_id=user_id).values("message_id")
    shown = Q(author_id=user_id) | Q(pk__in=reacted)
    return Message.objects.filter(shown).exclude(json="").update(json="")


def entries_json_fill(*, room: Room | None = None, batch: int = 1000) -> int:
    """Store the JSON of the entries that have none (stored before migration
    0014, or cleared since), in one room or every room. `batch` entries at a
    time, each batch in its own transaction holding the room's row lock, as
    a group commit does: one that changes a message of the batch waits, then
    re-renders it. Returns how many were stored."""
    rooms = Room.objects.filter(pk=room.pk) if room is not None else Room.objects.all()
    total = 0
    for room_id in rooms.order_by("pk").values_list("pk", flat=True):
        after = 0
        while True:
            with transaction.atomic():
                locked = Room.objects.select_for_update().filter(pk=room_id)
                slug = locked.values_list("slug", flat=True).get()
                missing = Message.objects.filter(room_id=room_id, seq__gt=after, json="")
                seqs = list(missing.order_by("seq").values_list("seq", flat=True)[:batch])
                if not seqs:
                    break
                which = Q(seq__in=seqs, json="")
                total += len(entries_json_refresh(room_id=room_id, slug=slug, which=which))
            after = seqs[-1]
    return total


def user_saving(sender, instance, update_fields=None, **kwargs) -> None:
    """`pre_save` of the user model: note whether the username changes."""
    field = get_user_model().USERNAME_FIELD
    instance._rooms_renamed = False
    if instance.pk is None or (update_fields is not None and field not in update_fields):
        return  # a new user, or a save of other fields (a login's last_login)
    stored = sender._base_manager.filter(pk=instance.pk).values_list(field, flat=True).first()
    instance._rooms_renamed = stored is not None and stored != getattr(instance, field)


def user_saved(sender, instance, **kwargs) -> None:
    """`post_save` of the user model: a renamed user's entries are cleared
    after the user's row is written, so this transaction takes the user's row
    before the entries' rows, in the group commit's order (no deadlock)."""
    if getattr(instance, "_rooms_renamed", False):
        instance._rooms_renamed = False
        entries_json_forget(user_id=instance.pk)


def user_deleting(sender, instance, **kwargs) -> None:
    """`pre_delete` of the user model: their entries lose their author
    (SET_NULL) and their reactions go (CASCADE) in the same transaction."""
    entries_json_forget(user_id=instance.pk)
