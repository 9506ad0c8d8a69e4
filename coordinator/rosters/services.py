"""Roster services: turn the database into a roster problem, solve it into a draft, change shifts under
the hard rules, publish. Plain functions taking a Session; they never commit.

The problem (coordinator.rosters.problem) is built from: the period's nights and their burden from the
working calendar (holidays, 调休, overrides); active hotspots with their caseload weight and weekly
minimum; each hotspot's eligible squads — the active squads of each side whose jurisdiction lies within
`ELIGIBLE_M` of it (at least the nearest one); the squads' capacity, unavailability and weekday
preferences; the published shifts of other rosters in the period (they stay) and the latest earlier
roster of the period (stability). A snapshot of it is stored with the roster, so a roster can always
say why it looks as it does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coordinator.errors import ApiError, Conflict, NotFound, ValidationFailed
from coordinator.hotspots import services as hotspot_services
from coordinator.hotspots.models import Hotspot
from coordinator.notifications.services import enqueue
from coordinator.rosters.models import (
    Roster,
    RosterShift,
    SquadNightPreference,
    SquadUnavailability,
)
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
    evaluate,
    required_minimums,
    violations,
)
from coordinator.rosters.solver import RosterInfeasible, solve
from coordinator.squads import services as squads
from coordinator.squads.models import Squad
from coordinator.worktime import WorkCalendar, china_holidays
from geo.metric import to_metric

ELIGIBLE_M = 5000.0
MAX_WEEKS = 4
UID_DOMAIN = "jiaojie-xietong"


class RosterRejected(ApiError):
    """422: a roster (or a change to one) breaks a hard rule; details name rule, squads, nights."""

    status = 422
    code = "roster_infeasible"


@dataclass(frozen=True)
class RosterOptions:
    """How to build a roster."""

    weeks: int = 2
    solver: str = "cp-sat"
    time_limit_s: float = 20.0
    seed: int = 0
    workers: int = 2
    confirm_unpublished_year: bool = False
    eligible_m: float = ELIGIBLE_M


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


# --------------------------------------------------------------------------------------- generate


def new_uid() -> str:
    """A stable calendar UID for a new shift."""
    return f"shift-{uuid.uuid4()}@{UID_DOMAIN}"


def generate_roster(
    session: Session,
    *,
    start: date,
    options: RosterOptions,
    calendar: WorkCalendar,
    now: datetime,
    created_by_id: int | None = None,
    origin: str = "api",
) -> Roster:
    """Solve a draft roster for `options.weeks` weeks from `start` (422 when no roster can exist)."""
    if not 1 <= options.weeks <= MAX_WEEKS:
        raise ValidationFailed(f"a roster covers 1–{MAX_WEEKS} weeks", details={"weeks": options.weeks})
    end = start + timedelta(days=options.weeks * WEEK - 1)
    warnings = check_calendar(calendar, start, end, confirmed=options.confirm_unpublished_year)
    ctx = build_problem(
        session, start, options.weeks, calendar=calendar, now=now, eligible_m=options.eligible_m
    )
    if not ctx.hotspots:
        raise ValidationFailed("no active hotspot to patrol: create hotspots first", code="no_hotspots")
    if ctx.shortages:
        raise reject(ctx, "所有硬性规则无法同时满足：一侧中队在这些夜晚都不能出勤", ctx.shortages)
    try:
        solution = solve(
            ctx.problem,
            solver=options.solver,
            time_limit_s=options.time_limit_s,
            seed=options.seed,
            workers=options.workers,
        )
    except RosterInfeasible as exc:
        raise reject(ctx, exc.message, exc.violations) from exc
    fixed = set(ctx.problem.fixed)
    roster = Roster(
        period_start=start,
        period_end=end,
        status="draft",
        origin=origin,
        solver=solution.solver,
        solver_status=solution.status,
        seed=options.seed,
        time_limit_s=options.time_limit_s,
        objective=solution.objective,
        bound=solution.bound,
        gap=solution.gap,
        solve_time_s=round(solution.solve_time_s, 3),
        breakdown=solution.breakdown.as_dict(),
        explanation={"problem": snapshot(ctx)},
        options={
            "weeks": options.weeks,
            "solver": options.solver,
            "time_limit_s": options.time_limit_s,
            "seed": options.seed,
            "confirm_unpublished_year": options.confirm_unpublished_year,
            "eligible_m": options.eligible_m,
        },
        warnings=[*warnings, *ctx.warnings, *solution.notes],
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(roster)
    session.flush()
    for p in solution.patrols:
        if p in fixed:
            continue
        session.add(
            RosterShift(
                roster_id=roster.id,
                hotspot_id=p.hotspot,
                night=ctx.nights[p.night],
                squad_a_id=p.squad_a,
                squad_b_id=p.squad_b,
                uid=new_uid(),
                sequence=0,
                status="planned",
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    session.refresh(roster, ["shifts"])
    return roster


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


# --------------------------------------------------------------------------------------- reads


def get_roster(session: Session, roster_id: int) -> Roster:
    """A roster by id, or NotFound."""
    roster = session.get(Roster, roster_id)
    if roster is None:
        raise NotFound(f"no roster {roster_id}", details={"id": roster_id})
    return roster


def list_rosters(session: Session, *, status: str | None = None, limit: int = 50) -> list[Roster]:
    """Rosters, newest period first."""
    stmt = select(Roster).order_by(Roster.period_start.desc(), Roster.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Roster.status == status)
    return list(session.scalars(stmt))


def get_shift(session: Session, roster: Roster, shift_id: int) -> RosterShift:
    """A shift of the roster, or NotFound."""
    shift = session.get(RosterShift, shift_id)
    if shift is None or shift.roster_id != roster.id:
        raise NotFound(f"roster {roster.id} has no shift {shift_id}", details={"shift": shift_id})
    return shift


def planned(roster: Roster) -> list[RosterShift]:
    """The roster's shifts that will happen."""
    return [s for s in roster.shifts if s.status == "planned"]


def patrols_of(roster: Roster, shifts: list[RosterShift] | None = None) -> list[Patrol]:
    """Shifts as patrols of the roster's problem (night index from the period start)."""
    return [
        Patrol(s.hotspot_id, (s.night - roster.period_start).days, s.squad_a_id, s.squad_b_id)
        for s in (planned(roster) if shifts is None else shifts)
    ]


# --------------------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class ShiftChange:
    """A requested change of one shift (None = keep)."""

    night: date | None = None
    hotspot_id: int | None = None
    squad_a: str | None = None
    squad_b: str | None = None


@dataclass
class ChangeResult:
    """What a change did (or would do) to the objective."""

    before: dict[str, int]
    after: dict[str, int]
    applied: bool
    shifts: list[RosterShift]


def _squad_id(session: Session, code: str | None) -> int | None:
    return None if code is None else squads.get_squad(session, code).id


def change_roster(
    session: Session,
    roster: Roster,
    edits: dict[int, ShiftChange],
    *,
    calendar: WorkCalendar,
    now: datetime,
    dry_run: bool = False,
) -> ChangeResult:
    """Move or re-staff shifts; every hard rule is re-checked against today's data (422 with the reason).

    On a published roster a shift whose squads change is cancelled (its calendar event says so) and a
    new shift takes its place; a moved night keeps the UID and bumps SEQUENCE.
    """
    weeks = ((roster.period_end - roster.period_start).days + 1) // WEEK
    ctx = build_problem(
        session, roster.period_start, weeks, calendar=calendar, now=now, exclude_roster=roster.id
    )
    current = planned(roster)
    wanted: list[tuple[RosterShift, int, int, int, int]] = []
    for shift in current:
        edit = edits.get(shift.id)
        night, hotspot_id, a, b = shift.night, shift.hotspot_id, shift.squad_a_id, shift.squad_b_id
        if edit is not None:
            if edit.night is not None:
                if not roster.period_start <= edit.night <= roster.period_end:
                    raise ValidationFailed(
                        f"night {edit.night} is outside the roster's period",
                        details={"period": [roster.period_start.isoformat(), roster.period_end.isoformat()]},
                    )
                night = edit.night
            if edit.hotspot_id is not None:
                hotspot_services.get_hotspot(session, edit.hotspot_id)
                hotspot_id = edit.hotspot_id
            a = _squad_id(session, edit.squad_a) or a
            b = _squad_id(session, edit.squad_b) or b
        wanted.append((shift, hotspot_id, (night - roster.period_start).days, a, b))
    before_patrols = [*patrols_of(roster, current), *ctx.problem.fixed]
    after_patrols = [*(Patrol(h, n, a, b) for _, h, n, a, b in wanted), *ctx.problem.fixed]
    found = violations(ctx.problem, after_patrols)
    if found:
        raise reject(ctx, "改动违反硬性规则，未保存", found, code="hard_rule_violated")
    before = evaluate(ctx.problem, before_patrols).as_dict()
    after = evaluate(ctx.problem, after_patrols).as_dict()
    changed: list[RosterShift] = []
    if not dry_run:
        for shift, h, n, a, b in wanted:
            night = roster.period_start + timedelta(days=n)
            if (shift.hotspot_id, shift.night, shift.squad_a_id, shift.squad_b_id) == (h, night, a, b):
                continue
            if roster.status == "published" and (a, b) != (shift.squad_a_id, shift.squad_b_id):
                shift.status = "cancelled"
                shift.sequence += 1
                shift.updated_at = now
                replacement = RosterShift(
                    roster_id=roster.id,
                    hotspot_id=h,
                    night=night,
                    squad_a_id=a,
                    squad_b_id=b,
                    uid=new_uid(),
                    sequence=0,
                    status="planned",
                    created_at=now,
                    updated_at=now,
                )
                session.add(replacement)
                changed += [shift, replacement]
            else:
                shift.hotspot_id, shift.night, shift.squad_a_id, shift.squad_b_id = h, night, a, b
                if roster.status == "published":  # calendars already hold the event
                    shift.sequence += 1
                shift.updated_at = now
                changed.append(shift)
        session.flush()
        session.refresh(roster, ["shifts"])
    return ChangeResult(before, after, not dry_run, changed)


def cancel_shift(session: Session, roster: Roster, shift: RosterShift, *, now: datetime) -> None:
    """Remove a shift: deleted from a draft, cancelled (STATUS:CANCELLED in calendars) once published."""
    if shift.status == "cancelled":
        raise Conflict(f"shift {shift.id} is already cancelled")
    if roster.status == "draft":
        session.delete(shift)
    else:
        shift.status = "cancelled"
        shift.sequence += 1
        shift.updated_at = now
    session.flush()
    session.refresh(roster, ["shifts"])


def publish(
    session: Session, roster: Roster, *, calendar: WorkCalendar, now: datetime, published_by_id: int | None
) -> Roster:
    """Lock a draft: re-check the hard rules against today's data, then tell the squads (outbox)."""
    if roster.status == "published":
        raise Conflict(f"roster {roster.id} is already published", details={"id": roster.id})
    weeks = ((roster.period_end - roster.period_start).days + 1) // WEEK
    ctx = build_problem(
        session, roster.period_start, weeks, calendar=calendar, now=now, exclude_roster=roster.id
    )
    found = violations(ctx.problem, [*patrols_of(roster), *ctx.problem.fixed])
    if found:
        raise reject(
            ctx, "排班已不满足硬性规则（例如新登记的请假），请调整后再发布", found, code="hard_rule_violated"
        )
    roster.status = "published"
    roster.published_at = now
    roster.published_by_id = published_by_id
    for shift in roster.shifts:
        shift.updated_at = now
    concerned = sorted(
        {ctx.squads[q].code for s in planned(roster) for q in (s.squad_a_id, s.squad_b_id) if q in ctx.squads}
    )
    enqueue(
        session,
        "roster_published",
        None,
        {
            "roster_id": roster.id,
            "period": [roster.period_start.isoformat(), roster.period_end.isoformat()],
            "squads": concerned,
            "shifts": len(planned(roster)),
        },
        now=now,
    )
    session.flush()
    return roster


def squads_of(session: Session, shifts: list[RosterShift]) -> dict[int, Squad]:
    """The squads of some shifts, by id."""
    ids = {q for s in shifts for q in (s.squad_a_id, s.squad_b_id)}
    return {s.id: s for s in session.scalars(select(Squad).where(Squad.id.in_(ids)))} if ids else {}


def shifts_of_squad(session: Session, squad: Squad, *, since: date) -> list[RosterShift]:
    """A squad's shifts on published rosters from `since` (cancelled ones too: calendars must learn)."""
    stmt = (
        select(RosterShift)
        .join(Roster, Roster.id == RosterShift.roster_id)
        .where(
            Roster.status == "published",
            or_(RosterShift.squad_a_id == squad.id, RosterShift.squad_b_id == squad.id),
            RosterShift.night >= since,
        )
        .order_by(RosterShift.night, RosterShift.id)
    )
    return list(session.scalars(stmt))
