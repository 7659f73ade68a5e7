"""EMAIL_URL to Django's EMAIL_* settings (project/settings.py reads the
variable; docs/notifications.md, Settings), parsed with dj-email-url.

smtps:// is TLS from the first byte (port 465 by default), which
dj-email-url would take for STARTTLS: it is parsed as smtp:// and then set
so. No URL means no email: the dummy backend, and the email channel off."""

from urllib.parse import urlsplit

import dj_email_url

SCHEMES = ("smtp", "submission", "smtps", "console")


def email_settings(url: str | None) -> dict:
    """The EMAIL_* settings of `url`; ValueError for a URL that is not one."""
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise ValueError(f"the scheme must be one of {', '.join(SCHEMES)}")
    smtps = scheme == "smtps"
    conf = dj_email_url.parse("smtp" + url.removeprefix("smtps") if smtps else url)
    if smtps:
        conf.update(EMAIL_USE_SSL=True, EMAIL_USE_TLS=False)
        conf["EMAIL_PORT"] = conf["EMAIL_PORT"] if urlsplit(url).port else 465
    return conf
