"""The committee dashboard's figures: per border pair, the review's numbers (coordinator.review.services),
each pair's weekly trend of new and closed cases as an inline SVG bar chart drawn here (no chart library:
the page's CSP allows no inline script, and bars need none), and the hotspots with their trend
(coordinator.review.caseload), also as the points of the hotspot map (static/web/map.js draws them from
the page's JSON). Plain functions over a Session, like every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from coordinator.hotspots.models import KIND_LABELS
from coordinator.review import caseload, services
from coordinator.review.services import Figures, Period, Scope

# The chart's geometry (SVG user units; the SVG scales to its box).
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 28, 12


@dataclass(frozen=True)
class Bar:
    """One bar of the chart."""

    x: float
    y: float
    width: float
    height: float
    value: int
    series: str  # "new" or "closed"
    week: str


@dataclass
class Chart:
    """A weekly bar chart: two bars (new, closed) per week, a y axis with a few ticks."""

    weeks: list[str]
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value)
    labels: list[tuple[float, str]]  # (x, MM-DD) under each week
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM


@dataclass
class PairPanel:
    """One border pair of the dashboard."""

    key: str
    label: str
    figures: Figures
    chart: Chart
    hotspots: list[caseload.HotspotTrend] = field(default_factory=list)


def weeks_of(period: Period) -> list[str]:
    """The Mondays (YYYY-MM-DD) of the weeks the period touches, as the review's `week` keys."""
    monday = period.first - timedelta(days=period.first.weekday())
    out = []
    while monday <= period.last:
        out.append(monday.isoformat())
        monday += timedelta(days=7)
    return out


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k not below `value` (at least 1): the top of the y axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return max(1, factor * step)
        step *= 10


def weekly_chart(weeks: list[str], counts: dict[str, tuple[int, int]]) -> Chart:
    """The chart of (new, closed) per week; weeks without cases show as empty slots."""
    top = nice_ceiling(max([0, *(max(v) for v in counts.values())]))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 4) / max(1, len(weeks))
    bar_w = max(1.0, slot * 0.38)
    bars, labels = [], []
    for i, week in enumerate(weeks):
        x0 = LEFT + i * slot + slot * 0.1
        for j, (series, value) in enumerate(zip(("new", "closed"), counts.get(week, (0, 0)), strict=True)):
            h = plot_h * value / top
            bars.append(
                Bar(
                    round(x0 + j * bar_w, 1),
                    round(HEIGHT - BOTTOM - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    value,
                    series,
                    week,
                )
            )
        labels.append((round(LEFT + i * slot + slot / 2, 1), week[5:]))
    ticks = [(round(HEIGHT - BOTTOM - plot_h * v / top, 1), v) for v in sorted({0, top // 2, top})]
    return Chart(weeks, bars, ticks, labels)


def hotspot_trends(
    session: Session, period: Period, *, now: datetime, pair: tuple[str, str] | None
) -> caseload.HotspotTrends:
    """The hotspots of every border pair (or only `pair`) with their cases in the period and the trend."""
    return caseload.hotspots_with_trend(session, period, scope=Scope(border_pair=pair), now=now)


def hotspot_points(trends: caseload.HotspotTrends) -> list[dict[str, Any]]:
    """The hotspot map's points (JSON for the page): where each hotspot is, its cases in the period and
    the previous one, its trend. Hotspots only: no case, no person."""
    return [
        {
            "id": h.id,
            "name": h.name,
            "kind": KIND_LABELS.get(h.kind, h.kind),
            "border_pair": h.border_pair,
            "lon": h.lon,
            "lat": h.lat,
            "cases": h.cases,
            "previous": h.previous,
            "trend": h.trend,
            "active": h.active,
        }
        for h in trends.items
    ]


def panels(
    session: Session,
    period: Period,
    *,
    now: datetime,
    pair: tuple[str, str] | None,
    trends: caseload.HotspotTrends | None = None,
) -> list[PairPanel]:
    """One panel per border pair with cases in the period (or only `pair`), most new cases first;
    `trends` are the hotspots' (hotspot_trends), counted here when not given."""
    scope = Scope(border_pair=pair)
    by_pair = services.review(session, period, "border_pair", now=now, scope=scope)
    if trends is None:
        trends = hotspot_trends(session, period, now=now, pair=pair)
    weeks = weeks_of(period)
    out = []
    for row in by_pair.rows:
        if row.key is None:
            continue  # cases outside every border zone have no pair
        key = services.border_pair_key(row.key)
        by_week = services.review(session, period, "week", now=now, scope=Scope(border_pair=key))
        counts = {r.key: (r.figures.new, r.figures.closed) for r in by_week.rows if r.key is not None}
        out.append(
            PairPanel(
                key=row.key,
                label=row.label,
                figures=row.figures,
                chart=weekly_chart(weeks, counts),
                hotspots=[h for h in trends.items if h.border_pair == row.key],
            )
        )
    return out


def recent_months(today: date, count: int = 12) -> list[str]:
    """`YYYY-MM` of this month and the ones before it, newest first (the period selector)."""
    out, year, month = [], today.year, today.month
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out
