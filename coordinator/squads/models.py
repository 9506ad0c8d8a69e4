"""Squads (城管中队) and dispatch units (城管执法局 dispatch desks).

A squad's jurisdiction is referenced by area *code* (an `admin_area` of level town or custom), not by
row id: boundary imports add new versions of an area under the same code, and the squad follows the
version in force without being touched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow

DISPATCH_LEVELS = ("district", "alliance")
MAX_NIGHTS_PER_WEEK = 7


class DispatchUnit(Base):
    """A dispatch desk above squads: one per district 城管执法局, plus one for the whole alliance."""

    __tablename__ = "dispatch_unit"
    __table_args__ = (
        CheckConstraint("level IN ('district', 'alliance')", name="level"),
        CheckConstraint(
            "(level = 'alliance') = (district_code IS NULL)",
            name="district_scope",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(32))
    contact_channel: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    squads: Mapped[list[Squad]] = relationship(back_populates="dispatch_unit")


class Squad(Base):
    """A 城管中队: the unit that owns cases in its jurisdiction and joins night patrols."""

    __tablename__ = "squad"
    __table_args__ = (
        CheckConstraint(f"night_capacity BETWEEN 0 AND {MAX_NIGHTS_PER_WEEK}", name="night_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(String(32), index=True)
    dispatch_unit_id: Mapped[int] = mapped_column(ForeignKey("dispatch_unit.id"), index=True)
    # Code of an admin_area (level town or custom); None while a squad has no territory yet.
    jurisdiction_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # Category codes (issue 5 defines the categories; they are data). Empty list = every category.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Joint night patrols: at most this many nights per week.
    night_capacity: Mapped[int] = mapped_column(Integer, default=2)
    # How the squad is reached (e.g. "wecom:fx-zhelin", "tel:021-…"): a unit's channel, not a person's.
    contact_channel: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    dispatch_unit: Mapped[DispatchUnit] = relationship(back_populates="squads")

    def handles(self, category: str) -> bool:
        """Whether the squad takes cases of `category` (an empty list means all categories)."""
        return not self.categories or category in self.categories
