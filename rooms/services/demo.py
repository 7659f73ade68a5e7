"""The demo data of the embedded default (`make run`): users with a published
password, rooms, a short conversation that shows every kind of entry, and a
direct conversation. Stored through the services like any client's entries,
each with a client_id, so a second run stores nothing. For DJANGO_DEBUG on
only: its accounts' passwords are public (seeddemo refuses otherwise)."""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from .. import services
from ..errors import RoomsError
from ..models import Message, Room

DEMO_PASSWORD = "rooms-demo"
DEMO_USERS = ["alice", "bob", "carol"]
DEMO_ROOMS = [("lobby", "Lobby"), ("random", "Random"), ("dev", "Development")]

Kind = Message.Kind


def demo_seed(*, say: Callable[[str], None], warn: Callable[[str], None]) -> None:
    """Create what is missing of the demo; `say` each thing made, `warn` of
    what could not be (a lobby changed by hand)."""
    User = get_user_model()
    users = {}
    for name in DEMO_USERS:
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            say(f"user {name} (password {DEMO_PASSWORD})")
        users[name] = user
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.com", "admin")
        say("staff user admin (password admin)")
    for slug, title in DEMO_ROOMS:
        if not Room.objects.filter(slug=slug).exists():
            room, _ = services.room_create_or_update(slug=slug, title=title)
            services.message_post(room=room, author=None, body=f"Welcome to {title}!")
            say(f"room {slug}")
    # alice moderates Development: its page offers her "Manage room".
    services.membership_set_role(
        room=Room.objects.get(slug="dev"), user=users["alice"], role="moderator"
    )
    lobby = Room.objects.get(slug="lobby")
    try:
        if _conversation(lobby, **users):
            say("conversation in lobby")
    except RoomsError as error:
        # The lobby was changed by hand (archived, made private, ...): the
        # demo still starts, without the conversation.
        warn(f"no demo conversation in lobby: {error.message}")
    direct, _ = services.direct_open(user=users["bob"], others=[users["alice"]])
    result = services.entry_post(
        room=direct,
        author=users["bob"],
        body="Psst, alice: the search box finds anything said, try `from:carol`.",
        client_id="demo-direct",
        check_rate=False,
    )
    if not result.duplicate:
        say("direct conversation of alice and bob")


def _conversation(lobby: Room, *, alice, bob, carol) -> int:
    """Protocol 2 in a few entries, through the services like any client's.
    Later entries name earlier ones by the seq their client_id was stored
    with, so a repeated run finds every reference again. Returns how many
    entries were stored now."""
    stored = 0

    def entry(**request) -> int:
        nonlocal stored
        result = services.entry_post(room=lobby, check_rate=False, **request)
        stored += not result.duplicate
        return result.seq

    hello = entry(
        author=alice,
        body="Hi both! Messages can be answered, edited, deleted and reacted to now.",
        client_id="demo-hello",
    )
    entry(author=carol, kind=Kind.REACTION, target=hello, emoji="👋", client_id="demo-wave")
    lunch = entry(author=bob, body="Lunch at noon?", client_id="demo-lunch")
    entry(
        author=bob,
        kind=Kind.EDIT,
        target=lunch,
        body="Lunch at 12:30?",
        client_id="demo-lunch-edit",
    )
    entry(author=carol, body="12:30 works for me.", reply_to=lunch, client_id="demo-reply")
    entry(author=alice, kind=Kind.REACTION, target=lunch, emoji="👍", client_id="demo-yes")
    entry(author=carol, kind=Kind.REACTION, target=lunch, emoji="👍", client_id="demo-yes")
    oops = entry(author=alice, body="(wrong room, sorry)", client_id="demo-oops")
    entry(author=alice, kind=Kind.DELETE, target=oops, client_id="demo-oops-delete")
    return stored
