"""The email of messages a person missed (docs/notifications.md): one per
room and job, listing the newest messages with a link to each, as text and
HTML from the templates under rooms/templates/rooms/email/, with RFC 8058's
one-click unsubscribe headers. Builds and sends; decides nothing. The
templates come through Django's cached loader (the default loaders are
cached, DEBUG or not, since Django 4.1)."""

import contextlib
import secrets
from datetime import UTC

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import ngettext


class _AwayEmail(EmailMultiAlternatives):
    def message(self, **kwargs):
        message = super().message(**kwargs)
        # A random boundary of our own: left unset, Python's generator
        # compiles a regular expression per email to pick one the text does
        # not contain (a fifth of turning the email into bytes). 128 random
        # bits cannot be in text written before they were drawn.
        message.set_boundary(f"=_{secrets.token_hex(16)}")
        return message


def away_email(
    *, to: str, batch, base_url: str, unsubscribe_url: str, language: str | None = None
) -> EmailMultiAlternatives:
    """The email of `batch` (selectors.AwayBatch) to `to`, in `language`
    (a person's setting; None: LANGUAGE_CODE)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return _away_email(to=to, batch=batch, base_url=base_url, unsubscribe_url=unsubscribe_url)


def _away_email(*, to: str, batch, base_url: str, unsubscribe_url: str) -> EmailMultiAlternatives:
    room_url = f"{base_url}/rooms/{batch.room_slug}/"
    messages = [
        {
            "seq": message.seq,
            "author": message.author or "Rooms",
            "body": message.text,  # "📎 <names>" for a message of files alone
            # Formatted here, once for both parts, in UTC as the email says.
            "at": message.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            "url": f"{room_url}#seq-{message.seq}",
        }
        for message in batch.messages
    ]
    context = {
        "room_title": batch.room_title,
        "room_url": room_url,
        "messages": messages,
        "total": batch.total,
        "more": batch.total - len(messages),
        "is_direct": batch.is_direct,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": f"{base_url}/settings/",
    }
    subject = ngettext(
        "a new message in %(room)s", "%(count)d new messages in %(room)s", batch.total
    ) % {"count": batch.total, "room": batch.room_title}
    email = _AwayEmail(
        subject=subject,
        body=render_to_string("rooms/email/away.txt", context),
        from_email=settings.ROOMS_EMAIL_FROM,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(render_to_string("rooms/email/away.html", context), "text/html")
    return email


# The worker's open connection to the mail server, with the settings it was
# opened with: consecutive emails share it (a connection per email was a
# good part of an email's cost: docs/benchmarks.md, Notifications).
_held: dict = {}


def _settings_key() -> tuple:
    names = ("BACKEND", "HOST", "PORT", "HOST_USER", "USE_TLS", "USE_SSL")
    return tuple(getattr(settings, f"EMAIL_{name}", None) for name in names)


def _connection() -> tuple[object, bool]:
    """(the held connection, whether it was open already); a new one when
    the settings changed."""
    key = _settings_key()
    if _held.get("key") == key:
        return _held["connection"], True
    _drop()
    connection = get_connection()
    connection.open()
    _held.update(key=key, connection=connection)
    return connection, False


def _drop() -> None:
    connection = _held.pop("connection", None)
    _held.pop("key", None)
    if connection is not None:
        with contextlib.suppress(Exception):  # a broken connection: nothing to keep
            connection.close()


def send_away_email(
    *, to: str, batch, base_url: str, unsubscribe_url: str, language: str | None = None
) -> None:
    """Send it on the worker's held connection; raises OSError (smtplib's
    errors are) when nothing was handed over. A held connection that fails
    (the server closed it while idle) is dropped and the email tried once on
    a new one."""
    email = away_email(
        to=to, batch=batch, base_url=base_url, unsubscribe_url=unsubscribe_url, language=language
    )
    connection, reused = _connection()
    try:
        connection.send_messages([email])
    except OSError:
        _drop()
        if not reused:
            raise
        connection, _ = _connection()
        try:
            connection.send_messages([email])
        except OSError:
            _drop()
            raise
