"""The API's routes, under `/api/` (docs/api.md). A trailing slash is
optional everywhere; any other path is a JSON 404."""

from django.urls import re_path

from . import attachments, direct, members, messages, notifications, push, rooms, search, users
from .http import unknown_endpoint

urlpatterns = [
    re_path(r"^rooms/?$", rooms.room_list, name="api-rooms"),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/messages/?$", messages.room_messages, name="api-room-messages"
    ),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/messages/(?P<seq>[^/]+)/?$",
        messages.room_message,
        name="api-room-message",
    ),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/messages/(?P<seq>[^/]+)/reactions/?$",
        messages.message_reactions,
        name="api-message-reactions",
    ),
    re_path(r"^rooms/(?P<slug>[^/]+)/attachments/?$", attachments.room_attachments),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/notifications/?$",
        notifications.room_notifications,
        name="api-room-notifications",
    ),
    re_path(r"^rooms/(?P<slug>[^/]+)/?$", rooms.room_detail, name="api-room"),
    re_path(r"^rooms/(?P<slug>[^/]+)/hide/?$", rooms.room_hide, name="api-room-hide"),
    re_path(r"^rooms/(?P<slug>[^/]+)/members/?$", members.room_members, name="api-room-members"),
    re_path(
        r"^rooms/(?P<slug>[^/]+)/members/(?P<username>[^/]+)/?$",
        members.room_member,
        name="api-room-member",
    ),
    re_path(r"^search/?$", search.search, name="api-search"),
    re_path(r"^direct/?$", direct.direct, name="api-direct"),
    re_path(r"^users/?$", users.users, name="api-users"),
    re_path(r"^push/key/?$", push.push_key, name="api-push-key"),
    re_path(r"^push/subscriptions/?$", push.push_subscriptions, name="api-push-subscriptions"),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
