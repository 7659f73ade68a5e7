"""Reads of the JSON API that the shared selectors leave to their caller:
one room's detail, found by its slug for one user."""

from django.contrib.auth.models import AbstractBaseUser

from .. import access, selectors
from ..models import Room


def room_detail_seen(*, user: AbstractBaseUser, slug: str) -> dict:
    """selectors.room_detail of the room `slug`, for a user who may see it;
    `not_found` otherwise (access.room_access_or_404)."""
    seen = access.room_access_or_404(user=user, slug=slug)
    return selectors.room_detail(room=Room.objects.get(pk=seen.id), user=user)
