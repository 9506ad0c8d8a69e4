"""The caseload as it stands and where problems recur: repeat locations, open joint cases, overdue and
escalated ones, disputed transfers — what the report page and the meeting agendas list — and the
review's hotspots with their trend and the joint-patrol coverage (planned vs done)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from coordinator.cases.dedup import EARTH_RADIUS_M
from coordinator.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseTransfer
from coordinator.hotspots.models import Hotspot
from coordinator.hotspots.services import DUMPING_CATEGORIES, RADIUS_M
from coordinator.review.services import Period, Scope, flag, overdue_condition
from coordinator.rosters.models import PatrolFinding, PatrolLog, Roster, RosterShift
from coordinator.worktime import SHANGHAI

# Repeat locations: cases of one category in the same cell of this many degrees (~100 m in Shanghai).
REPEAT_CELL_DEG = 0.001

# -- repeat locations ------------------------------------------------------------------------------


@dataclass
class RepeatLocation:
    """A place (~100 m cell) where one category of problem came back within the period."""

    category: str
    lon: float
    lat: float
    cases: int
    reopened: int
    border_pair: str | None
    first_at: datetime
    last_at: datetime
    case_numbers: list[str]


def repeat_locations(
    session: Session, period: Period, *, scope: Scope | None = None, limit: int = 50
) -> list[RepeatLocation]:
    """Cells with two or more cases of one category opened in the period, or a reopened case; most
    cases first."""
    scope = scope or Scope()
    reopened = select(CaseEvent.case_id).where(CaseEvent.kind == "reopened")
    cx = func.floor(Case.lon / REPEAT_CELL_DEG).label("cx")
    cy = func.floor(Case.lat / REPEAT_CELL_DEG).label("cy")
    in_period = [Case.created_at >= period.start, Case.created_at < period.end, *scope.conditions()]
    cells = session.execute(
        select(
            Case.category_code,
            cx,
            cy,
            func.count().label("n"),
            func.sum(flag(Case.id.in_(reopened))).label("reopened"),
            func.avg(Case.lon).label("lon"),
            func.avg(Case.lat).label("lat"),
            func.min(Case.created_at).label("first_at"),
            func.max(Case.created_at).label("last_at"),
            func.max(Case.border_pair_a + literal("-") + Case.border_pair_b).label("pair"),
        )
        .where(*in_period)
        .group_by(Case.category_code, cx, cy)
        .having(or_(func.count() >= 2, func.sum(flag(Case.id.in_(reopened))) >= 1))
        .order_by(func.count().desc(), Case.category_code, cx, cy)
        .limit(limit)
    ).all()
    if not cells:
        return []
    keys = [(c.category_code, c.cx, c.cy) for c in cells]
    numbers: dict[tuple[Any, ...], list[str]] = {}
    c2 = aliased(Case)
    for row in session.execute(
        select(
            c2.category_code,
            func.floor(c2.lon / REPEAT_CELL_DEG).label("cx"),
            func.floor(c2.lat / REPEAT_CELL_DEG).label("cy"),
            c2.number,
        )
        .where(
            c2.created_at >= period.start,
            c2.created_at < period.end,
            tuple_(
                c2.category_code, func.floor(c2.lon / REPEAT_CELL_DEG), func.floor(c2.lat / REPEAT_CELL_DEG)
            ).in_(keys),
        )
        .order_by(c2.created_at, c2.id)
    ).all():
        numbers.setdefault((row.category_code, row.cx, row.cy), []).append(row.number)
    return [
        RepeatLocation(
            category=c.category_code,
            lon=round(float(c.lon), 6),
            lat=round(float(c.lat), 6),
            cases=int(c.n),
            reopened=int(c.reopened or 0),
            border_pair=c.pair,
            first_at=c.first_at,
            last_at=c.last_at,
            case_numbers=numbers.get((c.category_code, c.cx, c.cy), [])[:20],
        )
        for c in cells
    ]


# -- the caseload as it stands (agendas, the report page) -----------------------------------------


def current_cases(
    session: Session, scope: Scope, condition: ColumnElement[bool], *, limit: int
) -> tuple[list[Case], int]:
    """Open cases in scope meeting `condition`: the oldest `limit` of them, and how many there are."""
    where = [Case.status.in_(OPEN_STATUSES), *scope.conditions(), condition]
    total = int(session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)
    rows = session.scalars(select(Case).where(*where).order_by(Case.created_at, Case.id).limit(limit)).all()
    return list(rows), total


def overdue_joint_cases(session: Session, scope: Scope, *, now: datetime, limit: int) -> list[Case]:
    """Open joint (border-zone) cases in scope that are overdue now, oldest first."""
    return current_cases(session, replace(scope, joint_only=True), overdue_condition(now), limit=limit)[0]


def transfer_disputes(
    session: Session,
    scope: Scope,
    *,
    since: datetime,
    now: datetime,
    pending_h: float = 24.0,
    limit: int = 100,
) -> list[tuple[CaseTransfer, Case]]:
    """Transfers declined since `since`, and requests still pending after `pending_h` hours (disputed),
    on cases in scope; oldest first."""
    stale = now - timedelta(hours=pending_h)
    stmt = (
        select(CaseTransfer, Case)
        .join(Case, Case.id == CaseTransfer.case_id)
        .where(
            or_(
                and_(CaseTransfer.state == "declined", CaseTransfer.decided_at >= since),
                and_(CaseTransfer.state == "pending", CaseTransfer.requested_at <= stale),
            ),
            *scope.conditions(),
        )
        .order_by(CaseTransfer.requested_at, CaseTransfer.id)
        .limit(limit)
    )
    return [(t, c) for t, c in session.execute(stmt).all()]


# -- hotspots with trend ----------------------------------------------------------------------------

# Trend rule (docs/review.md): a hotspot is *rising* when its period has at least TREND_MIN_CHANGE more
# dumping cases than the previous equal period AND at least TREND_RATIO times as many; *falling* when at
# least TREND_MIN_CHANGE fewer AND at most 1/TREND_RATIO as many; else *flat*. Both conditions, so one
# extra case at a quiet place (0 → 1) is no rise, and 40 → 42 at a busy one is none either.
TREND_MIN_CHANGE = 2
TREND_RATIO_NUM, TREND_RATIO_DEN = 5, 4  # 1.25
TREND_RULE = (
    f"上升：本期比上期至少多 {TREND_MIN_CHANGE} 起且不少于上期的 1.25 倍；"
    f"下降：至少少 {TREND_MIN_CHANGE} 起且不多于上期的 0.8 倍；其余为持平。"
    "计数：热点 300 米内、该时段新立的偷倒类案件（01-10、01-11、01-51，作废除外）。"
)
TRENDS = ("rising", "flat", "falling")


def trend_of(current: int, previous: int) -> str:
    """rising, falling or flat (the rule above), in integers."""
    if current - previous >= TREND_MIN_CHANGE and current * TREND_RATIO_DEN >= previous * TREND_RATIO_NUM:
        return "rising"
    if previous - current >= TREND_MIN_CHANGE and current * TREND_RATIO_NUM <= previous * TREND_RATIO_DEN:
        return "falling"
    return "flat"


@dataclass
class HotspotTrend:
    """A hotspot's dumping cases in the period and in the previous equal period."""

    id: int
    name: str
    kind: str
    border_pair: str
    lon: float
    lat: float
    active: bool
    cases: int
    previous: int
    change: int
    trend: str


@dataclass
class HotspotTrends:
    """The hotspots section of a review: every hotspot in scope (rising first)."""

    compared: tuple[datetime, datetime]  # the span counted in the period: [start, end)
    previous: tuple[datetime, datetime]  # the equal span before it
    items: list[HotspotTrend]
    available: bool = True
    rule: str = TREND_RULE
    reason: str = ""

    @property
    def rising(self) -> list[HotspotTrend]:
        """The rising hotspots, most added cases first."""
        return [h for h in self.items if h.trend == "rising"]


def _hotspot_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Hotspots of the scope: its border pair, or the pairs its district is in (joint_only changes
    nothing: every hotspot lies in a border zone)."""
    out: list[ColumnElement[bool]] = []
    if scope.border_pair is not None:
        out += [Hotspot.district_a == scope.border_pair[0], Hotspot.district_b == scope.border_pair[1]]
    if scope.district is not None:
        out.append(or_(Hotspot.district_a == scope.district, Hotspot.district_b == scope.district))
    return out


def hotspot_trend_statement(
    start: datetime, end: datetime, previous_start: datetime, scope: Scope
) -> Select[*tuple[Any, ...]]:
    """One statement: every hotspot in scope (active, or retired after `start`) LEFT JOINed to the
    dumping cases (not void) opened within RADIUS_M of it in [previous_start, end), counted on either
    side of `start`.

    Distance in SQL on both databases: the latitude band and longitude range of a circle of
    RADIUS_M around the hotspot (which the B-tree `ix_case_dedup (category_code, lat, lon)` answers
    per category), then the local-plane distance on the sphere of coordinator.cases.dedup:
    (Δlon·cos φ)² + Δlat² ≤ r² in degrees — within a few centimetres of the great circle at 300 m.
    """
    r_deg = math.degrees(RADIUS_M / EARTH_RADIUS_M)
    coslat = func.cos(func.radians(Hotspot.lat))
    dx = (Case.lon - Hotspot.lon) * coslat
    dy = Case.lat - Hotspot.lat
    near = and_(
        Case.category_code.in_(DUMPING_CATEGORIES),
        Case.lat >= Hotspot.lat - r_deg,
        Case.lat <= Hotspot.lat + r_deg,
        Case.lon >= Hotspot.lon - r_deg / coslat,
        Case.lon <= Hotspot.lon + r_deg / coslat,
        Case.status != "void",
        Case.created_at >= previous_start,
        Case.created_at < end,
        dx * dx + dy * dy <= r_deg * r_deg,
    )
    return (
        select(
            Hotspot.id,
            Hotspot.name,
            Hotspot.kind,
            Hotspot.district_a,
            Hotspot.district_b,
            Hotspot.lon,
            Hotspot.lat,
            Hotspot.active,
            func.sum(flag(Case.created_at >= start)).label("current"),
            func.sum(flag(Case.created_at < start)).label("previous"),
        )
        .select_from(Hotspot)
        .outerjoin(Case, near)
        .where(or_(Hotspot.retired_at.is_(None), Hotspot.retired_at >= start), *_hotspot_scope(scope))
        .group_by(
            Hotspot.id,
            Hotspot.name,
            Hotspot.kind,
            Hotspot.district_a,
            Hotspot.district_b,
            Hotspot.lon,
            Hotspot.lat,
            Hotspot.active,
        )
    )


def hotspots_with_trend(
    session: Session, period: Period, *, scope: Scope | None = None, now: datetime | None = None
) -> HotspotTrends:
    """Each hotspot's dumping cases in the period against the previous equal period, and its trend.

    A period still running (it ends after `now`) counts only its elapsed part, against an equally long
    span just before it — a half month is not compared with a whole one.
    """
    scope = scope or Scope()
    start = period.start
    end = period.end if now is None else max(start, min(period.end, now))
    previous_start = start - (end - start)
    items = []
    for row in session.execute(hotspot_trend_statement(start, end, previous_start, scope)):
        current, previous = int(row.current or 0), int(row.previous or 0)
        items.append(
            HotspotTrend(
                id=row.id,
                name=row.name,
                kind=row.kind,
                border_pair=f"{row.district_a}-{row.district_b}",
                lon=row.lon,
                lat=row.lat,
                active=bool(row.active),
                cases=current,
                previous=previous,
                change=current - previous,
                trend=trend_of(current, previous),
            )
        )
    items.sort(key=lambda h: (TRENDS.index(h.trend), -h.change, -h.cases, h.name, h.id))
    return HotspotTrends(compared=(start, end), previous=(previous_start, start), items=items)


# -- joint-patrol coverage ---------------------------------------------------------------------------


@dataclass
class Coverage:
    """Planned joint patrols and those done, for a hotspot or a border pair."""

    planned: int = 0  # shifts of published rosters on the period's nights (not cancelled)
    due: int = 0  # …whose night is over (before today), or that have a log already
    done: int = 0  # …with a patrol log
    cases_found: int = 0  # cases linked or opened by those patrols (as the roster counts them)

    @property
    def missed(self) -> int:
        """Due and not logged."""
        return self.due - self.done

    @property
    def rate(self) -> float | None:
        """done / due; None while nothing is due."""
        return None if self.due == 0 else round(self.done / self.due, 4)

    def add(self, other: Coverage) -> None:
        """Add another's counts."""
        self.planned += other.planned
        self.due += other.due
        self.done += other.done
        self.cases_found += other.cases_found


@dataclass
class HotspotCoverage:
    """One hotspot's joint patrols in the period."""

    id: int
    name: str
    kind: str
    border_pair: str
    coverage: Coverage


@dataclass
class PairCoverage:
    """One border pair's joint patrols in the period (the sum of its hotspots)."""

    border_pair: str
    coverage: Coverage = field(default_factory=Coverage)
    hotspots: int = 0


@dataclass
class PatrolCoverage:
    """The joint-patrol section of a review: planned vs done per hotspot and per border pair."""

    as_of: date  # nights before this local date are due
    items: list[HotspotCoverage]
    pairs: list[PairCoverage]
    total: Coverage
    available: bool = True
    reason: str = ""


NO_ROSTER = "本期没有已发布的联合巡查排班"


def patrol_coverage_statement(period: Period, today: date, scope: Scope) -> Select[*tuple[Any, ...]]:
    """One statement: the planned shifts of published rosters on the period's nights, per hotspot, with
    how many are due, how many have a patrol log and the findings of those logs. Indexes:
    `ix_roster_shift_night` (the nights), `ix_patrol_log_shift_id`, `ix_patrol_finding_patrol_log_id`."""
    logs = (
        select(PatrolLog.shift_id, func.count(PatrolFinding.id).label("found"))
        .outerjoin(PatrolFinding, PatrolFinding.patrol_log_id == PatrolLog.id)
        .group_by(PatrolLog.shift_id)
        .subquery("logs")
    )
    logged = logs.c.shift_id.isnot(None)
    return (
        select(
            Hotspot.id,
            Hotspot.name,
            Hotspot.kind,
            Hotspot.district_a,
            Hotspot.district_b,
            func.count(RosterShift.id).label("planned"),
            func.sum(flag(or_(RosterShift.night < today, logged))).label("due"),
            func.sum(flag(logged)).label("done"),
            func.sum(func.coalesce(logs.c.found, 0)).label("found"),
        )
        .select_from(RosterShift)
        .join(Roster, and_(Roster.id == RosterShift.roster_id, Roster.status == "published"))
        .join(Hotspot, Hotspot.id == RosterShift.hotspot_id)
        .outerjoin(logs, logs.c.shift_id == RosterShift.id)
        .where(
            RosterShift.status == "planned",
            RosterShift.night >= period.first,
            RosterShift.night <= period.last,
            *_hotspot_scope(scope),
        )
        .group_by(Hotspot.id, Hotspot.name, Hotspot.kind, Hotspot.district_a, Hotspot.district_b)
    )


def patrol_coverage(
    session: Session, period: Period, *, scope: Scope | None = None, now: datetime | None = None
) -> PatrolCoverage:
    """Joint-patrol coverage (planned vs done) per hotspot and per border pair in the period.

    A night is due once it is over (its local date is before today's); coverage = done / due, so
    tonight's and future shifts are planned but neither done nor missed yet.
    """
    scope = scope or Scope()
    today = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    items: list[HotspotCoverage] = []
    pairs: dict[str, PairCoverage] = {}
    total = Coverage()
    for row in session.execute(patrol_coverage_statement(period, today, scope)):
        pair = f"{row.district_a}-{row.district_b}"
        counts = Coverage(int(row.planned), int(row.due or 0), int(row.done or 0), int(row.found or 0))
        items.append(HotspotCoverage(row.id, row.name, row.kind, pair, counts))
        summed = pairs.setdefault(pair, PairCoverage(pair))
        summed.coverage.add(counts)
        summed.hotspots += 1
        total.add(counts)
    items.sort(key=lambda h: (h.border_pair, h.name, h.id))
    return PatrolCoverage(
        as_of=today,
        items=items,
        pairs=sorted(pairs.values(), key=lambda p: p.border_pair),
        total=total,
        reason="" if items else NO_ROSTER,
    )
