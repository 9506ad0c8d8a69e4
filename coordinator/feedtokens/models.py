"""The feed-token table: the secrets in calendar feed URLs, for every feed (migration 0018)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

FEEDS = ("meetings", "squad")


class FeedToken(Base):
    """A secret that opens one calendar feed URL (calendar apps send no bearer token). Only its SHA-256
    is stored; revoking it ends the URL.

    `feed` names the feed: `meetings` (the liaison meetings; `district_code` narrows it to one
    district's, none = every meeting) or `squad` (one squad's joint night patrols, `squad_id`).
    """

    __tablename__ = "feed_token"
    __table_args__ = (
        CheckConstraint("feed IN ('meetings', 'squad')", name="feed"),
        CheckConstraint(
            "(feed = 'squad' AND squad_id IS NOT NULL) OR (feed = 'meetings' AND squad_id IS NULL)",
            name="feed_subject",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    feed: Mapped[str] = mapped_column(String(16))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
