"""A room's address (its slug, `/rooms/<address>/`) for the create-a-room
form: the one made from a name, and a free one beside a taken one.

The page's script makes the same address as the name is typed
(static/rooms/room-create.js): keep the two alike.
"""

from django.utils.text import slugify

from ..models import Room

MAX_LENGTH = Room._meta.get_field("slug").max_length
# Tried after a taken address: plans-2, plans-3, … plans-99.
MAX_SUFFIX = 99


def address_from_name(*, name: str) -> str:
    """Letters and digits of the name, lowercased, accents dropped, words
    joined by hyphens; "" when nothing is left. Never one kept for direct
    conversations."""
    address = slugify(name)[:MAX_LENGTH].strip("-_")
    if address.startswith(Room.DIRECT_SLUG_PREFIX):
        address = f"room-{address}"[:MAX_LENGTH].strip("-_")
    return address


def address_free(*, address: str) -> str | None:
    """`address` when no room has it, else the first free one of
    `address-2` … `address-99` (shortened to fit); None when all are taken."""
    stem = address[: MAX_LENGTH - len(f"-{MAX_SUFFIX}")]
    taken = set(
        Room.objects.filter(slug__startswith=stem).values_list("slug", flat=True).iterator()
    )
    if address not in taken:
        return address
    for suffix in range(2, MAX_SUFFIX + 1):
        candidate = f"{stem}-{suffix}"
        if candidate not in taken:
            return candidate
    return None
