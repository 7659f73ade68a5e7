"""What one person starts that reaches other people: rooms they create,
direct conversations they open (new ones only) and invitations they send,
counted together against ROOMS_CREATE_RATE (docs/room-management.md,
Limits); uploads the same way against ROOMS_UPLOAD_RATE, apart
(docs/attachments.md). Operators' writes (`room_create`,
`membership_set_role`: the admin, `createroom`) and staff are not limited.

Counted from what is stored, so every worker process agrees: a RecentStart
row per start, written in the transaction of what it starts (a start that
fails counts nothing). Exact across processes: on PostgreSQL the user's row
is locked first, so two starts of one user queue and the second counts the
first; SQLite's transactions are IMMEDIATE (project/settings.py), so they
run one at a time anyway.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .. import access
from ..errors import RoomsError
from ..models import RecentStart

UPLOAD = RecentStart.Kind.UPLOAD


def start_lock(*, user: AbstractBaseUser) -> None:
    """Lock `user`'s row until the commit (start_record does it too): a
    write that locks a room before it counts takes this first, since user
    rows are locked before room rows everywhere (the group commit too)."""
    # NO KEY UPDATE: it queues this user's other starts, but not another
    # transaction's INSERT of a row pointing at the user (two people opening
    # one conversation each insert both memberships: FOR UPDATE deadlocks).
    users = get_user_model().objects.select_for_update(no_key=True)
    users.filter(pk=user.pk).values_list("pk").first()


def start_record(*, user: AbstractBaseUser, kind: str) -> None:
    """Count one start (RecentStart.Kind) of `user`, inside the caller's
    transaction; `rate_limited` with `retry_after` (the seconds until the
    oldest start in the period leaves it) when the period's are spent."""
    _spend(
        user=user,
        kind=kind,
        limit=settings.ROOMS_CREATE_RATE,
        message=gettext_lazy(
            "At most %(count)d new rooms, conversations and invitations per %(period)s seconds."
        ),
    )


def upload_record(*, user: AbstractBaseUser) -> None:
    """Count one upload of `user` against ROOMS_UPLOAD_RATE (its own budget,
    apart from the starts), like start_record."""
    _spend(
        user=user,
        kind=UPLOAD,
        limit=settings.ROOMS_UPLOAD_RATE,
        message=gettext_lazy("At most %(count)d uploads per %(period)s seconds."),
    )


def _spend(*, user: AbstractBaseUser, kind: str, limit, message) -> None:
    if limit is None or access.is_operator(user):
        return
    count, period = limit
    now = timezone.now()
    since = now - timedelta(seconds=period)
    start_lock(user=user)
    # Uploads and starts are counted apart, each against its own limit.
    mine = RecentStart.objects.filter(user=user)
    mine = mine.filter(kind=UPLOAD) if kind == UPLOAD else mine.exclude(kind=UPLOAD)
    mine.filter(created_at__lte=since).delete()  # out of every period from now on
    spent = mine.aggregate(oldest=Min("created_at"), total=Count("id"))
    if spent["total"] >= count:
        retry = (spent["oldest"] + timedelta(seconds=period) - now).total_seconds()
        raise RoomsError(
            "rate_limited",
            str(message) % {"count": count, "period": f"{period:g}"},
            retry_after=round(max(retry, 0.001), 3),
        )
    RecentStart.objects.create(user=user, kind=kind, created_at=now)
