"""The secret status link of a citizen's report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow


class StatusLink(Base):
    """A report's status link. Only the token's sha256 is stored: the token itself is shown once, in
    the answer to the submission (`status_url`), so a database dump opens no status page."""

    __tablename__ = "status_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
