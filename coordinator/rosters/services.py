"""Roster services: solve a draft roster, read rosters and shifts, change shifts under the hard rules,
cancel them, publish. Plain functions taking a Session; they never commit. The problem a roster is solved
from, and the 422 naming broken rules, come from coordinator.rosters.context.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coordinator.errors import Conflict, NotFound, ValidationFailed
from coordinator.hotspots import services as hotspot_services
from coordinator.notifications.services import enqueue
from coordinator.rosters.context import ELIGIBLE_M, build_problem, check_calendar, reject, snapshot
from coordinator.rosters.models import Roster, RosterShift
from coordinator.rosters.problem import WEEK, Patrol, evaluate, violations
from coordinator.rosters.solver import RosterInfeasible, solve
from coordinator.squads import services as squads
from coordinator.squads.models import Squad
from coordinator.worktime import WorkCalendar

MAX_WEEKS = 4
UID_DOMAIN = "jiaojie-xietong"


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
