"""Users, passwords and API tokens (coordinator.auth.services)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth import services
from coordinator.auth.models import ApiToken
from coordinator.db import utcnow
from coordinator.errors import Conflict, ValidationFailed
from tests.factories import PASSWORD, make_squad, make_token, make_user


def test_password_is_stored_as_a_scrypt_hash(session: Session) -> None:
    user = make_user(session, "committee")
    assert user.password_hash is not None
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert services.authenticate_password(session, user.username, PASSWORD) is user
    assert services.authenticate_password(session, user.username, PASSWORD + "x") is None
    assert services.authenticate_password(session, "nobody-here", PASSWORD) is None


def test_inactive_and_token_only_users_cannot_log_in(session: Session) -> None:
    inactive = make_user(session, "admin")
    inactive.active = False
    app_client = make_user(session, "reporter", password=None)
    assert services.authenticate_password(session, inactive.username, PASSWORD) is None
    assert services.authenticate_password(session, app_client.username, "") is None


def test_token_is_random_stored_hashed_and_authenticates(session: Session) -> None:
    user = make_user(session, "dispatcher")
    token = make_token(session, user)
    other = make_token(session, user)
    assert token != other and token.startswith("jj_") and len(token) > 40
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    identity = services.authenticate_token(session, token)
    assert identity is not None and identity.caller == services.Caller(user.id, user.username, user.role)
    used = session.scalars(select(ApiToken.last_used_at).where(ApiToken.id == identity.token_id)).one()
    assert used is not None
    assert services.authenticate_token(session, token + "x") is None
    assert services.authenticate_token(session, "not-even-a-token") is None


def test_expired_and_revoked_tokens_fail(session: Session) -> None:
    user = make_user(session, "admin")
    old = make_token(session, user, ttl_days=1, now=utcnow() - timedelta(days=2))
    assert services.authenticate_token(session, old) is None
    live = make_token(session, user)
    assert services.revoke_tokens(session, username=user.username) == 2  # revoked_at set on both
    assert services.authenticate_token(session, live) is None


def test_revoke_one_token_by_prefix(session: Session) -> None:
    user = make_user(session, "admin")
    keep, drop = make_token(session, user), make_token(session, user)
    assert services.revoke_tokens(session, prefix=drop[:10]) == 1
    assert services.authenticate_token(session, drop) is None
    assert services.authenticate_token(session, keep) is not None
    with pytest.raises(ValidationFailed):
        services.revoke_tokens(session, prefix="jj_")


def test_deactivated_user_loses_tokens(session: Session) -> None:
    user = make_user(session, "committee")
    token = make_token(session, user)
    services.deactivate_user(session, user.username)
    assert services.authenticate_token(session, token) is None


@pytest.mark.parametrize(
    ("role", "squad", "district", "message"),
    [
        ("squad_leader", False, None, "needs --squad"),
        ("committee", True, None, "only squad leaders and members"),
        ("committee", False, "310120", "only dispatchers"),
        ("dispatcher", False, "310101", "member districts"),
        ("squad_member", True, "310120", "district of its squad"),
        ("janitor", False, None, "role"),
    ],
)
def test_role_squad_and_district_must_fit(
    session: Session, role: str, squad: bool, district: str | None, message: str
) -> None:
    code = make_squad(session).code if squad else None
    with pytest.raises(ValidationFailed) as info:
        services.create_user(session, username="someone", role=role, squad_code=code, district=district)
    assert message in " ".join(info.value.details)


def test_scopes(session: Session) -> None:
    squad = make_squad(session, district="310116")
    assert make_user(session, "squad_leader", squad=squad).scope_district == "310116"
    assert make_user(session, "dispatcher", district="310117").scope_district == "310117"
    assert make_user(session, "dispatcher").scope_district is None  # the alliance


def test_usernames_are_unique(session: Session) -> None:
    make_user(session, "admin", username="dup_user")
    with pytest.raises(Conflict):
        make_user(session, "committee", username="dup_user")


def test_short_password_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="cannot create"):
        make_user(session, "admin", password="short")
