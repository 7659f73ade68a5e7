"""API tokens: issuing, revoking, and finding the user a token belongs to.
Only a token's hash is stored (rooms/tokens.py says where a token may
travel).

Revoking tells the hubs (AccessChanged for the token's user, after commit),
which forget what they knew of the user's credentials, so the next
handshake with the token reads the database; their access check
(selectors.access_snapshot) closes the token's open sockets on its next
round, and finds a revocation whose event was lost the same way.
"""

import hashlib
import secrets
import threading
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import broadcast, events
from ..models import ApiToken
from ..selectors.compiled import CompiledQuery


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user: AbstractBaseUser) -> str:
    """A new API token for `user`. Only its hash is stored: the token is
    returned once, here."""
    token = "rooms_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, token_hash=token_hash(token), prefix=token[6:12])
    return token


def api_token_revoke_all(*, user: AbstractBaseUser) -> int:
    with transaction.atomic():
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            broadcast.publish_on_commit(events.AccessChanged(user_id=user.pk))
    return revoked


def api_tokens_revoke(*, token_ids) -> int:
    """Revoke the given API tokens (the admin's action); returns how many
    were still active. Their owners' other tokens keep working."""
    with transaction.atomic():
        live = ApiToken.objects.filter(pk__in=list(token_ids), revoked_at__isnull=True)
        owners = set(live.values_list("user_id", flat=True))
        revoked = live.update(revoked_at=timezone.now())
        for user_id in sorted(owners):
            broadcast.publish_on_commit(events.AccessChanged(user_id=user_id))
    return revoked


def api_token_authenticate(*, token: str):
    """The active user owning `token`, or None. Marks the token used (at most
    once a minute, to keep logins from writing on every connect)."""
    if not token or len(token) > 200:
        return None
    rows = _TOKEN_ROW.rows(token_hash(token))
    if not rows:
        return None
    found = rows[0]
    user_model = get_user_model()
    fields = _user_fields(user_model)
    user = user_model.from_db(DEFAULT_DB_ALIAS, fields, [found[f"user__{name}"] for name in fields])
    if not user.is_active:
        return None
    now = timezone.now()
    stale = found["last_used_at"] is None or now - found["last_used_at"] > TOKEN_TOUCH_EVERY
    if stale and _claim_touch(found["token_hash"]):
        ApiToken.objects.filter(pk=found["pk"]).update(last_used_at=now)
    return user


def _user_fields(user_model) -> list[str]:
    return [field.attname for field in user_model._meta.concrete_fields]


def _token_row(digest: str) -> QuerySet:
    """The unrevoked token of a hash with its user's fields, in one query
    (token_hash is unique: one row at most)."""
    user_fields = (f"user__{name}" for name in _user_fields(get_user_model()))
    tokens = ApiToken.objects.filter(token_hash=digest, revoked_at__isnull=True)
    return tokens.values("pk", "token_hash", "last_used_at", *user_fields)[:1]


# Built and compiled once per database: the lookup runs on every API request
# and WebSocket handshake, and building it cost more than running it (issue 23).
# The stand-ins are no SHA-256 hex digest.
_TOKEN_ROW = CompiledQuery(_token_row, stand_ins=("stand-in:1", "stand-in:2"))


def api_token_touch_due(token_hash: str) -> bool:
    """Whether a token used again without reading it (a hub knew it) should
    be marked used now (once a minute per process; claims the mark)."""
    return _claim_touch(token_hash)


def api_token_touch(*, token_hash: str) -> None:
    """Mark a token used now (see api_token_touch_due)."""
    ApiToken.objects.filter(token_hash=token_hash).update(last_used_at=timezone.now())


# When many sockets of one token connect at once (a reconnect storm), every
# one of them reads the same stale last_used_at: only the first of this
# process writes it, the others do not queue for the write lock.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
_touched: dict[str, float] = {}  # token hash -> when this process last wrote it
_touched_lock = threading.Lock()


def _claim_touch(key: str) -> bool:
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(key, float("-inf")) < TOKEN_TOUCH_EVERY.total_seconds():
            return False
        if len(_touched) > 10_000:
            _touched.clear()
        _touched[key] = now
        return True
