"""The committee's review of the shared caseload: figures per border pair, district, squad, category,
source or week for any period, computed in SQL on both databases.

What a period's review counts (docs/review.md): the cases *opened* in the period (its cohort), as they
stand at `now` — how many, how many are still open, closed, overdue, transferred, escalated, how fast
they were claimed and closed on the SLA's working-time clock, and how many kept their SLA.

How it runs: one statement, one pass over the cohort (a range scan of `ix_case_created_at`): counts
per group, and each group's durations for the nearest-rank percentiles (see `review`). Working-time
durations are not computed here: the workflow stamps them on the case when it is
claimed or closed (`case_file.claim_work_h`, `close_work_h`, through coordinator.worktime — the same
calendar that set the SLA deadlines), because SQL cannot count Chinese working hours. Indexes used:
`ix_case_created_at` (the period), `ix_case_event_kind_case` (reopened cases), `ix_report_case_id`
(the first report's source), `ix_case_transfer_case_id` (transfers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from coordinator.boundaries.models import AdminArea
from coordinator.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseTransfer, Category, Report
from coordinator.dialects import local_week_start
from coordinator.errors import ValidationFailed
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI

GROUPINGS: dict[str, str] = {
    "border_pair": "交界区对",
    "district": "区",
    "squad": "主办中队",
    "category": "类别",
    "source": "来源",
    "week": "周（周一起）",
}
FINISHED_STATUSES = ("resolved", "verified", "closed")
SOURCE_NAMES = {
    "citizen": "市民",
    "grid_worker": "网格员",
    "volunteer": "志愿者",
    "camera": "视频探头",
    "drone": "无人机",
    "hotline_12345": "12345热线",
    "patrol": "巡查",
}
PERCENTILES = (50, 90)
TOTAL = "\x00total"  # the histogram key of the whole period (no group key can be this)
DURATION_METRICS = ("claim_h", "close_h")
MAX_PERIOD_DAYS = 366 * 3


@dataclass(frozen=True)
class Period:
    """Local (Asia/Shanghai) dates, both inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationFailed("the period ends before it starts", details={"from": str(self.first)})
        if (self.last - self.first).days > MAX_PERIOD_DAYS:
            raise ValidationFailed(f"a review period is at most {MAX_PERIOD_DAYS} days")

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.first, time(0), SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(0), SHANGHAI)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """A calendar month."""
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def last_month(cls, now: datetime) -> Period:
        """The calendar month before the one `now` falls in (Shanghai)."""
        today = now.astimezone(SHANGHAI).date()
        previous = today.replace(day=1) - timedelta(days=1)
        return cls.month(previous.year, previous.month)

    def label(self) -> str:
        """E.g. `2026-10-01 至 2026-10-31`."""
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"


def border_pair_key(value: str) -> tuple[str, str]:
    """Parse `310116-310120` (either order) into the stored (smaller, larger) pair."""
    parts = [p.strip() for p in value.replace(",", "-").split("-") if p.strip()]
    if len(parts) != 2 or parts[0] == parts[1]:
        raise ValidationFailed(
            "border_pair must name two districts, e.g. 310116-310120", details={"border_pair": value}
        )
    a, b = sorted(parts)
    return a, b


@dataclass(frozen=True)
class Scope:
    """Which cases a review (or an agenda, or an export) looks at."""

    border_pair: tuple[str, str] | None = None
    district: str | None = None
    joint_only: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on case_file."""
        out: list[ColumnElement[bool]] = []
        if self.border_pair is not None:
            out += [Case.border_pair_a == self.border_pair[0], Case.border_pair_b == self.border_pair[1]]
        if self.district is not None:
            out.append(Case.district_code == self.district)
        if self.joint_only:
            out.append(Case.in_border_zone.is_(True))
        return out


@dataclass
class Figures:
    """The review's numbers for one group (or the total)."""

    new: int = 0
    open: int = 0
    closed: int = 0
    void: int = 0
    overdue: int = 0
    transferred: int = 0
    transfer_declined: int = 0
    escalated: int = 0
    in_border_zone: int = 0
    repeat_location: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    sla_pending: int = 0
    claim_h_median: float | None = None
    claim_h_p90: float | None = None
    close_h_median: float | None = None
    close_h_p90: float | None = None

    @property
    def sla_compliance(self) -> float | None:
        """Share of decided cases that kept their SLA (met / (met + breached)); None if none decided."""
        decided = self.sla_met + self.sla_breached
        return None if decided == 0 else round(self.sla_met / decided, 4)

    @property
    def border_zone_share(self) -> float | None:
        """Share of the new cases that lie in a border zone."""
        return None if self.new == 0 else round(self.in_border_zone / self.new, 4)


COUNTS = (
    "new",
    "open",
    "closed",
    "void",
    "overdue",
    "transferred",
    "transfer_declined",
    "escalated",
    "in_border_zone",
    "repeat_location",
    "sla_met",
    "sla_breached",
    "sla_pending",
)


@dataclass
class GroupRow:
    """One group of the review: its key, a Chinese label, its figures."""

    key: str | None
    label: str
    figures: Figures


@dataclass
class Review:
    """A grouped review."""

    period: Period
    scope: Scope
    group_by: str
    now: datetime
    rows: list[GroupRow] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)


# -- the SQL ---------------------------------------------------------------------------------------


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def overdue_if_open(now: datetime) -> ColumnElement[bool]:
    """Unclaimed past the claim deadline or unresolved past the resolve deadline — overdue, if the case
    is open (NULL-safe)."""
    return or_(
        and_(Case.claimed_by_id.is_(None), Case.claim_by.isnot(None), Case.claim_by < now),
        and_(Case.resolve_by.isnot(None), Case.resolve_by < now),
    )


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """`coordinator.cases.queries.is_overdue` in SQL: open and overdue (the inbox's `overdue` flag)."""
    return and_(Case.status.in_(OPEN_STATUSES), overdue_if_open(now))


def claimed_late_condition() -> ColumnElement[bool]:
    """Claimed after the claim deadline (NULL-safe: a definite true/false)."""
    return and_(Case.claimed_at.isnot(None), Case.claim_by.isnot(None), Case.claimed_at > Case.claim_by)


def resolved_late_condition() -> ColumnElement[bool]:
    """Resolved after the resolve deadline (NULL-safe)."""
    return and_(Case.resolved_at.isnot(None), Case.resolve_by.isnot(None), Case.resolved_at > Case.resolve_by)


def _group_key(group_by: str) -> tuple[Any, bool]:
    """The grouping column (as text) and whether it needs the opening report joined."""
    if group_by == "border_pair":
        return Case.border_pair_a + literal("-") + Case.border_pair_b, False
    if group_by == "district":
        return Case.district_code, False
    if group_by == "squad":
        return cast(Case.lead_squad_id, String), False
    if group_by == "category":
        return Case.category_code, False
    if group_by == "source":
        return Report.source, True
    if group_by == "week":
        return local_week_start(Case.created_at), False
    raise ValidationFailed(f"group_by must be one of {sorted(GROUPINGS)}", details={"group_by": group_by})


def _in_period(
    stmt: Select[*tuple[Any, ...]], period: Period, scope: Scope, needs_report: bool
) -> Select[*tuple[Any, ...]]:
    stmt = stmt.where(Case.created_at >= period.start, Case.created_at < period.end, *scope.conditions())
    if needs_report:
        # The report that opened the case (exactly one per case is not merged).
        stmt = stmt.outerjoin(Report, and_(Report.case_id == Case.id, Report.merged.is_(False)))
    return stmt


def tenths(hours: Any) -> ColumnElement[str]:
    """The group's durations in tenths of an hour (half up), as one comma-separated text
    (`string_agg`: PostgreSQL, and SQLite ≥ 3.44, which pysqlite3-binary bundles)."""
    rounded = cast(cast(func.floor(hours * 10 + 0.5), Integer), String)
    return func.string_agg(rounded, literal(","))


def counts_statement(period: Period, scope: Scope, group_by: str, now: datetime) -> Select[*tuple[Any, ...]]:
    """One pass over the period's cases (a range scan of `ix_case_created_at`), grouped by the group
    key, the status and whether the case lies in a border zone: the counts that depend on the status
    are read from the grouping rather than computed per row (`_accumulate` adds them up per group).

    Per row it evaluates only what the grouping cannot tell: overdue now; late as an open case would be
    (claimed late or overdue now) and as a finished one (claimed or resolved late) — `_accumulate` uses
    each for its statuses —; escalated, transferred, declined, re-reported or reopened; and the
    durations in tenths of an hour for the percentiles.
    """
    key, needs_report = _group_key(group_by)
    reopened = select(CaseEvent.case_id).where(CaseEvent.kind == "reopened")
    accepted = select(CaseTransfer.case_id).where(CaseTransfer.state == "accepted")
    declined = select(CaseTransfer.case_id).where(CaseTransfer.state == "declined")
    claimed_late = claimed_late_condition()
    overdue = overdue_if_open(now)
    counted: dict[str, ColumnElement[Any]] = {
        "overdue": flag(overdue),
        "late_if_open": flag(or_(claimed_late, overdue)),
        "late_if_finished": flag(or_(claimed_late, resolved_late_condition())),
        "transferred": flag(Case.id.in_(accepted)),
        "transfer_declined": flag(Case.id.in_(declined)),
        "escalated": flag(Case.escalated_at.isnot(None)),
        "repeat_location": flag(or_(Case.report_count > 1, Case.id.in_(reopened))),
    }
    stmt = (
        select(
            key.label("k"),
            Case.status,
            Case.in_border_zone,
            func.count().label("n"),
            *[func.sum(e).label(n) for n, e in counted.items()],
            # close_work_h is only set while a case is closed (a reopen clears it)
            tenths(Case.claim_work_h).label("claim_h"),
            tenths(Case.close_work_h).label("close_h"),
        )
        .select_from(Case)
        .group_by(key, Case.status, Case.in_border_zone)
    )
    return _in_period(stmt, period, scope, needs_report)


def nearest_rank(tenths: npt.NDArray[np.int64], percent: int) -> float | None:
    """The value at rank ceil(percent/100 · n) of durations in tenths of an hour, in hours."""
    n = len(tenths)
    if n == 0:
        return None
    rank = max(1, math.ceil(percent / 100 * n))
    return int(np.partition(tenths, rank - 1)[rank - 1]) / 10


def _accumulate(figures: Figures, row: Any) -> None:
    """Add one (group, status, border zone) row of `counts_statement` to its group's figures."""
    n = int(row.n)
    is_open, finished = row.status in OPEN_STATUSES, row.status in FINISHED_STATUSES
    late = int(row.late_if_open or 0) if is_open else int(row.late_if_finished or 0) if finished else 0
    figures.new += n
    figures.open += n if is_open else 0
    figures.closed += n if row.status == "closed" else 0
    figures.void += n if row.status == "void" else 0
    figures.in_border_zone += n if row.in_border_zone else 0
    figures.overdue += int(row.overdue or 0) if is_open else 0
    figures.sla_breached += late
    figures.sla_met += n - late if finished else 0
    figures.sla_pending += n - late if is_open else 0
    for name in ("transferred", "transfer_declined", "escalated", "repeat_location"):
        setattr(figures, name, getattr(figures, name) + int(getattr(row, name) or 0))


def _tenths(text: str | None) -> npt.NDArray[np.int64]:
    return np.array(text.split(",") if text else [], dtype=np.int64)


def review(
    session: Session, period: Period, group_by: str, *, now: datetime, scope: Scope | None = None
) -> Review:
    """The grouped review of the cases opened in `period`, as they stand at `now`.

    One statement, one pass over the period's rows: SQL counts each group and hands over each group's
    durations in tenths of an hour; their nearest-rank percentiles are selected here with numpy (SQL
    has no portable percentile, and SQLite none at all). Rounding to tenths (the precision the review
    reports) is monotone, so the percentile of the rounded values is exactly the rounded percentile.
    The total is the sum of the groups: counts add up, durations concatenate.
    """
    scope = scope or Scope()
    groups: dict[str | None, Figures] = {}
    parts: dict[tuple[str | None, str], list[npt.NDArray[np.int64]]] = {}
    for row in session.execute(counts_statement(period, scope, group_by, now)).all():
        key = None if row.k is None else str(row.k)
        _accumulate(groups.setdefault(key, Figures()), row)
        parts.setdefault((key, "claim_h"), []).append(_tenths(row.claim_h))
        if row.status == "closed":
            parts.setdefault((key, "close_h"), []).append(_tenths(row.close_h))
    durations = {k: np.concatenate(v) for k, v in parts.items()}
    total = Figures(**{c: sum(getattr(f, c) for f in groups.values()) for c in COUNTS})
    for metric in DURATION_METRICS:
        durations[(TOTAL, metric)] = np.concatenate(
            [_tenths(None), *(durations[(key, metric)] for key in groups if (key, metric) in durations)]
        )
    for key, figures in [*groups.items(), (TOTAL, total)]:
        for metric in DURATION_METRICS:
            values = durations.get((key, metric), _tenths(None))
            setattr(figures, f"{metric}_median", nearest_rank(values, 50))
            setattr(figures, f"{metric}_p90", nearest_rank(values, 90))
    labels = group_labels(session, group_by, list(groups))
    rows = [GroupRow(key, labels.get(key, key or "—"), figures) for key, figures in groups.items()]
    rows.sort(key=lambda r: (r.key is None, -r.figures.new if group_by != "week" else 0, r.key or ""))
    return Review(period, scope, group_by, now, rows, total)


# -- labels ----------------------------------------------------------------------------------------


def district_names(session: Session) -> dict[str, str]:
    """District code → Chinese name (the areas in force; names only, not their polygons)."""
    rows = session.execute(
        select(AdminArea.code, AdminArea.name_zh).where(
            AdminArea.valid_to.is_(None), AdminArea.level == "district"
        )
    )
    return {code: name for code, name in rows}


def pair_label(pair: tuple[str, str] | None, names: dict[str, str]) -> str:
    """E.g. `金山区–奉贤区`; `非交界地带` for no pair."""
    if pair is None:
        return "非交界地带"
    return "–".join(names.get(code, code) for code in pair)


def group_labels(session: Session, group_by: str, keys: Sequence[str | None]) -> dict[str | None, str]:
    """Chinese labels of the group keys."""
    if group_by == "border_pair":
        names = district_names(session)
        return {k: pair_label(None if k is None else border_pair_key(k), names) for k in keys}
    if group_by == "district":
        names = district_names(session)
        return {k: "联盟外/无区" if k is None else names.get(k, k) for k in keys}
    if group_by == "squad":
        ids = [int(k) for k in keys if k is not None]
        squads = {
            str(s.id): f"{s.name_zh}（{s.code}）"
            for s in session.scalars(select(Squad).where(Squad.id.in_(ids)))
        }
        return {k: "调度员队列" if k is None else squads.get(k, k) for k in keys}
    if group_by == "category":
        names = {c.code: f"{c.code} {c.name_zh}" for c in session.scalars(select(Category))}
        return {k: "—" if k is None else names.get(k, k) for k in keys}
    if group_by == "source":
        return {k: "未知" if k is None else SOURCE_NAMES.get(k, k) for k in keys}
    out: dict[str | None, str] = {}
    for k in keys:  # week
        if k is None:
            out[k] = "—"
            continue
        monday = date.fromisoformat(k)
        iso = monday.isocalendar()
        out[k] = f"{iso.year}-W{iso.week:02d}（{monday.month}月{monday.day}日起）"
    return out
