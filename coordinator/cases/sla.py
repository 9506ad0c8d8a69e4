"""The SLA sweep: escalate unclaimed cases past their claim deadline, flag unresolved ones past their
resolve deadline.

All state lives in the case rows (`claim_by`, `resolve_by`, `escalated_at`, `overdue_at`), so the sweep
is idempotent and catches up: a scheduler that was down for a day escalates everything that fell due
in between on its first run. Each case is marked with a conditional UPDATE (`… AND escalated_at IS
NULL`) and only the sweep whose UPDATE matched writes the event: two sweeps at once (PostgreSQL row
locks; SQLite's single writer) escalate each case exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordinator.cases.events import add_event
from coordinator.cases.models import OPEN_STATUSES, Case
from coordinator.cases.reference import reference_data
from coordinator.cases.routing import queue_for
from coordinator.dialects import begin_write
from coordinator.worktime import SHANGHAI

BATCH = 500


@dataclass
class SweepResult:
    """Case ids escalated for a missed claim deadline and flagged for a missed resolve deadline."""

    escalated: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)


def sweep(session: Session, *, now: datetime, batch: int = BATCH) -> SweepResult:
    """One pass over the deadlines at `now` (a parameter, so tests drive the clock). Never commits."""
    begin_write(session)
    result = SweepResult()
    unclaimed = (
        Case.status == "routed",
        Case.claimed_by_id.is_(None),
        Case.escalated_at.is_(None),
        Case.claim_by <= now,
    )
    reference = reference_data(session)
    for case in session.scalars(select(Case).where(*unclaimed).order_by(Case.id).limit(batch)).all():
        unit = queue_for(reference, "district", case.district_code)
        moved = session.execute(
            update(Case)
            .where(Case.id == case.id, *unclaimed)
            .values(escalated_at=now, escalated_to_unit_id=unit.id if unit else None)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another sweep (or a claim) got there first
        session.refresh(case)
        target = unit.name_zh if unit else "调度员"
        add_event(
            session,
            case,
            kind="escalated",
            actor=None,
            from_status=case.status,
            to_status=case.status,
            reason=f"超过认领时限（{_local(case.claim_by)}）未认领：升级至{target}",
            payload={"trigger": "claim_deadline", "unit": unit.code if unit else None},
            at=now,
        )
        result.escalated.append(case.id)
    unresolved = (
        Case.status.in_(OPEN_STATUSES),
        Case.overdue_at.is_(None),
        Case.resolve_by <= now,
    )
    for case in session.scalars(select(Case).where(*unresolved).order_by(Case.id).limit(batch)).all():
        moved = session.execute(
            update(Case)
            .where(Case.id == case.id, *unresolved)
            .values(overdue_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(case)
        add_event(
            session,
            case,
            kind="escalated",
            actor=None,
            from_status=case.status,
            to_status=case.status,
            reason=f"超过处置时限（{_local(case.resolve_by)}）未办结：超期，升级至调度员",
            payload={"trigger": "resolve_deadline"},
            at=now,
        )
        result.overdue.append(case.id)
    return result


def _local(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "?"
