"""The Django admin for staff: rooms, messages, memberships and API tokens
(a module each), registered here.

Declarative where it can be; every write with a live effect goes through
rooms.services, so sockets hear of it like of any other change: archiving
sends a `room` frame, deleting a message stores a `delete` entry, posting
stores a message: each reaches sockets as an entry of the room's log. A
service's refusal is an error on the admin's page, never a 500
(rooms/admin/errors.py).

Posting as another user and issuing another user's API token act with that
user's rights: superusers only (rooms/admin/forms.py, `may_act_as_others`),
and every post and every token issued here is logged by `rooms.admin` (never
the token). A staff user who is not a superuser posts through the rate limit.
"""

from django.contrib import admin

from ..models import ApiToken, Membership, Message, Room
from .memberships import MembershipAdmin
from .messages import MessageAdmin
from .rooms import RoomAdmin
from .tokens import ApiTokenAdmin

admin.site.register(Room, RoomAdmin)
admin.site.register(Message, MessageAdmin)
admin.site.register(Membership, MembershipAdmin)
admin.site.register(ApiToken, ApiTokenAdmin)
