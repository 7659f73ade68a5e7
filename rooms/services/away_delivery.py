"""Delivering what people missed (docs/notifications.md): the worker's sweep
of due NotifyState rows, and the sends after its commit.

`NotifyState.due_at` is the queue: the note after the group commit
(services/away.py) sets it, and `manage.py worker` calls `away_deliver_due`
over and over. Each call takes a batch: one transaction locks up to `BATCH`
due rows (SKIP LOCKED: two workers take different rows), reads for each what
still reaches its user (selectors/away.py, one query), advances
`notified_seq` past it and clears `due_at`; once that has committed, it
sends. A second worker, or a `deliver_away` job for the same row, then finds
`due_at` cleared: each message is notified at most once per channel.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from ..delivery import email as email_delivery
from ..delivery import push
from ..models import NotifyState, PushSubscription
from ..ops import metrics
from ..selectors import away as reads
from ..selectors.display import user_languages
from .away import unsubscribe_url

logger = logging.getLogger(__name__)

Channel = NotifyState.Channel
# Rows per sweep: one transaction decides them, then their sends follow. A
# worker killed (SIGKILL) between that commit and the last send loses at
# most these.
BATCH = 100
CLOCK_SKEW = timedelta(seconds=2)
PUSH_ATTEMPTS = 5
EMAIL_RETRY = 60.0  # seconds before a refused or failed email is tried again


@dataclass
class _Decided:
    """One row's delivery: what to send, and `previous`, the `notified_seq`
    to give back when nothing was handed over."""

    state: NotifyState
    batch: reads.AwayBatch
    previous: int


def _never() -> bool:
    return False


def away_deliver_due(*, limit: int = BATCH, stop: Callable[[], bool] = _never) -> int:
    """Deliver up to `limit` due (user, room, channel) rows; returns how many
    were taken (0: none is due). `stop()` is asked between sends: when it
    answers true (the worker is stopping), what is not yet sent is given back,
    due at once, for the next worker."""
    now = timezone.now()
    if not reads.deliveries_due(now=now):  # a look before taking the write lock
        return 0
    with transaction.atomic():
        # `of`: the user comes along (the email's address) unlocked.
        rows = NotifyState.objects.select_for_update(skip_locked=True, of=("self",))
        states = list(
            rows.select_related("user").filter(due_at__lte=now).order_by("due_at")[:limit]
        )
        decided = _decide(states)
    _send(decided, stop)
    return len(states)


def away_deliver(*, user_id: int, room_id: int, channel: str) -> int:
    """One row, as a `deliver_away` job (rooms/tasks.py) asks: the sweep does
    this work; the job stays for jobs enqueued before it did. Returns how many
    messages it named (0: nothing, or another run did it)."""
    with transaction.atomic():
        state = (
            NotifyState.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=user_id, room_id=room_id, channel=channel)
            .first()
        )
        # Cleared: another run did this. Later: not due yet (give or take
        # the processes' clocks); the sweep will take it then.
        if state is None or state.due_at is None or state.due_at > timezone.now() + CLOCK_SKEW:
            return 0
        decided = _decide([state])
    _send(decided, _never)
    return decided[0].batch.total if decided else 0


def _decide(states: list[NotifyState]) -> list[_Decided]:
    """Inside the transaction that locked `states`: for each, what reaches
    its user now (the decision query: the read cursor, level, access and
    address read in it; one query for them all on PostgreSQL),
    `notified_seq` moved past it and `due_at` cleared."""
    wanted = [(s.user, s.room_id, s.channel, s.notified_seq) for s in states]
    decided = []
    for state, batch in zip(states, reads.away_batches(wanted=wanted), strict=True):
        state.due_at = None
        if batch is not None:
            decided.append(_Decided(state, batch, state.notified_seq))
            state.notified_seq = batch.newest_seq
    _advance(states)
    return decided


def _advance(states: list[NotifyState]) -> None:
    """Store each row's new `notified_seq` and its cleared `due_at`: one
    statement run for every row (the ORM's bulk_update builds a CASE per row,
    which cost a fifth of a sweep's time)."""
    if not states:
        return
    table, quote = NotifyState._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(table)} SET notified_seq = %s, due_at = NULL WHERE id = %s",
            [(state.notified_seq, state.pk) for state in states],
        )


def _send(decided: list[_Decided], stop: Callable[[], bool]) -> None:
    """Once the advance has committed, the emails then the pushes. A crash
    from here on loses what is not sent yet; nothing can send it twice.
    When `stop()` answers true, or the worker is cut short (a second
    SIGTERM), what is not yet sent is given back, due at once."""
    emails = [d for d in decided if d.state.channel == Channel.EMAIL]
    pushes = [d for d in decided if d.state.channel == Channel.PUSH]
    subscriptions = reads.push_subscriptions_of(user_ids={d.state.user_id for d in pushes})
    languages = user_languages(user_ids={d.state.user_id for d in decided})
    queue, failed, mail_down = emails + pushes, [], False
    for index, delivery in enumerate(queue):
        if stop():
            _give_back(queue[index:], retry_in=0.0)
            break
        try:
            if delivery.state.channel == Channel.PUSH:
                _send_pushes(
                    delivery,
                    subscriptions.get(delivery.state.user_id, ()),
                    languages[delivery.state.user_id],
                )
            elif mail_down:  # spare a server that cannot be reached the rest
                failed.append(delivery)
            elif (error := _send_email(delivery, languages[delivery.state.user_id])) is not None:
                failed.append(delivery)
                mail_down = not _answered(error)
        except BaseException:
            _give_back(queue[index + 1 :], retry_in=0.0)  # the one in flight may be sent
            raise
    # Nothing was handed over for these: their messages go to a later run.
    _give_back(failed, retry_in=EMAIL_RETRY)


def _send_email(delivery: _Decided, language: str) -> OSError | None:
    """Send it on the worker's held connection; the error when nothing was
    handed over and a later try may succeed."""
    user = delivery.state.user
    try:
        email_delivery.send_away_email(
            to=user.email,
            batch=delivery.batch,
            base_url=settings.ROOMS_BASE_URL,
            unsubscribe_url=unsubscribe_url(user_id=user.pk),
            language=language,
        )
    except OSError as error:
        logger.exception("Email to user %s failed; retrying in a minute.", user.pk)
        return error
    except Exception:
        # It cannot be built (an address no server would take, say): trying
        # again would fail the same way, and must not hold up the batch.
        logger.exception("Email to user %s could not be sent; dropped.", user.pk)
        return None
    metrics.NOTIFICATIONS_SENT.labels(Channel.EMAIL).inc()
    return None


def _answered(error: OSError) -> bool:
    """Whether the mail server answered (refused this one email), rather than
    could not be reached or stopped answering."""
    return isinstance(error, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))


def _give_back(deliveries: list[_Decided], *, retry_in: float) -> None:
    """Put each row's `notified_seq` back where the sweep found it (unless a
    newer run has moved it since), due again in `retry_in` seconds unless
    it is due already."""
    if not deliveries:
        return
    sent_as = {d.state.pk: d for d in deliveries}
    due = timezone.now() + timedelta(seconds=retry_in)
    with transaction.atomic():
        rows = NotifyState.objects.select_for_update().filter(pk__in=sent_as).order_by("pk")
        back = []
        for current in rows:
            delivery = sent_as[current.pk]
            if current.notified_seq != delivery.state.notified_seq:
                continue  # a newer run moved it: what it sent covers these
            current.notified_seq = delivery.previous
            current.due_at = current.due_at or due
            back.append(current)
        NotifyState.objects.bulk_update(back, ["notified_seq", "due_at"])


# --- Web Push ---------------------------------------------------------------------


def away_push_payload(batch: reads.AwayBatch, language: str | None = None) -> dict:
    """One push per room and run: the newest message, and how many there
    are, in `language` (the person's; None: LANGUAGE_CODE)."""
    newest = batch.messages[0]
    with translation.override(language or settings.LANGUAGE_CODE):
        who = newest.author or "Rooms"
        values = {"name": who, "room": batch.room_title, "count": batch.total}
        title = gettext("%(name)s in %(room)s") % values
        if batch.total > 1:
            title = (
                ngettext(
                    "%(count)d new message in %(room)s",
                    "%(count)d new messages in %(room)s",
                    batch.total,
                )
                % values
            )
    return push.push_payload(
        room_slug=batch.room_slug,
        seq=newest.seq,
        title=title,
        body=f"{who}: {newest.text}",
        url=f"{settings.ROOMS_BASE_URL}/rooms/{batch.room_slug}/#seq-{newest.seq}",
    )


def _send_pushes(delivery: _Decided, subscriptions, language: str) -> None:
    """The row's push to each of its user's subscriptions; only a push the
    service asks to retry (429, 5xx) becomes a `push_send` job."""
    payload = away_push_payload(delivery.batch, language)
    for subscription in subscriptions:
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
        # rooms/tasks.py calls back into this module: looked up when needed.
        tasks = import_module("rooms.tasks")
        wait = retry_after if retry_after else 10 * 2 ** (attempt - 1)
        due = timezone.now() + timedelta(seconds=min(wait, 3600))
        tasks.push_send.using(run_after=due).enqueue(subscription.pk, payload, attempt + 1)
    else:
        logger.warning(
            "Push to subscription %s: %s (attempt %s).", subscription.pk, outcome, attempt
        )
    return str(outcome)
