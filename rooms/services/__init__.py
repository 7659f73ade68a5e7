"""Every write of the rooms app, a module per subject: `entries` (messages
and their changes, through the group commit of `commit`; read cursors;
typing), `rooms`, `memberships`, `direct`, `retention`, `tokens`,
`presence`, `notifications`, `away` (email and push for people away),
`display` (a person's language and theme), `stored_json` (each entry's
stored JSON kept current), `attachments` (uploads,
claimed by the group commit; their files deleted with their messages) and
`attachments_cleanup` (uploads nobody sent).

Each write checks what it needs and changes the database in one
transaction; a write that open sockets must hear of publishes its live
event only after the commit (`broadcast.publish_on_commit`), so nobody hears
of a change that could still roll back. Each module's docstring says what
it publishes. Who may see, post in, moderate or manage a room is decided
by rooms/access.py, never here. The consumer, the HTTP API, the pages, the
admin and the management commands call these functions (as `services.X`,
re-exported here); none of them writes any other way.

Who acts, in the name: a write named `<entity>_<action>` is an operator's
(the admin, the management commands): it checks its input and the room's
rules (a direct conversation's people are fixed), not who asks, since the
operator's tool has decided that. Its counterpart named
`<entity>_<action>_by` takes the acting person as `by=` and first checks
that they may (the room list, the manage page, the API):

    room_create          room_create_by
    room_update          room_update_by
    membership_set_role  membership_invite_by, membership_set_role_by
    membership_remove    membership_remove_by

A `_by` write locks the room's row before it checks who acts, so a
moderator demoted meanwhile is seen demoted. What a person starts (rooms,
new direct conversations, invitations) counts against ROOMS_CREATE_RATE
(`starts`); an operator's write does not.

Writes a user makes for themselves (entry_post, read_cursor_advance,
direct_open, direct_hide, membership_leave, notification_level_set) take
that user as `author` or `user`.
"""

from .attachments import attachment_upload_by
from .attachments_cleanup import upload_forget, uploads_prune
from .away import (
    away_note,
    email_settings_set,
    email_unsubscribe,
    push_subscription_delete,
    push_subscription_save,
    unsubscribe_url,
)
from .away_delivery import away_deliver, away_deliver_due
from .commit import EntryRequest, EntryResult
from .direct import direct_hide, direct_open
from .display import user_settings_set
from .entries import (
    entry_post,
    entry_post_many,
    message_post,
    read_cursor_advance,
    typing_notify,
)
from .memberships import (
    membership_invite_by,
    membership_leave,
    membership_remove,
    membership_remove_by,
    membership_set_role,
    membership_set_role_by,
)
from .notifications import notification_level_set
from .presence import presence_snapshot_save
from .retention import messages_prune
from .rooms import (
    check_title,
    room_create,
    room_create_by,
    room_create_or_update,
    room_update,
    room_update_by,
)
from .stored_json import entries_json_fill
from .tokens import (
    api_token_authenticate,
    api_token_issue,
    api_token_revoke_all,
    api_token_touch,
    api_token_touch_due,
    api_tokens_revoke,
    token_hash,
)

# The names before the `_by` convention, for the adapters that still call
# them (rooms/web/manage.py, rooms/api/, tests/realtime/).
room_edit = room_update_by
membership_invite = membership_invite_by
membership_change_role = membership_set_role_by
membership_revoke = membership_remove_by

__all__ = [
    "EntryRequest",
    "EntryResult",
    "api_token_authenticate",
    "api_token_issue",
    "api_token_revoke_all",
    "api_token_touch",
    "api_token_touch_due",
    "api_tokens_revoke",
    "attachment_upload_by",
    "away_deliver",
    "away_deliver_due",
    "away_note",
    "check_title",
    "direct_hide",
    "direct_open",
    "email_settings_set",
    "email_unsubscribe",
    "entries_json_fill",
    "entry_post",
    "entry_post_many",
    "membership_change_role",
    "membership_invite",
    "membership_invite_by",
    "membership_leave",
    "membership_remove",
    "membership_remove_by",
    "membership_revoke",
    "membership_set_role",
    "membership_set_role_by",
    "message_post",
    "messages_prune",
    "notification_level_set",
    "presence_snapshot_save",
    "push_subscription_delete",
    "push_subscription_save",
    "read_cursor_advance",
    "room_create",
    "room_create_by",
    "room_create_or_update",
    "room_edit",
    "room_update",
    "room_update_by",
    "token_hash",
    "typing_notify",
    "unsubscribe_url",
    "upload_forget",
    "uploads_prune",
    "user_settings_set",
]
