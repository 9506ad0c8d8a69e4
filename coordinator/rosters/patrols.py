"""Patrol logs: the squads on a published shift record when they went, who went, and what they found —
existing cases they link, new reports they file through the normal intake (source `joint_patrol`, so
dedup and routing treat them like any other report), or "nothing found"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.intake import ReportInput, submit_report
from coordinator.cases.models import Case
from coordinator.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coordinator.permissions import may_record_patrol
from coordinator.rosters.models import PatrolFinding, PatrolLog, Roster, RosterShift
from coordinator.worktime import WorkCalendar
from geo.locator import Locator


@dataclass(frozen=True)
class FoundReport:
    """A new report filed from a patrol."""

    category: str
    lon: float
    lat: float
    crs: str = "wgs84"
    description: str = ""
    photos: Sequence[str] = ()


@dataclass(frozen=True)
class PatrolInput:
    """A patrol log as recorded."""

    started_at: datetime
    ended_at: datetime
    members: Sequence[str]
    outcome: str
    note: str = ""
    linked_cases: Sequence[str] = ()  # case numbers
    reports: Sequence[FoundReport] = ()


def get_shift(session: Session, shift_id: int) -> RosterShift:
    """A shift by id, or NotFound."""
    shift = session.get(RosterShift, shift_id)
    if shift is None:
        raise NotFound(f"no shift {shift_id}", details={"id": shift_id})
    return shift


def record_patrol(
    session: Session,
    shift: RosterShift,
    data: PatrolInput,
    *,
    user: User,
    locator: Locator,
    calendar: WorkCalendar,
    now: datetime,
) -> PatrolLog:
    """Store a patrol log; new reports go through the normal intake and are linked as findings."""
    roster = session.get_one(Roster, shift.roster_id)
    if not may_record_patrol(user, shift):
        raise Forbidden("only the two squads on this shift (or a dispatcher) record its patrol")
    if roster.status != "published" or shift.status != "planned":
        raise Conflict(
            "patrols are recorded on planned shifts of published rosters", details={"shift": shift.id}
        )
    if data.ended_at < data.started_at:
        raise ValidationFailed("ended_at must not be before started_at", code="invalid_period")
    found_any = bool(data.linked_cases or data.reports)
    if data.outcome == "nothing_found" and found_any:
        raise ValidationFailed(
            "outcome nothing_found cannot link or report cases", code="inconsistent_outcome"
        )
    if data.outcome == "found" and not found_any:
        raise ValidationFailed("outcome found needs linked_cases or reports", code="inconsistent_outcome")
    linked: list[Case] = []
    for number in data.linked_cases:
        case = session.scalars(select(Case).where(Case.number == number)).first()
        if case is None:
            raise ValidationFailed(f"no case {number}", code="unknown_case", details={"case": number})
        linked.append(case)
    log = PatrolLog(
        shift_id=shift.id,
        started_at=data.started_at,
        ended_at=data.ended_at,
        members=list(data.members),
        outcome=data.outcome,
        note=data.note,
        recorded_by_id=user.id,
        created_at=now,
    )
    session.add(log)
    session.flush()
    seen: set[int] = set()
    for case in linked:
        if case.id not in seen:
            session.add(PatrolFinding(patrol_log_id=log.id, case_id=case.id, kind="linked"))
            seen.add(case.id)
    for report in data.reports:
        result = submit_report(
            session,
            locator,
            ReportInput(
                category=report.category,
                lon=report.lon,
                lat=report.lat,
                crs=report.crs,
                description=report.description,
                source="joint_patrol",
                photos=tuple(report.photos),
                observed_at=data.started_at,
            ),
            submitter=user,
            calendar=calendar,
            now=now,
        )
        case_id = result.case_facts.id
        if case_id not in seen:
            kind = "linked" if result.merged else "opened"
            session.add(
                PatrolFinding(patrol_log_id=log.id, case_id=case_id, report_id=result.report_id, kind=kind)
            )
            seen.add(case_id)
    session.flush()
    session.refresh(log, ["findings"])
    return log


def logs_of(session: Session, shift: RosterShift) -> list[PatrolLog]:
    """A shift's patrol logs, oldest first."""
    return list(
        session.scalars(select(PatrolLog).where(PatrolLog.shift_id == shift.id).order_by(PatrolLog.id))
    )
