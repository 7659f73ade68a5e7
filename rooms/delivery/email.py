"""The email of messages a person missed (docs/notifications.md): one per
room and job, listing the newest messages with a link to each, as text and
HTML from the templates under rooms/templates/rooms/email/, with RFC 8058's
one-click unsubscribe headers. Builds and sends; decides nothing."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def away_email(*, to: str, batch, base_url: str, unsubscribe_url: str) -> EmailMultiAlternatives:
    """The email of `batch` (selectors.AwayBatch) to `to`."""
    room_url = f"{base_url}/rooms/{batch.room_slug}/"
    messages = [
        {
            "seq": message.seq,
            "author": message.author or "Rooms",
            "body": message.body,
            "created_at": message.created_at,
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
    count = "a new message" if batch.total == 1 else f"{batch.total} new messages"
    email = EmailMultiAlternatives(
        subject=f"{count} in {batch.room_title}",
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


def send_away_email(*, to: str, batch, base_url: str, unsubscribe_url: str) -> None:
    """Send it; raises OSError (smtplib's errors are) when nothing was handed over."""
    away_email(to=to, batch=batch, base_url=base_url, unsubscribe_url=unsubscribe_url).send()
