"""A person's display settings: their language and colour theme
(rooms/display_models.py). No row reads as the defaults."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from ..display_models import UserSettings


@dataclass(frozen=True)
class Display:
    language: str  # a code of settings.LANGUAGES; "": the browser's choice
    theme: str  # UserSettings.Theme


DEFAULT_DISPLAY = Display(language="", theme=UserSettings.Theme.AUTO)


def user_display(*, user: AbstractBaseUser) -> Display:
    row = UserSettings.objects.filter(user_id=user.pk).values("language", "theme").first()
    return Display(**row) if row else DEFAULT_DISPLAY


def user_language(*, user_id: int) -> str:
    """The language to write to a person in when no browser asks (emails):
    their setting, else the site's default."""
    return user_languages(user_ids={user_id})[user_id]


def user_languages(*, user_ids: set[int]) -> dict[int, str]:
    """{user id: the language to write to them in} for many people at once
    (the worker's batch of emails and pushes): one query."""
    chosen = dict(
        UserSettings.objects.filter(user_id__in=user_ids)
        .exclude(language="")
        .values_list("user_id", "language")
    )
    return {user_id: chosen.get(user_id) or settings.LANGUAGE_CODE for user_id in user_ids}
