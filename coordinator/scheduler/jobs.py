"""Scheduler jobs: module-level functions (APScheduler's SQLAlchemy job store pickles them by reference).

They read their database from `bind` (set once by the `scheduler run` command) and the time from
`clock` (a function, so tests can drive it). Each run is one short transaction per step.

Every run is recorded (`recorded`): a `scheduler_run` row written before it starts and closed with its
outcome after, and a request id of its own (`job-<name>-<random>`) in its log lines and on the audit
rows it writes.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from config.logging import request_id_var
from coordinator.db import session_scope, utcnow
from coordinator.scheduler.models import SchedulerRun

log = logging.getLogger(__name__)

_factory: sessionmaker[Session] | None = None
_holder: str = f"{socket.gethostname()[:80]}:{os.getpid()}"
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731  (replaceable in tests)
P = ParamSpec("P")
R = TypeVar("R")


def bind(factory: sessionmaker[Session], holder: str | None = None) -> None:
    """Point the jobs at a database (the scheduler process calls this once at start); `holder` names
    this process in the run records."""
    global _factory, _holder
    _factory = factory
    if holder:
        _holder = holder


def recorded(fn: Callable[P, R]) -> Callable[P, R]:
    """Record each run of the job `fn` in `scheduler_run` and run it under a request id of its own."""
    job_id = fn.__name__

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        run_id = f"job-{job_id}-{uuid.uuid4().hex[:12]}"
        token = request_id_var.set(run_id)
        try:
            with session_scope(_sessions()) as session:
                record = SchedulerRun(
                    job_id=job_id, holder=_holder, run_id=run_id, started_at=utcnow(), outcome="running"
                )
                session.add(record)
                session.flush()
                record_id = record.id
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                _finish(record_id, "error", f"{type(exc).__name__}: {exc}")
                raise
            _finish(record_id, "ok", json.dumps(result, ensure_ascii=False, default=str))
            return result
        finally:
            request_id_var.reset(token)

    return run


def _finish(record_id: int, outcome: str, detail: str) -> None:
    try:
        with session_scope(_sessions()) as session:
            session.execute(
                update(SchedulerRun)
                .where(SchedulerRun.id == record_id, SchedulerRun.outcome == "running")
                .values(outcome=outcome, finished_at=utcnow(), detail=detail[:2000])
            )
    except Exception:  # the run itself is done; a lost record is closed as abandoned by the next leader
        log.exception("could not record the end of scheduler run %s", record_id)


def run_records(session: Session, job_id: str | None = None) -> list[Any]:
    """The recorded runs (oldest first), for operators and tests."""
    stmt = select(SchedulerRun).order_by(SchedulerRun.started_at, SchedulerRun.id)
    if job_id is not None:
        stmt = stmt.where(SchedulerRun.job_id == job_id)
    return list(session.scalars(stmt))


def _sessions() -> sessionmaker[Session]:
    if _factory is None:
        raise RuntimeError("scheduler jobs are not bound to a database; call coordinator.scheduler.jobs.bind")
    return _factory


@recorded
def sla_sweep() -> dict[str, int]:
    """Escalate what fell due since the last run (idempotent; catches up after downtime)."""
    from coordinator.cases.sla import sweep

    with session_scope(_sessions()) as session:
        result = sweep(session, now=clock())
    if result.escalated or result.overdue:
        log.info("sla sweep: escalated %d, overdue %d", len(result.escalated), len(result.overdue))
    return {"escalated": len(result.escalated), "overdue": len(result.overdue)}


@recorded
def deliver_webhooks() -> dict[str, int]:
    """Fan out new outbox messages and POST due deliveries (failures are retried with backoff)."""
    from coordinator.notifications.services import deliver_pending

    stats = deliver_pending(_sessions(), now=clock())
    if stats.attempted:
        log.info(
            "webhooks: %d attempted, %d delivered, %d given up",
            stats.attempted,
            stats.delivered,
            stats.failed_for_good,
        )
    return {"attempted": stats.attempted, "delivered": stats.delivered, "failed": stats.failed_for_good}


@recorded
def draft_next_roster(time_limit_s: float = 20.0, workers: int = 2) -> dict[str, object]:
    """Draft next week's joint night roster (Monday to Sunday) unless a roster for it already exists.

    Idempotent: a second run finds the roster and does nothing. A year whose holidays are not
    published is not planned here (a dispatcher confirms it through the API); an impossible roster is
    logged with the reason, not retried.
    """
    from datetime import timedelta

    from sqlalchemy import select

    from coordinator.errors import ApiError
    from coordinator.rosters.models import Roster
    from coordinator.rosters.services import RosterOptions, generate_roster
    from coordinator.worktime import SHANGHAI
    from coordinator.worktime.services import load_calendar

    now = clock()
    today = now.astimezone(SHANGHAI).date()
    monday = today + timedelta(days=7 - today.weekday())
    with session_scope(_sessions()) as session:
        existing = session.scalar(select(Roster.id).where(Roster.period_start == monday).limit(1))
        if existing is not None:
            return {"week": monday.isoformat(), "roster": existing, "created": False}
        try:
            roster = generate_roster(
                session,
                start=monday,
                options=RosterOptions(weeks=1, time_limit_s=time_limit_s, workers=workers),
                calendar=load_calendar(session),
                now=now,
                origin="scheduler",
            )
        except ApiError as exc:
            log.warning("roster draft for the week of %s: %s %s", monday, exc.code, exc.message)
            return {"week": monday.isoformat(), "error": exc.code}
        log.info("drafted roster %d for the week of %s (%d shifts)", roster.id, monday, len(roster.shifts))
        return {"week": monday.isoformat(), "roster": roster.id, "created": True}


@recorded
def remind_patrols() -> dict[str, int]:
    """Remind the two squads of each published patrol tonight (webhook outbox), once per shift."""
    from sqlalchemy import select

    from coordinator.notifications.services import enqueue
    from coordinator.rosters.models import Roster, RosterShift
    from coordinator.rosters.services import squads_of
    from coordinator.worktime import SHANGHAI

    now = clock()
    tonight = now.astimezone(SHANGHAI).date()
    with session_scope(_sessions()) as session:
        shifts = list(
            session.scalars(
                select(RosterShift)
                .join(Roster, Roster.id == RosterShift.roster_id)
                .where(
                    Roster.status == "published",
                    RosterShift.status == "planned",
                    RosterShift.night == tonight,
                    RosterShift.reminded_at.is_(None),
                )
                .order_by(RosterShift.id)
                .with_for_update()
            )
        )
        squads = squads_of(session, shifts)
        for shift in shifts:
            enqueue(
                session,
                "patrol_reminder",
                None,
                {
                    "shift_uid": shift.uid,
                    "night": shift.night.isoformat(),
                    "hotspot_id": shift.hotspot_id,
                    "squads": [squads[shift.squad_a_id].code, squads[shift.squad_b_id].code],
                },
                now=now,
            )
            shift.reminded_at = now
    if shifts:
        log.info("patrol reminders: %d shifts tonight", len(shifts))
    return {"reminded": len(shifts)}


@recorded
def meeting_agendas() -> dict[str, int]:
    """Build the agendas that fell due (idempotent: each meeting's agenda is built once)."""
    from coordinator.meetings.agenda import build_due_agendas

    with session_scope(_sessions()) as session:
        result = build_due_agendas(session, now=clock())
    if result.meeting_ids:
        log.info("meeting agendas built: %s", result.meeting_ids)
    return {"built": len(result.meeting_ids)}


@recorded
def meeting_reminders() -> dict[str, int]:
    """Queue the meeting reminders that fell due (webhook outbox; each meeting is reminded once)."""
    from coordinator.meetings.agenda import send_due_reminders

    with session_scope(_sessions()) as session:
        result = send_due_reminders(session, now=clock())
    if result.meeting_ids:
        log.info("meeting reminders queued: %s", result.meeting_ids)
    return {"reminded": len(result.meeting_ids)}


@recorded
def plan_meetings() -> dict[str, int]:
    """Keep every active monthly series planned `HORIZON` meetings ahead (idempotent)."""
    from coordinator.dialects import begin_write
    from coordinator.meetings.models import MeetingSeries
    from coordinator.meetings.planning import plan_series
    from coordinator.worktime.services import load_calendar

    created = changed = 0
    with session_scope(_sessions()) as session:
        begin_write(session)
        calendar = load_calendar(session)
        for series in session.scalars(select(MeetingSeries).where(MeetingSeries.active.is_(True))):
            result = plan_series(session, series, calendar, now=clock())
            created, changed = created + len(result.created), changed + len(result.changed)
            if result.blocked_year is not None:
                log.warning("series %s: %s not published, not planned", series.code, result.blocked_year)
    return {"created": created, "changed": changed}
