"""Hotspot services: create, edit, retire and list hotspots; their caseload weight; proposals from
clusters of recent dumping cases. Plain functions taking a Session; they never commit.

Weight (docs/rosters.md): weight = 1 + Σ exp(−age_days / TAU_DAYS) over the dumping cases within
RADIUS_M of the hotspot opened in the last WINDOW_DAYS — a hotspot with no recent case still weighs 1,
each fresh case adds up to 1, a month-old one 0.37. Cases opened from patrol logs are cases like any
other, so what patrols find feeds the weight.

Proposals: DBSCAN in metres over the dumping cases in border zones of the last `days` days. The
neighbour search is shapely's STRtree (`dwithin` in a metric projection); the cluster expansion is the
textbook DBSCAN loop written here, since scikit-learn's (the usual home of DBSCAN) would add it and
SciPy to the service's dependencies for twenty lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.errors import Conflict, NotFound, ValidationFailed
from coordinator.hotspots.models import Hotspot
from geo.locator import Locator
from geo.metric import to_metric

DUMPING_CATEGORIES = ("01-10", "01-11", "01-51")  # 暴露垃圾, 积存垃圾渣土, 生活垃圾偷倒
RADIUS_M = 300.0
WINDOW_DAYS = 90
TAU_DAYS = 30.0
PROPOSAL_EPS_M = 200.0
PROPOSAL_MIN_CASES = 3
PROPOSAL_NEAR_HOTSPOT_M = 300.0


@dataclass(frozen=True)
class Weight:
    """A hotspot's weight and the cases behind it."""

    value: float
    cases: int
    first: datetime | None
    last: datetime | None


def get_hotspot(session: Session, hotspot_id: int) -> Hotspot:
    """A hotspot by id, or NotFound."""
    hotspot = session.get(Hotspot, hotspot_id)
    if hotspot is None:
        raise NotFound(f"no hotspot {hotspot_id}", details={"id": hotspot_id})
    return hotspot


def list_hotspots(
    session: Session, *, active: bool | None = True, pair: tuple[str, str] | None = None
) -> list[Hotspot]:
    """Hotspots by pair and name."""
    stmt = select(Hotspot).order_by(Hotspot.district_a, Hotspot.district_b, Hotspot.name, Hotspot.id)
    if active is not None:
        stmt = stmt.where(Hotspot.active.is_(active))
    if pair is not None:
        a, b = sorted(pair)
        stmt = stmt.where(Hotspot.district_a == a, Hotspot.district_b == b)
    return list(session.scalars(stmt))


def border_pair_at(locator: Locator, lon: float, lat: float) -> tuple[str, str]:
    """The member border pair whose zone holds the point, or a 422 saying where the point is."""
    location = locator.locate(lon, lat)
    if not location.in_border_zone or location.border_pair is None:
        raise ValidationFailed(
            "a hotspot must lie in the border zone (交界地带) of two member districts",
            code="not_in_border_zone",
            details={
                "lon": lon,
                "lat": lat,
                "district": location.district.code if location.district else None,
                "border_distance_m": location.border_distance_m,
            },
        )
    a, b = sorted(location.border_pair)
    return a, b


def create_hotspot(
    session: Session,
    locator: Locator,
    *,
    name: str,
    kind: str,
    lon: float,
    lat: float,
    min_patrols_per_week: int = 1,
    note: str = "",
    origin: str = "manual",
    created_by_id: int | None = None,
) -> Hotspot:
    """A new hotspot; its border pair comes from where it lies."""
    a, b = border_pair_at(locator, lon, lat)
    hotspot = Hotspot(
        name=name,
        kind=kind,
        lon=lon,
        lat=lat,
        district_a=a,
        district_b=b,
        min_patrols_per_week=min_patrols_per_week,
        note=note,
        origin=origin,
        active=True,
        created_by_id=created_by_id,
    )
    session.add(hotspot)
    session.flush()
    return hotspot


def update_hotspot(
    session: Session, locator: Locator, hotspot: Hotspot, changes: dict[str, object]
) -> Hotspot:
    """Apply edits (name, kind, note, min_patrols_per_week, lon+lat) — `changes` holds only fields sent
    with a value (PatchModel.changes); a moved point re-derives its pair."""
    if not hotspot.active:
        raise Conflict(f"hotspot {hotspot.id} is retired", details={"id": hotspot.id})
    for key in ("name", "kind", "note", "min_patrols_per_week"):
        if key in changes:
            setattr(hotspot, key, changes[key])
    lon, lat = changes.get("lon"), changes.get("lat")
    if lon is not None and lat is not None:
        hotspot.district_a, hotspot.district_b = border_pair_at(locator, float(lon), float(lat))  # type: ignore[arg-type]
        hotspot.lon, hotspot.lat = float(lon), float(lat)  # type: ignore[arg-type]
    session.flush()
    return hotspot


def retire_hotspot(session: Session, hotspot: Hotspot, *, now: datetime) -> Hotspot:
    """Take a hotspot out of future rosters (its shifts and logs stay)."""
    if hotspot.active:
        hotspot.active = False
        hotspot.retired_at = now
        session.flush()
    return hotspot


# ------------------------------------------------------------------------------------------ weight


def _recent_dumping(session: Session, since: datetime) -> list[tuple[int, str, float, float, datetime]]:
    stmt = (
        select(Case.id, Case.number, Case.lon, Case.lat, Case.created_at)
        .where(Case.category_code.in_(DUMPING_CATEGORIES), Case.created_at >= since, Case.status != "void")
        .order_by(Case.id)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(stmt)]


def weights(session: Session, hotspots: Sequence[Hotspot], *, now: datetime) -> dict[int, Weight]:
    """Each hotspot's weight from the dumping cases near it (formula in the module docstring)."""
    if not hotspots:
        return {}
    rows = _recent_dumping(session, now - timedelta(days=WINDOW_DAYS))
    result: dict[int, Weight] = {}
    if rows:
        points = to_metric(shapely.points([(r[2], r[3]) for r in rows]))
        tree = shapely.STRtree(points)
    for h in hotspots:
        near: list[tuple[int, str, float, float, datetime]] = []
        if rows:
            centre = to_metric(shapely.Point(h.lon, h.lat))
            near = [rows[i] for i in tree.query(centre, predicate="dwithin", distance=RADIUS_M)]
        ages = [max(0.0, (now - r[4]).total_seconds() / 86400) for r in near]
        result[h.id] = Weight(
            value=round(1.0 + sum(math.exp(-age / TAU_DAYS) for age in ages), 3),
            cases=len(near),
            first=min((r[4] for r in near), default=None),
            last=max((r[4] for r in near), default=None),
        )
    return result


# ------------------------------------------------------------------------------------------ proposals


@dataclass(frozen=True)
class Proposal:
    """A cluster of recent dumping cases in one border zone that no hotspot covers yet."""

    lon: float
    lat: float
    pair: tuple[str, str]
    case_count: int
    first: datetime
    last: datetime
    case_numbers: tuple[str, ...]


def dbscan(points: np.ndarray, eps: float, min_samples: int) -> list[int]:
    """Cluster labels (−1 = noise) of metric points: classic DBSCAN with an STRtree neighbour search."""
    geoms = shapely.points(points)
    tree = shapely.STRtree(geoms)
    neighbours = [tree.query(g, predicate="dwithin", distance=eps) for g in geoms]
    labels = [-2] * len(points)  # −2 unvisited
    cluster = -1
    for i in range(len(points)):
        if labels[i] != -2:
            continue
        if len(neighbours[i]) < min_samples:
            labels[i] = -1
            continue
        cluster += 1
        labels[i] = cluster
        queue = list(neighbours[i])
        while queue:
            j = int(queue.pop())
            if labels[j] == -1:
                labels[j] = cluster
            if labels[j] != -2:
                continue
            labels[j] = cluster
            if len(neighbours[j]) >= min_samples:
                queue.extend(neighbours[j])
    return labels


def propose(
    session: Session,
    *,
    now: datetime,
    days: int = 30,
    eps_m: float = PROPOSAL_EPS_M,
    min_cases: int = PROPOSAL_MIN_CASES,
) -> list[Proposal]:
    """Clusters of dumping cases in border zones of the last `days` days, not near an active hotspot."""
    stmt = (
        select(Case.number, Case.lon, Case.lat, Case.created_at, Case.border_pair_a, Case.border_pair_b)
        .where(
            Case.category_code.in_(DUMPING_CATEGORIES),
            Case.in_border_zone.is_(True),
            Case.created_at >= now - timedelta(days=days),
            Case.status != "void",
        )
        .order_by(Case.id)
    )
    rows = list(session.execute(stmt))
    if len(rows) < min_cases:
        return []
    metric = to_metric(shapely.points([(r[1], r[2]) for r in rows]))
    coords = shapely.get_coordinates(metric)
    labels = dbscan(coords, eps_m, min_cases)
    existing = [to_metric(shapely.Point(h.lon, h.lat)) for h in list_hotspots(session)]
    proposals: list[Proposal] = []
    for label in sorted(set(labels) - {-1}):
        members = [rows[i] for i, lab in enumerate(labels) if lab == label]
        centre = coords[[i for i, lab in enumerate(labels) if lab == label]].mean(axis=0)
        if any(shapely.Point(centre).distance(e) < PROPOSAL_NEAR_HOTSPOT_M for e in existing):
            continue
        lon = float(np.mean([m[1] for m in members]))
        lat = float(np.mean([m[2] for m in members]))
        pairs = sorted({(m[4], m[5]) for m in members if m[4] and m[5]})
        proposals.append(
            Proposal(
                lon=round(lon, 6),
                lat=round(lat, 6),
                pair=tuple(sorted(pairs[0])) if pairs else ("", ""),  # type: ignore[arg-type]
                case_count=len(members),
                first=min(m[3] for m in members),
                last=max(m[3] for m in members),
                case_numbers=tuple(m[0] for m in members[:20]),
            )
        )
    proposals.sort(key=lambda p: (-p.case_count, p.lon))
    return proposals
