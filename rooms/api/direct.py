"""`/api/direct`: open the direct conversation of the caller with the people
named, creating it once (docs/direct-messages.md)."""

from .. import selectors, services
from ..errors import RoomsError
from .http import dumps, endpoint, json_response, read_json


@endpoint("POST")
def direct(request, user):
    """POST /api/direct {"users": [...]}: 201 when created, 200 when it
    existed, `{"room": slug, "people": [everyone's usernames, sorted]}`."""
    names = read_json(request).get("users")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(name, str) and name for name in names)
    ):
        raise RoomsError("invalid", "`users` must be a list of usernames.", field="users")
    people = selectors.users_named(usernames=names)
    room, created = services.direct_open(user=user, others=people)
    everyone = sorted({user.get_username(), *(person.get_username() for person in people)})
    return json_response(dumps({"room": room.slug, "people": everyone}), 201 if created else 200)
