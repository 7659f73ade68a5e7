"""Looking a room or a user up by the name an operator typed: the management
commands' reads."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from ..models import Room


def room_by_slug(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def user_by_name(*, username: str) -> AbstractBaseUser | None:
    User = get_user_model()
    return User.objects.filter(**{User.USERNAME_FIELD: username}).first()
