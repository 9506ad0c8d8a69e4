"""Users, passwords, API tokens and the contact-read audit. Plain functions taking a Session; they never
commit (a request or a CLI command does).

- Passwords: werkzeug's scrypt (`scrypt:32768:8:1`), salted, constant-time comparison.
- API tokens: 32 random bytes from `secrets` (`jj_…`), shown once; only their SHA-256 is stored. A
  high-entropy random token needs no slow KDF: the hash only has to make a stolen table useless.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from coordinator.auth.models import (
    ROLES,
    SQUAD_ROLES,
    ApiToken,
    ContactAccessLog,
    LoginFailure,
    User,
    WebSession,
)
from coordinator.db import utcnow
from coordinator.dialects import write_unless_busy
from coordinator.errors import Conflict, NotFound, ValidationFailed
from coordinator.squads.models import Squad
from coordinator.squads.services import get_squad
from geo.jurisdictions import MEMBER_DISTRICTS

TOKEN_PREFIX = "jj_"
PREFIX_LENGTH = 10  # "jj_" + 7 characters: enough to tell tokens apart, useless for guessing
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
# Checked against when the user does not exist, so a wrong username costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password", method=PASSWORD_METHOD)

# Writing last_used_at on every request would turn reads into writes; once a few minutes is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def generate_password() -> str:
    """A random password for a new account (shown once)."""
    return secrets.token_urlsafe(12)


def hash_token(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    """The folded form of a username that must be unique (case-insensitive)."""
    return username.strip().lower()


def get_user(session: Session, username: str) -> User:
    """A user by username (any case), or NotFound."""
    user = session.scalars(select(User).where(User.username_key == username_key(username))).one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}", details={"username": username})
    return user


def find_user(session: Session, username: str) -> User | None:
    """A user by username (any case), or None."""
    return session.scalars(select(User).where(User.username_key == username_key(username))).one_or_none()


def list_users(session: Session, *, role: str | None = None, district: str | None = None) -> list[User]:
    """Users ordered by username; `district` keeps those acting for it (squad or dispatcher)."""
    stmt = select(User).order_by(User.username)
    if role is not None:
        stmt = stmt.where(User.role == role)
    users = list(session.scalars(stmt))
    if district is not None:
        users = [u for u in users if u.scope_district == district]
    return users


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    squad_code: str | None = None,
    district: str | None = None,
    display_name: str = "",
    password: str | None = None,
) -> User:
    """Create a user, checking that role, squad and district fit together.

    `squad_leader`/`squad_member` need a squad; a `dispatcher` may name one member district (none: the
    whole alliance); other roles take neither. `password=None` makes a token-only account.
    """
    problems: list[str] = []
    if not USERNAME_RE.match(username):
        problems.append("username: 3–64 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        problems.append(f"role: one of {', '.join(ROLES)}")
    squad: Squad | None = None
    if role in SQUAD_ROLES:
        if squad_code is None:
            problems.append(f"a {role} needs --squad CODE")
        else:
            try:
                squad = get_squad(session, squad_code)
            except NotFound:
                problems.append(f"squad: no squad with code {squad_code!r}")
        if district is not None:
            problems.append(f"a {role} takes the district of its squad; leave out --district")
    elif squad_code is not None:
        problems.append(f"only squad leaders and members belong to a squad, not a {role}")
    if role != "dispatcher" and role not in SQUAD_ROLES and district is not None:
        problems.append(f"only dispatchers are scoped to a district, not a {role}")
    if role == "dispatcher" and district is not None and district not in MEMBER_DISTRICTS:
        problems.append(f"district: one of the member districts {', '.join(sorted(MEMBER_DISTRICTS))}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if problems:
        raise ValidationFailed("cannot create the user", details=problems)
    if find_user(session, username) is not None:
        raise Conflict(f"user {username!r} already exists", details={"username": username})
    user = User(
        username=username,
        username_key=username_key(username),
        role=role,
        squad=squad,
        squad_id=squad.id if squad else None,
        district_code=district if role == "dispatcher" else None,
        display_name=display_name,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace the user's password (this also ends their browser sessions: see policy.authenticate)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same cost either way)."""
    user = find_user(session, username)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


@dataclass(frozen=True)
class LoginThrottle:
    """At most `max_failures` wrong passwords per username within `window`; then wait."""

    max_failures: int
    window: timedelta


def _login_key(username: str) -> str:
    return username.strip().lower()[:64]


def login_retry_after(
    session: Session, username: str, throttle: LoginThrottle, *, now: datetime | None = None
) -> int | None:
    """Seconds until `username` may try a password again, or None if it may now.

    Counted per username, not per client address: behind the district's reverse proxy every browser
    has the proxy's address. While the limit holds even the right password is refused — otherwise the
    throttle would only slow down the guesses it is there to stop.
    """
    now = now or utcnow()
    recent = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.username == _login_key(username), LoginFailure.at > now - throttle.window)
        .order_by(LoginFailure.at.desc())
        .limit(throttle.max_failures)
    ).all()
    if len(recent) < throttle.max_failures:
        return None
    # Free again when the oldest of the last `max_failures` failures leaves the window.
    return max(1, math.ceil((recent[-1] + throttle.window - now).total_seconds()))


def record_login_failure(
    session: Session, username: str, throttle: LoginThrottle, *, now: datetime | None = None
) -> None:
    """Count a wrong password (or an unknown username) against `username`.

    Failures that left the window are deleted here, whatever their username: the table holds no more
    than one window's failures, even under a spray of made-up usernames (each costs a password hash).
    """
    now = now or utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - throttle.window))
    session.add(LoginFailure(username=_login_key(username), at=now))
    session.flush()


def clear_login_failures(session: Session, username: str) -> None:
    """A successful login starts the count again."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _login_key(username)))


def issue_token(
    session: Session, user: User, *, ttl_days: int, label: str = "", now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token for `user`. Returns the row and the token itself, which is never stored."""
    if isinstance(ttl_days, bool) or ttl_days < 1:
        raise ValidationFailed("a token must live at least one day", details={"days": ttl_days})
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        prefix=token[:PREFIX_LENGTH],
        label=label[:100],
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    session.add(row)
    session.flush()
    return row, token


class Actor(Protocol):
    """Whoever acts on a case or submits a report: a `User` row or a `Caller`."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Caller:
    """Who is acting, as far as most requests need to know: a user's id, name and role.

    Authentication hands this out instead of an ORM `User`: most requests (every report) only need to
    know who is calling, and loading the user, the token and the squad as ORM objects on each of them
    would be wasted work. A view that needs the full user asks for it (`coordinator.policy.current_user`)
    and loads it then.
    """

    id: int
    username: str
    role: str


@dataclass(frozen=True)
class TokenIdentity:
    """A valid bearer token and its user."""

    token_id: int
    prefix: str
    expires_at: datetime
    caller: Caller


_TOKENS = cast(Table, ApiToken.__table__)
_USERS = cast(Table, User.__table__)
_AUTHENTICATE = (
    select(
        _TOKENS.c.id,
        _TOKENS.c.prefix,
        _TOKENS.c.expires_at,
        _TOKENS.c.last_used_at,
        _USERS.c.id.label("user_id"),
        _USERS.c.username,
        _USERS.c.role,
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _USERS.c.active.is_(True),
    )
)


def authenticate_token(session: Session, token: str, *, now: datetime | None = None) -> TokenIdentity | None:
    """The identity behind a presented bearer token, if the token is live and its user active.

    One Core round trip (every authenticated request pays it); `last_used_at` is written at most every
    LAST_USED_RESOLUTION.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    session.flush()  # a no-op unless this session changed users or tokens it has not flushed yet
    row = session.execute(_AUTHENTICATE, {"token_hash": hash_token(token)}).first()
    if row is None or now >= row.expires_at:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        _stamp_last_used(session, row.id, row.prefix, now)
    return TokenIdentity(row.id, row.prefix, row.expires_at, Caller(row.user_id, row.username, row.role))


def _stamp_last_used(session: Session, token_id: int, prefix: str, now: datetime) -> None:
    # The stamp is bookkeeping inside what may be a read-only request: if SQLite's write lock is taken
    # by another connection it yields, and a later request stamps the token.
    stamp = update(_TOKENS).where(_TOKENS.c.id == token_id).values(last_used_at=now)
    write_unless_busy(session, stamp, f"token {prefix}: last_used_at stamp")


def revoke_tokens(
    session: Session, *, username: str | None = None, prefix: str | None = None, now: datetime | None = None
) -> int:
    """Revoke all live tokens of a user, or the token(s) starting with `prefix`. Returns how many."""
    if username is None and prefix is None:
        raise ValidationFailed("name a user or a token prefix")
    now = now or utcnow()
    stmt = update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    if username is not None:
        stmt = stmt.where(ApiToken.user_id == get_user(session, username).id)
    if prefix is not None:
        if len(prefix) < PREFIX_LENGTH:
            raise ValidationFailed(f"a token prefix has {PREFIX_LENGTH} characters, e.g. jj_AbC1234")
        stmt = stmt.where(ApiToken.prefix == prefix[:PREFIX_LENGTH])
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    if username is not None and prefix is None:  # all of a user's credentials: their sessions too
        revoke_web_sessions(session, get_user(session, username), now=now)
    return int(getattr(result, "rowcount", 0) or 0)


def start_web_session(session: Session, user: User, *, hours: int, now: datetime | None = None) -> str:
    """A new server-side browser session for `user`; returns the random id the cookie carries (only its
    hash is stored). The user's sessions that have ended are deleted on the way."""
    now = now or utcnow()
    session.execute(
        delete(WebSession).where(
            WebSession.user_id == user.id,
            (WebSession.expires_at <= now) | WebSession.revoked_at.is_not(None),
        )
    )
    sid = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_token(sid),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return sid


def web_session_user(session: Session, sid: str, *, now: datetime | None = None) -> User | None:
    """The active user of a live (not revoked, not expired) browser session, or None."""
    now = now or utcnow()
    row = session.scalars(select(WebSession).where(WebSession.token_hash == hash_token(sid))).one_or_none()
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def end_web_session(session: Session, sid: str, *, now: datetime | None = None) -> None:
    """Revoke one browser session (logout)."""
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_token(sid), WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def revoke_web_sessions(session: Session, user: User, *, now: datetime | None = None) -> int:
    """Revoke every live browser session of `user`; returns how many."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def deactivate_user(session: Session, username: str, *, now: datetime | None = None) -> User:
    """Deactivate a user and revoke their tokens; their sessions stop working at the next request."""
    user = get_user(session, username)
    user.active = False
    revoke_tokens(session, username=username, now=now)
    return user


def live_tokens(session: Session, user: User, *, now: datetime | None = None) -> list[ApiToken]:
    """The user's tokens that still work."""
    now = now or utcnow()
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [t for t in rows if t.is_valid(now)]


def record_contact_read(
    session: Session,
    user: User,
    *,
    subject_type: str,
    subject_id: str | int,
    fields: Sequence[str],
    purpose: str = "",
) -> ContactAccessLog:
    """Append one audit record: `user` saw the unmasked `fields` of a subject (e.g. a report's reporter)."""
    if not fields:
        raise ValueError("an audit record names the fields that were read")
    entry = ContactAccessLog(
        at=utcnow(),
        user_id=user.id,
        username=user.username,
        role=user.role,
        subject_type=subject_type,
        subject_id=str(subject_id),
        fields=",".join(sorted(fields)),
        purpose=purpose[:200],
    )
    session.add(entry)
    session.flush()
    return entry


def list_contact_reads(
    session: Session,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    username: str | None = None,
    limit: int = 100,
) -> list[ContactAccessLog]:
    """Audit records, newest first."""
    stmt = select(ContactAccessLog).order_by(ContactAccessLog.id.desc()).limit(limit)
    if subject_type is not None:
        stmt = stmt.where(ContactAccessLog.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(ContactAccessLog.subject_id == subject_id)
    if username is not None:
        stmt = stmt.where(ContactAccessLog.username == username)
    return list(session.scalars(stmt))
