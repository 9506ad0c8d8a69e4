"""The roster problem as the database states it: `build_problem` reads the period's nights and their
burden from the working calendar (holidays, 调休, overrides); active hotspots with their caseload weight
and weekly minimum; each hotspot's eligible squads — the active squads of each side whose jurisdiction
lies within `ELIGIBLE_M` of it (at least the nearest one); the squads' capacity, unavailability and
weekday preferences; the published shifts of other rosters in the period (they stay) and the latest
earlier roster of the period (stability).

A snapshot of the problem is stored with each roster (`snapshot`, `problem_from_snapshot`), so a roster
can always say why it looks as it does; `reject` turns broken hard rules into the 422 that names the
rule, the squads and the nights. Plain functions taking a Session; they never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.errors import ApiError, ValidationFailed
from coordinator.hotspots import services as hotspot_services
from coordinator.hotspots.models import Hotspot
from coordinator.rosters.models import Roster, RosterShift, SquadNightPreference, SquadUnavailability
from coordinator.rosters.problem import (
    BURDEN_EVE,
    BURDEN_HOLIDAY,
    BURDEN_NORMAL,
    WEEK,
    HotspotSpec,
    Night,
    Patrol,
    Problem,
    SquadSpec,
    Violation,
    required_minimums,
)
from coordinator.squads import services as squads
from coordinator.squads.models import Squad
from coordinator.worktime import WorkCalendar, china_holidays
from geo.metric import to_metric

ELIGIBLE_M = 5000.0


class RosterRejected(ApiError):
    """422: a roster (or a change to one) breaks a hard rule; details name rule, squads, nights."""

    status = 422
    code = "roster_infeasible"


# --------------------------------------------------------------------------------------- the problem


def night_of(calendar: WorkCalendar, index: int, day: date) -> Night:
    """A night's burden: 20 on a holiday or its eve, 15 on the eve of another day off, else 10."""
    after = day + timedelta(days=1)
    if day in china_holidays(day.year) or after in china_holidays(after.year):
        return Night(index, day, BURDEN_HOLIDAY, "holiday")
    if not calendar.is_working_day(after):
        return Night(index, day, BURDEN_EVE, "eve")
    return Night(index, day, BURDEN_NORMAL, "normal")


def check_calendar(calendar: WorkCalendar, start: date, end: date, *, confirmed: bool) -> list[str]:
    """Refuse (422) to plan nights in a year whose holidays are not published unless confirmed; then warn."""
    years = sorted({start.year, (end + timedelta(days=1)).year})
    unknown = [y for y in years if not calendar.year_is_published(y)]
    if unknown and not confirmed:
        raise ValidationFailed(
            f"{'、'.join(map(str, unknown))} 年的节假日与调休安排尚未发布：排班可能与假期冲突。"
            "确认后重试（options.confirm_unpublished_year=true），或先由管理员维护日历（flask calendar）",
            code="calendar_unconfirmed",
            details={"years": unknown},
        )
    return [f"{y} 年节假日安排未发布，按已确认的日历排班（调度员已确认）" for y in unknown]


@dataclass
class Context:
    """The database side of a problem: rows by id, dates by night index, weights."""

    problem: Problem
    nights: list[date]
    squads: dict[int, Squad]
    hotspots: dict[int, Hotspot]
    weights: dict[int, hotspot_services.Weight]
    warnings: list[str]
    shortages: list[Violation]

    def index(self, day: date) -> int:
        """The night index of a date of the period."""
        return (day - self.nights[0]).days


def _eligible(
    hotspot: Hotspot, members: list[Squad], areas: dict[str, Any], within_m: float
) -> tuple[int, ...]:
    """The squads among `members` whose jurisdiction lies within `within_m` of the hotspot (at least the
    nearest one)."""
    centre = to_metric(Point(hotspot.lon, hotspot.lat))
    scored = []
    for squad in members:
        area = areas.get(squad.jurisdiction_code or "")
        if area is None:
            continue
        scored.append((float(area.distance(centre)), squad.id))
    scored.sort()
    chosen = [sid for dist, sid in scored if dist <= within_m]
    if not chosen and scored:
        chosen = [scored[0][1]]
    return tuple(sorted(chosen))


def build_problem(
    session: Session,
    start: date,
    weeks: int,
    *,
    calendar: WorkCalendar,
    now: datetime,
    eligible_m: float = ELIGIBLE_M,
    exclude_roster: int | None = None,
) -> Context:
    """The roster problem of `weeks` weeks from `start` (see the module docstring)."""
    days = [start + timedelta(days=i) for i in range(weeks * WEEK)]
    nights = tuple(night_of(calendar, i, d) for i, d in enumerate(days))
    active = [s for s in squads.list_squads(session, active=True)]
    spots = hotspot_services.list_hotspots(session, active=True)
    weight = hotspot_services.weights(session, spots, now=now)
    areas = {
        code: to_metric(to_shape(a.geom)) for code, a in squads.jurisdiction_areas(session, active).items()
    }
    by_district: dict[str, list[Squad]] = {}
    for s in active:
        by_district.setdefault(s.district_code, []).append(s)
    specs: list[HotspotSpec] = []
    for h in spots:
        side_a = _eligible(h, by_district.get(h.district_a, []), areas, eligible_m)
        side_b = _eligible(h, by_district.get(h.district_b, []), areas, eligible_m)
        specs.append(
            HotspotSpec(h.id, h.name, h.pair, weight[h.id].value, h.min_patrols_per_week, side_a, side_b)
        )
    end = days[-1]
    leave: dict[int, set[int]] = {}
    for row in session.scalars(
        select(SquadUnavailability).where(
            SquadUnavailability.end_date >= start, SquadUnavailability.start_date <= end
        )
    ):
        nights_off = leave.setdefault(row.squad_id, set())
        for i, d in enumerate(days):
            if row.start_date <= d <= row.end_date:
                nights_off.add(i)
    prefs: dict[int, dict[int, int]] = {}
    for pref in session.scalars(select(SquadNightPreference)):
        prefs.setdefault(pref.squad_id, {})[pref.weekday] = pref.preference
    published = _published_shifts(session, start - timedelta(days=1), end, exclude_roster)
    busy_before = {q for s in published if s.night < start for q in (s.squad_a_id, s.squad_b_id)}
    fixed = tuple(
        Patrol(s.hotspot_id, (s.night - start).days, s.squad_a_id, s.squad_b_id)
        for s in published
        if s.night >= start
    )
    squad_specs = tuple(
        SquadSpec(
            s.id,
            s.code,
            s.name_zh,
            s.district_code,
            s.night_capacity,
            frozenset(leave.get(s.id, ())),
            prefs.get(s.id, {}),
            s.id in busy_before,
        )
        for s in active
    )
    required, shortages, warnings = required_minimums(nights, squad_specs, specs)
    short = [
        Violation(
            "availability",
            f"第{x.week + 1}周 {next(h.name for h in specs if h.id == x.hotspot)}：{x.side} 一侧的中队"
            f"只有 {x.possible} 晚可以出勤，每周至少需要 {x.needed} 次巡查",
            x.squads,
            x.nights,
            (x.hotspot,),
        )
        for x in shortages
    ]
    previous = _previous_patrols(session, start, end, exclude_roster)
    problem = Problem(nights, squad_specs, tuple(specs), fixed, previous, required)
    return Context(
        problem=problem,
        nights=days,
        squads={s.id: s for s in active},
        hotspots={h.id: h for h in spots},
        weights=weight,
        warnings=warnings,
        shortages=short,
    )


def _published_shifts(session: Session, first: date, last: date, exclude: int | None) -> list[RosterShift]:
    stmt = (
        select(RosterShift)
        .join(Roster, Roster.id == RosterShift.roster_id)
        .where(
            Roster.status == "published",
            RosterShift.status == "planned",
            RosterShift.night >= first,
            RosterShift.night <= last,
        )
        .order_by(RosterShift.id)
    )
    if exclude is not None:
        stmt = stmt.where(Roster.id != exclude)
    return list(session.scalars(stmt))


def _previous_patrols(session: Session, start: date, end: date, exclude: int | None) -> frozenset[Patrol]:
    stmt = (
        select(Roster)
        .where(Roster.period_start <= end, Roster.period_end >= start)
        .order_by(Roster.id.desc())
        .limit(1)
    )
    if exclude is not None:
        stmt = stmt.where(Roster.id != exclude)
    roster = session.scalars(stmt).first()
    if roster is None:
        return frozenset()
    return frozenset(
        Patrol(s.hotspot_id, (s.night - start).days, s.squad_a_id, s.squad_b_id)
        for s in roster.shifts
        if s.status == "planned" and start <= s.night <= end
    )


# --------------------------------------------------------------------------------------- snapshot


def snapshot(ctx: Context) -> dict[str, Any]:
    """The problem as stored with a roster (JSON): what the explanation is computed from."""
    p = ctx.problem
    return {
        "nights": [{"date": n.day.isoformat(), "burden": n.burden, "kind": n.kind} for n in p.nights],
        "squads": [
            {
                "id": s.id,
                "code": s.code,
                "name": s.name,
                "district": s.district,
                "capacity": s.capacity,
                "unavailable": sorted(s.unavailable),
                "preferences": {str(k): v for k, v in s.preferences.items()},
                "busy_before": s.busy_before,
            }
            for s in p.squads
        ],
        "hotspots": [
            {
                "id": h.id,
                "name": h.name,
                "kind": ctx.hotspots[h.id].kind,
                "pair": list(h.pair),
                "weight": h.weight,
                "recent_cases": ctx.weights[h.id].cases,
                "min_per_week": h.min_per_week,
                "required": list(p.required.get(h.id, ())),
                "side_a": list(h.side_a),
                "side_b": list(h.side_b),
            }
            for h in p.hotspots
        ],
        "fixed": [[f.hotspot, f.night, f.squad_a, f.squad_b] for f in p.fixed],
        "previous": sorted([[f.hotspot, f.night, f.squad_a, f.squad_b] for f in p.previous]),
    }


def problem_from_snapshot(doc: dict[str, Any]) -> Problem:
    """The problem a roster was solved from."""
    nights = tuple(
        Night(i, date.fromisoformat(n["date"]), n["burden"], n["kind"]) for i, n in enumerate(doc["nights"])
    )
    squad_specs = tuple(
        SquadSpec(
            s["id"],
            s["code"],
            s["name"],
            s["district"],
            s["capacity"],
            frozenset(s["unavailable"]),
            {int(k): v for k, v in s["preferences"].items()},
            s["busy_before"],
        )
        for s in doc["squads"]
    )
    specs = tuple(
        HotspotSpec(
            h["id"],
            h["name"],
            tuple(h["pair"]),
            h["weight"],
            h["min_per_week"],
            tuple(h["side_a"]),
            tuple(h["side_b"]),
        )
        for h in doc["hotspots"]
    )
    return Problem(
        nights,
        squad_specs,
        specs,
        tuple(Patrol(*f) for f in doc["fixed"]),
        frozenset(Patrol(*f) for f in doc["previous"]),
        {h["id"]: tuple(h["required"]) for h in doc["hotspots"]},
    )


# --------------------------------------------------------------------------------------- errors


def violation_details(ctx: Context, found: list[Violation]) -> list[dict[str, Any]]:
    """Violations with squads by code and name, nights as dates, hotspots by id and name."""
    out = []
    for v in found:
        out.append(
            {
                "rule": v.rule,
                "message": v.message,
                "squads": [
                    {"code": ctx.squads[q].code, "name": ctx.squads[q].name_zh}
                    for q in v.squads
                    if q in ctx.squads
                ],
                "nights": [ctx.nights[n].isoformat() for n in v.nights if 0 <= n < len(ctx.nights)],
                "hotspots": [
                    {"id": h, "name": ctx.hotspots[h].name} for h in v.hotspots if h in ctx.hotspots
                ],
            }
        )
    return out


def reject(
    ctx: Context, message: str, found: list[Violation], *, code: str = "roster_infeasible"
) -> RosterRejected:
    """The 422 naming the constraint, squads and nights."""
    details = violation_details(ctx, found)
    rules = sorted({d["rule"] for d in details})
    return RosterRejected(f"{message}（{', '.join(rules)}）", details={"violations": details}, code=code)
