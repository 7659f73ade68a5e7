"""A person's display settings (docs/ui.md, Languages): the language of
the pages, emails and the browser client, and the colour theme.

Imported at the end of rooms/models.py, so it belongs to the `rooms` app.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSettings(models.Model):
    """No row means the defaults: the browser's language, the system's theme."""

    class Theme(models.TextChoices):
        AUTO = "auto", _("Like the system")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="display_settings"
    )
    # A code of settings.LANGUAGES (checked by services.user_settings_set, not
    # by choices here: adding a language needs no migration); blank: the
    # browser's Accept-Language.
    language = models.CharField(max_length=16, blank=True, default="")
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.AUTO)

    def __str__(self) -> str:
        return f"display of {self.user_id}: {self.language or 'browser'}, {self.theme}"
