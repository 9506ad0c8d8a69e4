"""The hotspot table: a named point in one member border pair's zone, created by a dispatcher (or taken
from a proposal), edited, and retired (never deleted: rosters and patrol logs point at it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

HOTSPOT_KINDS = ("ditch", "dead_end_road", "vacant_lot", "other")
KIND_LABELS = {"ditch": "沟渠", "dead_end_road": "断头路", "vacant_lot": "空地", "other": "其他"}
HOTSPOT_ORIGINS = ("manual", "proposal")
MAX_MIN_PATROLS = 7


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Hotspot(Base):
    """A dumping hotspot on a border (WGS-84 point), belonging to one border pair (district codes a < b)."""

    __tablename__ = "hotspot"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(HOTSPOT_KINDS)}", name="kind"),
        CheckConstraint(f"origin IN {_sql_list(HOTSPOT_ORIGINS)}", name="origin"),
        CheckConstraint("district_a < district_b", name="pair_order"),
        CheckConstraint(f"min_patrols_per_week BETWEEN 0 AND {MAX_MIN_PATROLS}", name="min_patrols"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    district_a: Mapped[str] = mapped_column(String(32), index=True)
    district_b: Mapped[str] = mapped_column(String(32), index=True)
    min_patrols_per_week: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="manual")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def pair(self) -> tuple[str, str]:
        """The border pair (district codes, ascending)."""
        return (self.district_a, self.district_b)
