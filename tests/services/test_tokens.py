"""API tokens (rooms/services/tokens.py): only a hash is stored, a token
authenticates its active user until revoked."""

import hashlib

import pytest

from rooms import services
from rooms.models import ApiToken

pytestmark = pytest.mark.django_db


def test_only_the_tokens_hash_is_stored(alice):
    token = services.api_token_issue(user=alice)
    stored = ApiToken.objects.get(user=alice)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, stored.prefix}
    assert token.startswith("rooms_") and token[6:12] == stored.prefix


def test_token_authenticates_its_user_and_marks_it_used(alice):
    token = services.api_token_issue(user=alice)
    assert services.api_token_authenticate(token=token) == alice
    assert ApiToken.objects.get(user=alice).last_used_at is not None


@pytest.mark.parametrize("token", ["", "rooms_nope", "x" * 500])
def test_unknown_tokens_authenticate_nobody(alice, token):
    services.api_token_issue(user=alice)
    assert services.api_token_authenticate(token=token) is None


def test_revoked_token_and_inactive_user_authenticate_nobody(alice, bob):
    revoked, kept = services.api_token_issue(user=alice), services.api_token_issue(user=bob)
    services.api_token_issue(user=alice)
    assert services.api_token_revoke_all(user=alice) == 2
    assert services.api_token_authenticate(token=revoked) is None
    assert services.api_token_authenticate(token=kept) == bob
    bob.is_active = False
    bob.save()
    assert services.api_token_authenticate(token=kept) is None


def test_each_issue_makes_another_working_token(alice):
    tokens = {services.api_token_issue(user=alice) for _ in range(3)}
    assert len(tokens) == 3
    assert all(services.api_token_authenticate(token=token) == alice for token in tokens)
