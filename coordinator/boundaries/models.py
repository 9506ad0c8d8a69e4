"""Boundary tables: generations (MapIt's model), versioned areas, and shared borders per generation.

Nothing is overwritten in place: an import that changes an area closes its current row (`valid_to`,
`retired_generation_id`) and adds a new row with the next `version`.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

AREA_LEVELS = ("district", "town", "custom")


class BoundaryGeneration(Base):
    """One committed change to the boundary set. The newest generation is the current one."""

    __tablename__ = "boundary_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(1000), default="")
    areas_added: Mapped[int] = mapped_column(Integer, default=0)
    areas_changed: Mapped[int] = mapped_column(Integer, default=0)


class AdminArea(Base):
    """One version of an administrative area (district, town) or custom jurisdiction polygon."""

    __tablename__ = "admin_area"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("level IN ('district', 'town', 'custom')", name="level"),
        Index("ix_admin_area_current", "level", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    member: Mapped[bool] = mapped_column(Boolean, default=False)
    # Demo jurisdictions (Voronoi cells of town seats) are approximate and must say so wherever shown.
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"))
    retired_generation_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_generation.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True, nullable=False)
    )

    @property
    def is_current(self) -> bool:
        """Whether this is the version in force."""
        return self.valid_to is None


class SharedBorder(Base):
    """The border line between two districts, computed from one boundary generation."""

    __tablename__ = "shared_border"
    __table_args__ = (UniqueConstraint("generation_id", "code_a", "code_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"), index=True)
    code_a: Mapped[str] = mapped_column(String(32))
    code_b: Mapped[str] = mapped_column(String(32))
    both_members: Mapped[bool] = mapped_column(Boolean, default=False)
    length_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTILINESTRING", srid=4326, spatial_index=False, nullable=False)
    )


class BorderZoneSetting(Base):
    """Border-zone width for one pair of member districts (the default comes from settings)."""

    __tablename__ = "border_zone_setting"
    __table_args__ = (
        UniqueConstraint("code_a", "code_b"),
        CheckConstraint("code_a < code_b", name="ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_a: Mapped[str] = mapped_column(String(32))
    code_b: Mapped[str] = mapped_column(String(32))
    width_m: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BorderZone(Base):
    """The 交界地带 of two member districts: the band within `width_m` of their shared border,
    clipped to the two districts. Rows are never updated: a recomputation supersedes them."""

    __tablename__ = "border_zone"
    __table_args__ = (Index("ix_border_zone_current", "superseded_at", "generation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"))
    code_a: Mapped[str] = mapped_column(String(32))
    code_b: Mapped[str] = mapped_column(String(32))
    width_m: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False, nullable=False)
    )
