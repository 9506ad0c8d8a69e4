"""Calendar feed tokens: issue, check, revoke — the one design both calendar feeds use.

Calendar apps (Outlook, Apple and Google Calendar) subscribe to a URL and send no bearer token, so the
URL carries a secret: `…/calendar.ics?token=jjcal_…`. The token is shown once when issued; only its
SHA-256 is stored (a leaked table opens no feed). Revoking a token ends its URL at once.

A request that brings a feed token and no other credentials and whose token is unknown, revoked, or
made for another feed is refused with **403 `feed_token_invalid`** (docs/meetings.md, docs/rosters.md):
the token is a capability in the URL, not an HTTP authentication scheme, so there is no challenge a
client could answer — a 401 would have to carry `WWW-Authenticate`, on which calendar apps prompt for
a user name and password that do not exist.
403 tells the client that this URL does not (or no longer does) open the feed. A request with no
credentials at all still gets the API's 401 (a bearer token or a session also opens both feeds).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.errors import Forbidden
from coordinator.feedtokens.models import FeedToken

TOKEN_PREFIX = "jjcal_"
MAX_TOKEN_LENGTH = 200
INVALID_CODE = "feed_token_invalid"


def hash_token(token: str) -> str:
    """The stored form of a feed token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    feed: str,
    now: datetime,
    created_by_id: int | None,
    squad_id: int | None = None,
    district_code: str | None = None,
    label: str = "",
) -> tuple[FeedToken, str]:
    """A new token for a feed; the token itself is returned here once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    row = FeedToken(
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        feed=feed,
        squad_id=squad_id,
        district_code=district_code,
        label=label,
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke(session: Session, row: FeedToken, *, now: datetime) -> FeedToken:
    """End a token's URL (a revoked token stays revoked)."""
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


def revoke_squad_tokens(session: Session, squad_id: int, *, now: datetime) -> int:
    """Revoke every live token of a squad's feed; how many there were."""
    live = list(
        session.scalars(
            select(FeedToken).where(
                FeedToken.feed == "squad", FeedToken.squad_id == squad_id, FeedToken.revoked_at.is_(None)
            )
        )
    )
    for row in live:
        revoke(session, row, now=now)
    return len(live)


def invalid(feed: str | None = None) -> Forbidden:
    """The one answer to a bad feed token: 403 `feed_token_invalid`."""
    return Forbidden(
        "unknown or revoked calendar feed token (ask for a new feed URL)",
        code=INVALID_CODE,
        details={"feed": feed} if feed else None,
    )


def check(session: Session, token: str) -> FeedToken:
    """The live token behind `token`, or 403 `feed_token_invalid`."""
    row = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_LENGTH:
        stmt = select(FeedToken).where(FeedToken.token_hash == hash_token(token))
        row = session.scalars(stmt).one_or_none()
    if row is None or row.revoked_at is not None:
        raise invalid()
    return row


def require_feed(row: FeedToken, feed: str, *, squad_id: int | None = None) -> FeedToken:
    """403 `feed_token_invalid` unless the token opens this feed (and this squad's)."""
    if row.feed != feed or (squad_id is not None and row.squad_id != squad_id):
        raise invalid(feed)
    return row
