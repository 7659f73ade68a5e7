"""Every read of the rooms app, a module per subject: `log` (heads, where a
join starts, keyset pages of entries by seq, and `entry_json`, the one
builder of an entry's JSON), `listings` (the rooms a user may see, a room's
detail, operators' counts), `members` (members, users by name, who is
online), `direct` (direct conversations), `notifications`, `search`,
`display` (a person's language and theme),
`realtime` (what the hubs re-read to repair), `commit` (the group
commit's reads) and `attachments` (files' objects, and who may have one).

Who may see, post in, moderate or manage a room is rooms/access.py's to
say; the selectors that list rooms use its queryset form
(access.visible_rooms). Callers use `selectors.X`, re-exported here.
"""

from .attachments import (
    attachment_json,
    attachment_object,
    attachment_to_serve,
    attachments_by_message,
)
from .commit import PostAccess, post_access, seqs_by_client_id
from .direct import direct_conversations, direct_people, direct_people_by_room, direct_room
from .display import DEFAULT_DISPLAY, Display, user_display, user_language
from .listings import room_detail, room_stats, room_summary, rooms_for_user, with_room_stats
from .log import (
    ENTRY_COLUMNS,
    EntryRow,
    backfill_pages,
    effective_since,
    entries_after,
    entries_at,
    entries_rendered,
    entry_json,
    iter_entries,
    join_start,
    messages_before,
    room_head,
    room_heads,
    split_pages,
)
from .members import (
    PRESENCE_TTL,
    USER_PICKER_LIMIT,
    online_users,
    room_member_names,
    room_members,
    usernames_starting,
    users_named,
)
from .notifications import DIRECT_NOTIFICATION_DEFAULT, notification_level, notification_levels
from .realtime import AccessSnapshot, RoomState, access_snapshot, feed_start, room_states
from .search import SearchHit, SearchResults, search_messages

__all__ = [
    "DEFAULT_DISPLAY",
    "DIRECT_NOTIFICATION_DEFAULT",
    "ENTRY_COLUMNS",
    "PRESENCE_TTL",
    "USER_PICKER_LIMIT",
    "AccessSnapshot",
    "Display",
    "EntryRow",
    "PostAccess",
    "RoomState",
    "SearchHit",
    "SearchResults",
    "access_snapshot",
    "attachment_json",
    "attachment_object",
    "attachment_to_serve",
    "attachments_by_message",
    "backfill_pages",
    "direct_conversations",
    "direct_people",
    "direct_people_by_room",
    "direct_room",
    "effective_since",
    "entries_after",
    "entries_at",
    "entries_rendered",
    "entry_json",
    "feed_start",
    "iter_entries",
    "join_start",
    "messages_before",
    "notification_level",
    "notification_levels",
    "online_users",
    "post_access",
    "room_detail",
    "room_head",
    "room_heads",
    "room_member_names",
    "room_members",
    "room_states",
    "room_stats",
    "room_summary",
    "rooms_for_user",
    "search_messages",
    "seqs_by_client_id",
    "split_pages",
    "user_display",
    "user_language",
    "usernames_starting",
    "users_named",
    "with_room_stats",
]
