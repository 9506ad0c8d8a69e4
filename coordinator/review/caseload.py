"""The caseload as it stands and where problems recur: repeat locations, open joint cases, overdue and
escalated ones, disputed transfers — what the report page and the meeting agendas list — and the
review's sections that wait for hotspots and rosters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from coordinator.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseTransfer
from coordinator.review.services import Period, Scope, flag, overdue_condition

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


# -- parts not computed yet: hotspots with trend, joint-patrol coverage -------------------------------

NOT_YET = "联席会议审阅尚未接入热点与巡查排班数据（热点趋势、联合巡查覆盖率暂不提供）"


@dataclass
class Unavailable:
    """A part of the review it does not compute yet: `available` False, no items, the reason."""

    available: bool = False
    reason: str = NOT_YET
    items: list[dict[str, Any]] = field(default_factory=list)


def hotspots_with_trend(session: Session, period: Period, *, scope: Scope | None = None) -> Unavailable:
    """Hotspots of the period with their trend against the previous period.

    Not computed yet from the hotspot table (coordinator.hotspots): answers `available: false` and no
    items, so the API, exports and agendas already carry the section.
    """
    return Unavailable()


def patrol_coverage(session: Session, period: Period, *, scope: Scope | None = None) -> Unavailable:
    """Joint-patrol coverage (planned vs done) per border pair in the period.

    Not computed yet from the rosters and patrol logs (coordinator.rosters): answers `available:
    false` and no items.
    """
    return Unavailable()
