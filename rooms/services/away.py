"""Reaching people who are away (docs/notifications.md): noting who a stored
message may need to notify, and the writes of the settings page, the
unsubscribe link and the push API. The worker's delivery is
services/away_delivery.py.

The rule of what reaches a person is the selectors' (selectors/away.py);
here is when and how often. After the group commit (services/commit.py)
each (user, room, channel) it may concern gets a NotifyState row whose
`due_at` is set, unless it is set already: a burst of messages shares one
delivery. `NotifyState.due_at` is the worker's queue: it survives any
restart, and the worker that takes a row reads then what is still unread.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import mentions
from ..errors import RoomsError
from ..models import EmailPreference, NotifyState, PushSubscription
from ..selectors import away as reads  # the rule of what reaches whom

Channel = NotifyState.Channel
UNSUBSCRIBE_SALT = "rooms.email.unsubscribe"


def _delay(channel: str) -> float:
    if channel == Channel.EMAIL:
        return settings.ROOMS_NOTIFY_EMAIL_DELAY
    return settings.ROOMS_NOTIFY_PUSH_DELAY


def _enabled_channels() -> tuple[bool, bool]:
    """(email, push): whether each channel is configured at all."""
    return bool(settings.EMAIL_URL), bool(settings.ROOMS_VAPID_PRIVATE_KEY)


# --- After the group commit ----------------------------------------------------


def away_note_on_commit(stored: list[mentions.Stored], mentioned: set[tuple[int, int]]) -> None:
    """Called by the group commit with what it stored and whom its new
    messages mention ({(user id, room id)}, from mentions.record): once the
    transaction has committed, note who may need notifying. A batch with no
    mention and no direct conversation costs nothing here, the common case
    of a send. A failure is logged and never undoes the messages (robust)."""
    direct = sorted(
        {batch.room_id for batch in stored if batch.is_direct}
        & {batch.room_id for batch in stored if any(row.is_message for row in batch.rows)}
    )
    if (mentioned or direct) and any(_enabled_channels()):
        transaction.on_commit(
            lambda: away_note(mentioned=mentioned, direct_room_ids=direct), robust=True
        )


def away_note(*, mentioned: set[tuple[int, int]], direct_room_ids: list[int]) -> None:
    """For each (user, room, channel) that the mentions `mentioned` ({(user
    id, room id)}) and the new messages of the direct conversations
    `direct_room_ids` may concern: set `due_at`, unless a delivery is
    pending. The rows are locked first (in pk order, so two notes queue
    rather than deadlock): a worker delivering one holds its lock, and this
    then sees `due_at` cleared and sets it again, rather than trusting a
    delivery that has already read the log."""
    email, push = _enabled_channels()
    pairs = set(mentioned) | reads.direct_people(room_ids=direct_room_ids)
    if not pairs:
        return
    channels = reads.away_channels(
        user_ids={user_id for user_id, _ in pairs}, email=email, push=push
    )
    keys = [
        (user_id, room_id, channel)
        for user_id, room_id in sorted(pairs)
        for channel in channels.get(user_id, ())
    ]
    if not keys:
        return
    now = timezone.now()
    with transaction.atomic():
        NotifyState.objects.bulk_create(
            [NotifyState(user_id=u, room_id=r, channel=c) for u, r, c in keys],
            ignore_conflicts=True,
        )
        which = Q()
        for user_id, room_id, channel in keys:
            which |= Q(user_id=user_id, room_id=room_id, channel=channel)
        states = NotifyState.objects.select_for_update().filter(which).order_by("pk")
        idle: dict[str, list[int]] = {}
        for pk, channel, due_at in states.values_list("pk", "channel", "due_at"):
            if due_at is None:  # else a delivery is pending: it will read these too
                idle.setdefault(channel, []).append(pk)
        for channel, pks in idle.items():
            due = now + timedelta(seconds=_delay(channel))
            NotifyState.objects.filter(pk__in=pks).update(due_at=due)


# --- Email settings and the unsubscribe link ----------------------------------


def unsubscribe_url(*, user_id: int) -> str:
    token = signing.dumps(user_id, salt=UNSUBSCRIBE_SALT, compress=True)
    return f"{settings.ROOMS_BASE_URL}/unsubscribe/{token}/"


def email_unsubscribe(*, token: str) -> bool:
    """Turn off the email of the user the signed token names (the link of
    every email; no login: RFC 8058's one-click POST). False for a token
    that is not ours."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return False
    if not get_user_model().objects.filter(pk=user_id).exists():
        return False
    EmailPreference.objects.update_or_create(user_id=user_id, defaults={"enabled": False})
    return True


def email_settings_set(*, user: AbstractBaseUser, email: str, enabled: bool) -> None:
    """The settings page: the user's address ("" for none) and whether to
    email them at all."""
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except Exception:
            raise RoomsError("invalid", "Enter a valid email address.", field="email") from None
    with transaction.atomic():
        get_user_model().objects.filter(pk=user.pk).update(email=email)
        EmailPreference.objects.update_or_create(user=user, defaults={"enabled": bool(enabled)})
    user.email = email


# --- Push subscriptions (the API) -------------------------------------------------


def push_subscription_save(
    *, user: AbstractBaseUser, endpoint: str, p256dh: str, auth: str, session_key: str | None
) -> bool:
    """Store a browser's subscription for `user`; True when it is new. The
    endpoint names one browser: registered again, it moves to this user."""
    for name, value, longest in (
        ("endpoint", endpoint, 2000),
        ("keys.p256dh", p256dh, 200),
        ("keys.auth", auth, 100),
    ):
        # NUL: PostgreSQL stores no such text.
        if not isinstance(value, str) or not value or len(value) > longest or "\x00" in value:
            raise RoomsError("invalid", f"`{name}` must be a non-empty string.", field=name)
    if not endpoint.startswith("https://"):
        raise RoomsError("invalid", "`endpoint` must be an https URL.", field="endpoint")
    _, created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "session_key": session_key},
    )
    return created


def push_subscription_delete(*, user: AbstractBaseUser, endpoint: str) -> None:
    """Forget the user's subscription of this endpoint (none: nothing)."""
    if not isinstance(endpoint, str) or not endpoint or "\x00" in endpoint:
        raise RoomsError("invalid", "`endpoint` must be a non-empty string.", field="endpoint")
    PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
