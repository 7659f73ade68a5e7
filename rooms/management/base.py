"""Argument helpers the management commands share: look up what a user
named, or fail with a CommandError (never a traceback), and argparse types
that turn a bad number into a usage error."""

import argparse

from django.core.management.base import CommandError

from ..models import Room
from ..selectors import lookups

# timedelta(days=...) overflows near a million years; nobody retains that long.
MAX_DAYS = 100 * 365


def room_named(slug: str) -> Room:
    room = lookups.room_by_slug(slug=slug)
    if room is None:
        raise CommandError(f"No room {slug!r}. Create it with: manage.py createroom {slug}")
    return room


def user_named(username: str):
    user = lookups.user_by_name(username=username)
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


def non_negative(value: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return number


def day_count(value: str) -> int:
    """argparse type: a number of days, 0 to MAX_DAYS."""
    days = non_negative(value)
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value!r} is more than {MAX_DAYS} days")
    return days


def positive_seconds(value: str) -> float:
    """argparse type: a duration in seconds, 0.05 to 3600."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.05 <= seconds <= 3600:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{value!r} is not between 0.05 and 3600 seconds")
    return seconds
