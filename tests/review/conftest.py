"""A demo caseload moved through the real workflow (claims, closes, a sweep, transfers, a reopen), and
the direct recount from the cases table that every review figure must agree with."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coordinator.cases import sla, workflow
from coordinator.cases.demo_caseload import seed_demo_caseload
from coordinator.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseTransfer, Report
from coordinator.cases.queries import is_overdue
from coordinator.geolocation.services import LocatorCache
from coordinator.review.services import FINISHED_STATUSES, Period
from coordinator.worktime import SHANGHAI
from geo.locator import Locator
from tests.factories import make_user


@dataclass
class Caseload:
    """What the fixture built."""

    now: datetime
    cases: list[Case]


def build_caseload(session: Session, locator: Locator, now: datetime, reports: int = 160) -> Caseload:
    """Seed a demo caseload over ~70 days before `now`, run the SLA sweep at `now`, then add a declined
    and an accepted transfer and a reopened case, so every figure has something to count."""
    seed_demo_caseload(session, locator, reports=reports, days=70, now=now - timedelta(hours=1), seed=16)
    sla.sweep(session, now=now - timedelta(minutes=30), batch=10_000)
    cases = list(session.scalars(select(Case).where(Case.synthetic.is_(True)).order_by(Case.id)))
    routed = [c for c in cases if c.status == "routed" and c.lead_squad_id and c.partners]
    dispatcher = make_user(session, "admin")
    at = now - timedelta(minutes=20)
    if len(routed) >= 2:
        for case, accept in ((routed[0], False), (routed[1], True)):
            partner = case.partners[0].squad_id
            transfer = workflow.request_transfer(
                session, case.id, dispatcher, to_squad=_code(session, partner), reason="测试移交", now=at
            )
            receiver = make_user(session, "squad_leader", squad=_squad(session, partner))
            if accept:
                from coordinator.worktime import WorkCalendar

                workflow.accept_transfer(
                    session, case.id, transfer.id, receiver, now=at, calendar=WorkCalendar(), reason="同意"
                )
            else:
                workflow.decline_transfer(session, case.id, transfer.id, receiver, now=at, reason="不在辖区")
    closed = next((c for c in cases if c.status == "closed"), None)
    if closed is not None:
        workflow.reopen(session, closed.id, dispatcher, now=at, reason="问题复现")
    session.flush()
    session.expire_all()
    return Caseload(now, list(session.scalars(select(Case).order_by(Case.id))))


def _squad(session: Session, squad_id: int):  # type: ignore[no-untyped-def]
    from coordinator.squads.models import Squad

    return session.get_one(Squad, squad_id)


def _code(session: Session, squad_id: int) -> str:
    return str(_squad(session, squad_id).code)


def nearest_rank(values: list[float], p: int) -> float | None:
    """The p-th percentile by nearest rank (what the review computes in SQL)."""
    if not values:
        return None
    ordered = sorted(values)
    # to the tenth of an hour, half up, as the review reports durations
    return math.floor(ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] * 10 + 0.5) / 10


def recount(
    session: Session, period: Period, now: datetime, key: Callable[[Case], str | None], cases: list[Case]
) -> dict[str | None, dict[str, float | int | None]]:
    """The review's figures, counted case by case in Python from the rows (the inbox's is_overdue
    decides `overdue` and the open part of the SLA)."""
    transfers = session.scalars(select(CaseTransfer)).all()
    accepted = {t.case_id for t in transfers if t.state == "accepted"}
    declined = {t.case_id for t in transfers if t.state == "declined"}
    reopened = set(session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "reopened")))
    cohort = sorted(
        (c for c in cases if period.start <= c.created_at < period.end), key=lambda c: (c.created_at, c.id)
    )
    groups: dict[str | None, dict[str, float | int | None]] = {}
    hours: dict[str | None, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for c in cohort:
        g = groups.setdefault(key(c), defaultdict(int))  # type: ignore[arg-type]
        overdue = is_overdue(c, now)
        finished = c.status in FINISHED_STATUSES
        claimed_late = c.claimed_at is not None and c.claim_by is not None and c.claimed_at > c.claim_by
        resolved_late = (
            finished
            and c.resolved_at is not None
            and c.resolve_by is not None
            and c.resolved_at > c.resolve_by
        )
        breached = c.status != "void" and (claimed_late or resolved_late or overdue)
        g["new"] += 1
        g["open"] += c.status in OPEN_STATUSES
        g["closed"] += c.status == "closed"
        g["void"] += c.status == "void"
        g["overdue"] += overdue
        g["transferred"] += c.id in accepted
        g["transfer_declined"] += c.id in declined
        g["escalated"] += c.escalated_at is not None
        g["in_border_zone"] += c.in_border_zone
        g["repeat_location"] += c.id in reopened or c.report_count > 1
        g["sla_met"] += finished and not breached
        g["sla_breached"] += breached
        g["sla_pending"] += c.status in OPEN_STATUSES and not breached
        if c.claim_work_h is not None:
            hours[key(c)][0].append(c.claim_work_h)
        if c.status == "closed" and c.close_work_h is not None:
            hours[key(c)][1].append(c.close_work_h)
    for k, g in groups.items():
        claim, close = hours[k]
        g.update(
            claim_h_median=nearest_rank(claim, 50),
            claim_h_p90=nearest_rank(claim, 90),
            close_h_median=nearest_rank(close, 50),
            close_h_p90=nearest_rank(close, 90),
        )
    return {k: dict(v) for k, v in groups.items()}


def source_of(session: Session) -> Callable[[Case], str | None]:
    """Case → the source of the report that opened it."""
    sources = {r.case_id: r.source for r in session.scalars(select(Report).where(Report.merged.is_(False)))}
    return lambda c: sources.get(c.id)


KEYS: dict[str, Callable[[Case], str | None]] = {
    "border_pair": lambda c: f"{c.border_pair_a}-{c.border_pair_b}" if c.border_pair_a else None,
    "district": lambda c: c.district_code,
    "squad": lambda c: None if c.lead_squad_id is None else str(c.lead_squad_id),
    "category": lambda c: c.category_code,
    "week": lambda c: (
        c.created_at.astimezone(SHANGHAI).date() - timedelta(days=c.created_at.astimezone(SHANGHAI).weekday())
    ).isoformat(),
}


@pytest.fixture
def locator(locator_cache: LocatorCache, session_factory: sessionmaker[Session]) -> Locator:
    """The locator (built with a session of its own: the cache closes the session it is given)."""
    return locator_cache.get(session_factory)


@pytest.fixture
def caseload(session: Session, locator: Locator) -> Caseload:
    """The demo caseload at a fixed `now` (2026-11-20 10:00 Shanghai: last month is October 2026)."""
    return build_caseload(session, locator, datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
