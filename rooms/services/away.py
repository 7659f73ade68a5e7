"""Reaching people who are away (docs/notifications.md): noting who a stored
message may need to notify, the delayed job that decides and sends, and the
writes of the settings page, the unsubscribe link and the push API.

The rule of what reaches a person is the selectors' (selectors/away.py);
here is when and how often. After the group commit (services/commit.py)
each (user, room, channel) it may concern gets a NotifyState row whose
`due_at` is set, with ONE delayed job, when none is pending: a burst of
messages shares the job. The job locks that row, reads in one query what is
still unread then, advances `notified_seq` past it and clears `due_at`, and
sends after its commit: a second worker running the same job finds nothing
left, so each message is notified at most once per channel.
"""

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import mentions
from ..delivery import email as email_delivery
from ..delivery import push
from ..errors import RoomsError
from ..models import EmailPreference, NotifyState, PushSubscription
from ..ops import metrics
from ..selectors import away as reads  # the rule of what reaches whom

logger = logging.getLogger(__name__)

Channel = NotifyState.Channel
# A job that should have run this long ago is taken for lost (its worker was
# killed mid-run): the next message schedules a new one.
STALE_AFTER = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=2)
PUSH_ATTEMPTS = 5
UNSUBSCRIBE_SALT = "rooms.email.unsubscribe"


def _delay(channel: str) -> float:
    if channel == Channel.EMAIL:
        return settings.ROOMS_NOTIFY_EMAIL_DELAY
    return settings.ROOMS_NOTIFY_PUSH_DELAY


def _tasks():
    """rooms/tasks.py, whose jobs call back into this module: looked up by
    name when a job is enqueued, so the import graph keeps no cycle."""
    return import_module("rooms.tasks")


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
    `direct_room_ids` may concern: set `due_at` and enqueue one delayed job,
    unless one is pending. The rows are locked first (in pk order, so two
    notes queue rather than deadlock): a job running on one holds its lock,
    and this then sees `due_at` cleared and schedules the next job, rather
    than trusting a job that has already read the log."""
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
    tasks = _tasks()
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
        for state in states:
            if state.due_at is not None and state.due_at > now - STALE_AFTER:
                continue  # a job is pending: it will read these messages too
            due = now + timedelta(seconds=_delay(state.channel))
            NotifyState.objects.filter(pk=state.pk).update(due_at=due)
            tasks.deliver_away.using(run_after=due).enqueue(
                state.user_id, state.room_id, state.channel
            )


# --- The delayed job ------------------------------------------------------------


def away_deliver(*, user_id: int, room_id: int, channel: str) -> int:
    """The job (rooms/tasks.py): notify `user_id` of what in the room still
    reaches them, once. Returns how many messages it named (0: nothing)."""
    with transaction.atomic():
        # The user comes with the locked row, in the same query (their email
        # preference is read by the decision query); `of` locks only the row.
        state = (
            NotifyState.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=user_id, room_id=room_id, channel=channel)
            .first()
        )
        # Cleared: another run did this job. Later: a newer job is due then
        # (give or take the workers' clocks).
        if state is None or state.due_at is None or state.due_at > timezone.now() + CLOCK_SKEW:
            return 0
        user = state.user
        batch = reads.away_batch(
            user=user, room_id=room_id, channel=channel, after_seq=state.notified_seq
        )
        previous = state.notified_seq
        state.due_at = None
        if batch is not None:
            state.notified_seq = batch.newest_seq
        state.save(update_fields=["due_at", "notified_seq"])
        if batch is None:
            return 0
        # Sent once the advance of notified_seq has committed: a crash after
        # the commit loses these, a second run finds nothing left to send.
        if channel == Channel.EMAIL:
            transaction.on_commit(lambda: _send_email(user, batch, state, previous))
        else:
            transaction.on_commit(lambda: _send_pushes(user, batch))
    return batch.total


def _send_email(user, batch, state: NotifyState, previous: int) -> None:
    try:
        email_delivery.send_away_email(
            to=user.email,
            batch=batch,
            base_url=settings.ROOMS_BASE_URL,
            unsubscribe_url=unsubscribe_url(user_id=user.pk),
        )
    except OSError:
        # Nothing was handed over (the server is down, refused): give these
        # messages back to a later job, unless a newer job already took them.
        logger.exception("Email to user %s failed; retrying in a minute.", user.pk)
        _give_back(state, previous, retry_in=60.0)
        return
    metrics.NOTIFICATIONS_SENT.labels(Channel.EMAIL).inc()


def _give_back(state: NotifyState, previous: int, *, retry_in: float) -> None:
    """Put `notified_seq` back where the failed job found it (unless a newer
    job has moved it since), and have a job try again when none is pending."""
    due = timezone.now() + timedelta(seconds=retry_in)
    with transaction.atomic():
        current = NotifyState.objects.select_for_update().filter(pk=state.pk).first()
        if current is None or current.notified_seq != state.notified_seq:
            return
        current.notified_seq = previous
        pending = current.due_at is not None
        if not pending:
            current.due_at = due
        current.save(update_fields=["notified_seq", "due_at"])
        if not pending:
            _tasks().deliver_away.using(run_after=due).enqueue(
                state.user_id, state.room_id, state.channel
            )


def away_push_payload(batch: reads.AwayBatch) -> dict:
    """One push per room and run: the newest message, and how many there are."""
    newest = batch.messages[0]
    who = newest.author or "Rooms"
    title = f"{who} in {batch.room_title}"
    if batch.total > 1:
        title = f"{batch.total} new messages in {batch.room_title}"
    return push.push_payload(
        room_slug=batch.room_slug,
        seq=newest.seq,
        title=title,
        body=f"{who}: {newest.body}",
        url=f"{settings.ROOMS_BASE_URL}/rooms/{batch.room_slug}/#seq-{newest.seq}",
    )


def _send_pushes(user, batch) -> None:
    """The job's pushes, one per subscription, sent in the job itself (a job
    per push was a tenth of a notification's CPU); only a push the service
    asks to retry (429, 5xx) becomes a `push_send` job."""
    payload = away_push_payload(batch)
    for subscription in reads.push_subscriptions(user_id=user.pk):
        try:
            _push(subscription, payload, attempt=1)
        except Exception:
            # One subscription's failure must not keep the others' pushes.
            logger.exception("Push to subscription %s failed.", subscription.pk)


def away_push_send(*, subscription_id: int, payload: dict, attempt: int) -> str:
    """The job trying a push again: gone deletes the subscription, retry
    comes back later with a backoff."""
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return "gone"
    return _push(subscription, payload, attempt=attempt)


def _push(subscription: PushSubscription, payload: dict, *, attempt: int) -> str:
    """Send one push to one subscription: gone deletes the subscription,
    retry enqueues a `push_send` job with a backoff."""
    # A PushOutcome: a str (sent, gone, retry, failed) with `retry_after`.
    outcome = push.send_push(
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh,
        auth=subscription.auth,
        payload=payload,
    )
    retry_after = getattr(outcome, "retry_after", None)
    if outcome == "sent":
        metrics.NOTIFICATIONS_SENT.labels(Channel.PUSH).inc()
    elif outcome == "gone":
        PushSubscription.objects.filter(pk=subscription.pk).delete()
    elif outcome == "retry" and attempt < PUSH_ATTEMPTS:
        tasks = _tasks()
        wait = retry_after if retry_after else 10 * 2 ** (attempt - 1)
        due = timezone.now() + timedelta(seconds=min(wait, 3600))
        tasks.push_send.using(run_after=due).enqueue(subscription.pk, payload, attempt + 1)
    else:
        logger.warning(
            "Push to subscription %s: %s (attempt %s).", subscription.pk, outcome, attempt
        )
    return str(outcome)


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
