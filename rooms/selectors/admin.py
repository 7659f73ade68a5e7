"""The admin's reads beyond a changelist's own: how far a long list is
counted, what its actions act on and what its forms offer to choose from."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..models import Message, Room


def count_at_most(*, rows: QuerySet, cap: int) -> int:
    """How many rows there are, counted no further than `cap`
    (`SELECT COUNT(*) FROM (... LIMIT cap)`): a changelist of a million-row
    table never counts the whole table."""
    return rows.order_by()[:cap].count()


def messages_to_delete(*, selected: QuerySet[Message]) -> QuerySet[Message]:
    """The messages of a selection that the delete action acts on: messages,
    not change entries, not deleted yet, each with its room."""
    return selected.filter(kind__in=Message.MESSAGE_KINDS, deleted=False).select_related("room")


def memberships_with_people(*, selected: QuerySet) -> QuerySet:
    """The selected memberships with their room and user, in one query."""
    return selected.select_related("room", "user")


def ids_of(*, selected: QuerySet) -> QuerySet:
    """The primary keys of a selection, as a subquery."""
    return selected.values_list("pk", flat=True)


def rooms_to_post_to() -> QuerySet[Room]:
    return Room.objects.all()


def users_to_choose(
    *, active_only: bool = False, only: AbstractBaseUser | None = None
) -> QuerySet[AbstractBaseUser]:
    """The users a form offers: every one (or every active one), or `only` that one."""
    users = get_user_model().objects.all()
    if active_only:
        users = users.filter(is_active=True)
    if only is not None:
        users = users.filter(pk=only.pk)
    return users
