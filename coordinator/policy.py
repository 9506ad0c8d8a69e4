"""Access at the web edge: who is calling, and which roles may use which endpoint.

- `coordinator.access_rules.RULES` maps each Flask endpoint to a `Rule` (public, or the roles allowed).
  One `before_request` hook here (`enforce`) applies it to every request. It fails closed: an
  endpoint without a rule answers 403 (and the route × role table test in tests/test_policy.py fails
  the build first).
- Decisions that depend on the data (which squads a dispatcher may manage, who sees a reporter's phone
  number, who may act on a case) are plain functions in coordinator.permissions, which services call
  without Flask.

Credentials: `Authorization: Bearer <token>` (API clients; no CSRF check), or the browser session set
by `POST /api/v1/auth/login`, whose unsafe requests (POST/PUT/PATCH/DELETE) must carry the session's
CSRF token in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Literal

from flask import Flask, g, request, session
from sqlalchemy.orm import Session

from coordinator import security
from coordinator.access_rules import API_KEY_RULES, RULES
from coordinator.auth.models import ApiToken, User
from coordinator.auth.services import Caller
from coordinator.errors import Forbidden, Unauthorized
from coordinator.extensions import db_session

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
SESSION_USER = "uid"
SESSION_CSRF = "csrf"
SESSION_FINGERPRINT = "pwfp"
SESSION_ID = "sid"  # the server-side session (coordinator.auth.models.WebSession)


class Principal:
    """The authenticated caller of the current request.

    `caller` (id, username, role) comes with authentication; the ORM `user` and `token` are loaded on
    first use, so a request that only needs to know who is calling (most writes) never loads them.
    """

    def __init__(
        self,
        caller: Caller,
        via: Literal["token", "session"],
        *,
        token_id: int | None = None,
        user: User | None = None,
    ) -> None:
        self.caller = caller
        self.via = via
        self.token_id = token_id
        self._user = user
        self._token: ApiToken | None = None

    @property
    def user(self) -> User:
        """The caller's user row (loaded in the request's session on first use)."""
        if self._user is None:
            user = db_session().get(User, self.caller.id)
            if user is None:  # deleted while the request ran
                raise Unauthorized("the user of this token no longer exists")
            self._user = user
        return self._user

    @property
    def rate_key(self) -> str:
        """What rate limits count this caller by: the token, or the user of a browser session."""
        return f"token:{self.token_id}" if self.token_id is not None else f"user:{self.caller.id}"

    @property
    def token(self) -> ApiToken | None:
        """The bearer token row, if the caller used one."""
        if self._token is None and self.token_id is not None:
            self._token = db_session().get(ApiToken, self.token_id)
        return self._token


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash kept in the session: changing the password ends sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return value.strip()


def authenticate(db: Session) -> Principal | None:
    """The caller from a bearer token (preferred) or the browser session; None if neither is sent.

    A token that is sent but unknown, expired or revoked is an error (401), never "anonymous".
    """
    from coordinator.auth import services as auth

    token = _bearer_token()
    if token is not None:
        identity = auth.authenticate_token(db, token)
        if identity is None:
            raise Unauthorized("invalid, expired or revoked API token")
        return Principal(identity.caller, "token", token_id=identity.token_id)
    user_id = session.get(SESSION_USER)
    if user_id is None:
        return None
    sid = session.get(SESSION_ID)
    # The session must still be live on the server: logout, `users revoke` and deactivation end it there.
    user = auth.web_session_user(db, sid) if isinstance(sid, str) else None
    if user is None or user.id != user_id or session.get(SESSION_FINGERPRINT) != password_fingerprint(user):
        session.clear()
        raise Unauthorized("the session has ended; log in again")
    return Principal(Caller(user.id, user.username, user.role), "session", user=user)


def authenticate_api_key(db: Session, api_key: str | None) -> Caller:
    """The user behind the `api_key` of the current request, if its role passes API_KEY_RULES.

    Open311 answers a missing or invalid key with 403 (not 401), so every failure here is Forbidden.
    """
    from coordinator.auth import services as auth

    endpoint = request.endpoint or ""
    rule = API_KEY_RULES.get(endpoint)
    if rule is None:  # a view asked for an api_key without a rule: fail closed
        raise Forbidden("no api_key rule covers this route", details={"endpoint": endpoint})
    if not api_key:
        raise Forbidden("api_key is required: the API token of a user allowed to report")
    identity = auth.authenticate_token(db, api_key)
    if identity is None:
        raise Forbidden("invalid, expired or revoked api_key")
    if not rule.allows(identity.caller.role):
        raise Forbidden(f"a {identity.caller.role} may not submit requests")
    security.limit_caller(endpoint, f"token:{identity.token_id}")
    return identity.caller


def _check_csrf() -> None:
    expected = session.get(SESSION_CSRF)
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(str(expected), sent):
        raise Forbidden(
            f"session requests that change data need the {CSRF_HEADER} header (from login or /api/v1/me)",
            code="csrf_failed",
        )


def enforce() -> None:
    """The one `before_request` hook: authenticate, then apply the endpoint's rule."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let Flask answer 404/405
        return
    rule = RULES.get(endpoint)
    if rule is None:
        log.error("no access rule for endpoint %s: denied (fail closed)", endpoint)
        raise Forbidden("no access rule covers this route", details={"endpoint": endpoint})
    # A flood counts against its address before any credential is looked at.
    security.limit_address(endpoint)
    if rule.public:
        return
    principal = authenticate(db_session())
    if principal is None and rule.feed and request.args.get("token"):
        from coordinator.feedtokens.services import check

        g.feed_token = check(db_session(), request.args["token"])  # 403 feed_token_invalid unless live
        return
    if principal is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    g.principal = principal
    if principal.via == "session" and request.method in UNSAFE_METHODS:
        _check_csrf()
    role = principal.caller.role
    if not rule.allows(role):
        raise Forbidden(
            f"a {role} may not use this endpoint",
            details={"endpoint": endpoint, "role": role, "allowed": sorted(rule.roles)},
        )
    security.limit_caller(endpoint, principal.rate_key)


def init_app(app: Flask) -> None:
    """Install the policy hook."""
    app.before_request(enforce)


def current_principal() -> Principal:
    """The caller of a protected endpoint (the hook guarantees there is one)."""
    principal: Principal | None = g.get("principal")
    if principal is None:  # a view on a public route asked for a user: a programming error
        raise Unauthorized("authentication required")
    return principal


def current_user() -> User:
    """The user calling a protected endpoint (its ORM row, loaded on first use)."""
    return current_principal().user


def current_caller() -> Caller:
    """Who calls a protected endpoint (id, username, role) without loading the user row."""
    return current_principal().caller
