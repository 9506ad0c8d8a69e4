"""People API: login/logout for the web UI, the caller (`/me`), users, the contact-read audit."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, session

from coordinator.access_rules import RULES
from coordinator.api import endpoint
from coordinator.auth import services
from coordinator.auth.models import User
from coordinator.auth.schemas import (
    ContactReadList,
    ContactReadQuery,
    LoginBody,
    LoginResult,
    Me,
    UserList,
    UserQuery,
)
from coordinator.db import utcnow
from coordinator.errors import TooManyRequests, Unauthorized, render_error
from coordinator.extensions import db_session
from coordinator.permissions import contact_visibility
from coordinator.policy import (
    SESSION_CSRF,
    SESSION_FINGERPRINT,
    SESSION_ID,
    SESSION_USER,
    current_principal,
    password_fingerprint,
)
from coordinator.settings import get_settings
from coordinator.worktime import SHANGHAI

bp = Blueprint("auth", __name__)


def user_json(user: User) -> dict[str, Any]:
    """A user as the API shows them."""
    squad = user.squad
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "squad": {"code": squad.code, "name": squad.name_zh, "district": squad.district_code}
        if squad
        else None,
        "district": user.scope_district,
        "town": user.town_code,
        "active": user.active,
    }


@bp.post("/auth/login")
@endpoint(
    summary="Start a browser session (web UI)",
    description="Sets a signed, HttpOnly session cookie and returns the CSRF token that session requests "
    "changing data must send as `X-CSRF-Token`. API clients use bearer tokens instead. After "
    "`LOGIN_MAX_FAILURES` wrong passwords for a username within `LOGIN_WINDOW_MINUTES`, that username "
    "gets 429 with `Retry-After` until the oldest of them is out of the window.",
    tags=["auth"],
    body=LoginBody,
    response=LoginResult,
    errors=(400, 401, 429),
)
def login(body: LoginBody) -> dict[str, Any] | Response:
    db = db_session()
    settings = get_settings()
    throttle = services.LoginThrottle(
        settings.login_max_failures, timedelta(minutes=settings.login_window_minutes)
    )
    wait = services.login_retry_after(db, body.username, throttle)
    if wait is not None:
        raise TooManyRequests(
            f"too many wrong passwords for this username; try again in {wait} s",
            retry_after=wait,
            details={"retry_after_s": wait},
        )
    user = services.authenticate_password(db, body.username, body.password)
    if user is None:
        services.record_login_failure(db, body.username, throttle)
        return render_error(Unauthorized("wrong username or password"))  # answered, and the failure kept
    services.clear_login_failures(db, body.username)
    session.clear()
    session.permanent = True
    session[SESSION_ID] = services.start_web_session(db, user, hours=settings.session_hours)
    session[SESSION_USER] = user.id
    session[SESSION_CSRF] = secrets.token_urlsafe(32)
    session[SESSION_FINGERPRINT] = password_fingerprint(user)
    hours = settings.session_hours
    return {
        "user": user_json(user),
        "csrf_token": session[SESSION_CSRF],
        "expires_at": (utcnow() + timedelta(hours=hours)).astimezone(SHANGHAI).isoformat(),
    }


@bp.post("/auth/logout")
@endpoint(summary="End the browser session", tags=["auth"], status=204, errors=(401, 403))
def logout() -> Response:
    sid = session.get(SESSION_ID)
    if isinstance(sid, str):
        services.end_web_session(db_session(), sid)  # a copy of the cookie stops working too
    session.clear()
    return Response(status=204)


@bp.get("/me")
@endpoint(summary="The caller: user, role, scope and rights", tags=["auth"], response=Me, errors=(401,))
def me() -> dict[str, Any]:
    principal = current_principal()
    user = principal.user
    token = principal.token
    return {
        **user_json(user),
        "authenticated_via": principal.via,
        "token_prefix": token.prefix if token else None,
        "token_expires_at": token.expires_at.astimezone(SHANGHAI).isoformat() if token else None,
        "csrf_token": session.get(SESSION_CSRF) if principal.via == "session" else None,
        "contact_visibility": contact_visibility(user.role),
        "endpoints": sorted(
            name for name, rule in RULES.items() if not rule.public and rule.allows(user.role)
        ),
    }


@bp.get("/users")
@endpoint(summary="List users", tags=["auth"], query=UserQuery, response=UserList, errors=(401, 403))
def list_users(query: UserQuery) -> dict[str, Any]:
    users = services.list_users(db_session(), role=query.role, district=query.district)
    return {"users": [user_json(u) for u in users]}


@bp.get("/audit/contact-reads")
@endpoint(
    summary="Audit of reads of unmasked reporter contact data (admins)",
    tags=["auth"],
    query=ContactReadQuery,
    response=ContactReadList,
    errors=(401, 403),
)
def list_contact_reads(query: ContactReadQuery) -> dict[str, Any]:
    rows = services.list_contact_reads(
        db_session(),
        subject_type=query.subject_type,
        subject_id=query.subject_id,
        username=query.username,
        limit=query.limit,
    )
    return {
        "reads": [
            {
                "at": r.at.astimezone(SHANGHAI).isoformat(),
                "username": r.username,
                "role": r.role,
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "fields": r.fields.split(","),
                "purpose": r.purpose,
            }
            for r in rows
        ]
    }
