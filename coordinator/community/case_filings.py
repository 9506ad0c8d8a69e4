"""What renovation filings mean to the rest of the service: the filings a case concerns (a flat named in
a report, active filings of compounds near a renovation-waste case) and the committee's counts."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.community.models import (
    ACTIVE_FILING_STATES,
    Compound,
    Inspection,
    RenovationFiling,
)
from geo.metric import to_metric

# Categories whose cases list renovation filings (codes of coordinator/cases/seed.py).
RENOVATION_WASTE_CATEGORIES = frozenset({"01-12"})  # 装修垃圾偷倒
FLAT_CATEGORIES = frozenset({"05-51", "05-52", "01-01"})  # 违法装修, 群租, 违法搭建
FLAT_RADIUS_M = 100.0  # a flat-level case belongs to a compound it lies in or this close to


# -- filings a case concerns --------------------------------------------------------------------------------


def flat_key(flat: dict[str, str] | None) -> tuple[str, str, str] | None:
    """A flat compared loosely: trimmed, upper case, without 号楼/幢/单元/室 and leading zeros."""
    if not flat:
        return None

    def norm(value: str | None, *suffixes: str) -> str:
        text = (value or "").strip().upper()
        for suffix in suffixes:
            text = text.removesuffix(suffix)
        return text.lstrip("0") or text

    return (
        norm(flat.get("building"), "号楼", "幢", "栋", "号"),
        norm(flat.get("unit"), "单元"),
        norm(flat.get("room"), "室", "号"),
    )


def flat_label(flat: dict[str, str]) -> str:
    """3号楼2单元501室."""
    unit = f"{flat['unit']}单元" if flat.get("unit") else ""
    return f"{flat['building']}号楼{unit}{flat['room']}室"


def compound_distance_m(compound: Compound, lon: float, lat: float) -> float:
    """Metres from a point to the compound (0 inside its polygon)."""
    geom = to_metric(shape(compound.geometry))
    return float(geom.distance(to_metric(Point(lon, lat))))


@dataclass(frozen=True)
class LinkedFiling:
    """A filing a case concerns, and why."""

    filing: RenovationFiling
    reason: str
    distance_m: float


def filings_for_case(session: Session, case: Case, *, nearby_m: float) -> list[LinkedFiling]:
    """The renovation filings the investigating squad should see with `case` (see the module doc)."""
    if case.category_code in RENOVATION_WASTE_CATEGORIES:
        stmt = (
            select(RenovationFiling)
            .join(Compound, Compound.id == RenovationFiling.compound_id)
            .where(RenovationFiling.state.in_(ACTIVE_FILING_STATES), Compound.active.is_(True))
        )
        if case.district_code is not None:
            stmt = stmt.where(Compound.district_code == case.district_code)
        out = []
        for filing in session.scalars(stmt.order_by(RenovationFiling.id)):
            distance = compound_distance_m(filing.compound, case.lon, case.lat)
            if distance <= nearby_m:
                out.append(LinkedFiling(filing, "附近小区在施装修（装修垃圾来源排查）", round(distance, 1)))
        return sorted(out, key=lambda lf: (lf.distance_m, lf.filing.id))
    if case.category_code in FLAT_CATEGORIES:
        flats = {k for k in (flat_key(r.flat) for r in case.reports) if k is not None}
        if not flats:
            return []
        stmt = select(RenovationFiling).join(Compound, Compound.id == RenovationFiling.compound_id)
        if case.district_code is not None:
            stmt = stmt.where(Compound.district_code == case.district_code)
        out = []
        for filing in session.scalars(stmt.order_by(RenovationFiling.id)):
            if flat_key({"building": filing.building, "unit": filing.unit, "room": filing.room}) not in flats:
                continue
            distance = compound_distance_m(filing.compound, case.lon, case.lat)
            if distance <= FLAT_RADIUS_M:
                out.append(LinkedFiling(filing, "同一房屋的装修申报", round(distance, 1)))
        return out
    return []


# -- counts (the committee sees counts, not people) ---------------------------------------------------------


def filing_counts(session: Session) -> list[tuple[str | None, str, int]]:
    """(district, state, number of filings)."""
    rows = session.execute(
        select(Compound.district_code, RenovationFiling.state, func.count(RenovationFiling.id))
        .join(Compound, Compound.id == RenovationFiling.compound_id)
        .group_by(Compound.district_code, RenovationFiling.state)
        .order_by(Compound.district_code, RenovationFiling.state)
    )
    return [(d, s, int(n)) for d, s, n in rows]


def inspection_counts(session: Session) -> list[tuple[str | None, str, str, int]]:
    """(district, kind, result, number of inspections)."""
    rows = session.execute(
        select(Compound.district_code, Inspection.kind, Inspection.result, func.count(Inspection.id))
        .join(RenovationFiling, RenovationFiling.id == Inspection.filing_id)
        .join(Compound, Compound.id == RenovationFiling.compound_id)
        .group_by(Compound.district_code, Inspection.kind, Inspection.result)
        .order_by(Compound.district_code, Inspection.kind, Inspection.result)
    )
    return [(d, k, r, int(n)) for d, k, r, n in rows]
