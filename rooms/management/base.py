"""Argument helpers the management commands share: look up what a user
named, or fail with a CommandError (never a traceback)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ..models import Room


def room_named(slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise CommandError(f"No room {slug!r}. Create it with: manage.py createroom {slug}")
    return room


def user_named(username: str):
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


def non_negative(value: str) -> int:
    """argparse type: an integer >= 0."""
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return number
