"""Races decided by the database, over real concurrent connections (not the rolled-back test
transaction): fifty claims, two sweeps at once, a scheduler restart. Everything committed is removed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from coordinator import create_app
from coordinator.auth.models import ApiToken, User
from coordinator.cases.models import Case, CaseEvent
from coordinator.cases.retention import purge_cases
from coordinator.cases.sla import SweepResult, sweep
from coordinator.db import session_scope
from coordinator.scheduler import (
    AGENDA_JOB_ID,
    DELIVERY_JOB_ID,
    PATROL_REMINDER_JOB_ID,
    PLAN_JOB_ID,
    REMINDER_JOB_ID,
    ROSTER_DRAFT_JOB_ID,
    SWEEP_JOB_ID,
    configure,
    jobs,
)
from coordinator.squads.models import Squad
from tests.factories import bearer, make_case, make_squad, make_token, make_user

ALL_JOBS = {
    SWEEP_JOB_ID,
    DELIVERY_JOB_ID,
    ROSTER_DRAFT_JOB_ID,
    PATROL_REMINDER_JOB_ID,
    AGENDA_JOB_ID,
    REMINDER_JOB_ID,
    PLAN_JOB_ID,
}

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Shanghai


@dataclass
class Committed:
    """What a live test committed, for cleanup."""

    cases: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    squads: list[int] = field(default_factory=list)


@pytest.fixture
def live(engine: Engine) -> Iterator[tuple[sessionmaker[Session], Committed]]:
    factory = sessionmaker(engine, expire_on_commit=False)
    made = Committed()
    yield factory, made
    with session_scope(factory) as session:
        purge_cases(session, made.cases, reason="test cleanup")
        session.execute(delete(ApiToken).where(ApiToken.user_id.in_(made.users)))
        session.execute(delete(User).where(User.id.in_(made.users)))
        session.execute(delete(Squad).where(Squad.id.in_(made.squads)))


@pytest.fixture
def live_app(database_url: str) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "testing": True, "secret_key": "test"})
    yield app
    app.extensions["coordinator.engine"].dispose()
    app.extensions["coordinator.counter_engine"].dispose()


def test_fifty_concurrent_claims_one_winner(
    live: tuple[sessionmaker[Session], Committed], live_app: Flask, engine: Engine
) -> None:
    factory, made = live
    with session_scope(factory) as session:
        lead = make_squad(session, district="310120")
        partner = make_squad(session, district="310116")
        made.squads += [lead.id, partner.id]
        case = make_case(session, lead=lead, partners=(partner,))
        made.cases.append(case.id)
        tokens = {}
        for i in range(50):
            user = make_user(
                session, "squad_member" if i % 3 else "squad_leader", squad=lead if i % 2 else partner
            )
            made.users.append(user.id)
            tokens[user.username] = make_token(session, user)
        case_id = case.id
    barrier = threading.Barrier(50)

    def claim(token: str) -> tuple[int, dict[str, object]]:
        client = live_app.test_client()
        barrier.wait()  # all fifty requests leave together
        response = client.post(f"/api/v1/cases/{case_id}/claim", headers=bearer(token))
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(claim, tokens.values()))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 49, statuses
    winner = next(body for status, body in results if status == 200)["claimed_by"]
    assert winner in tokens
    holders = {body["error"]["details"]["claimed_by"] for status, body in results if status == 409}  # type: ignore[index]
    assert holders == {winner}
    with Session(engine) as session:
        claims = session.scalar(
            select(func.count()).where(CaseEvent.case_id == case_id, CaseEvent.kind == "claimed")
        )
        assert claims == 1
        assert session.scalar(select(Case.claimed_by_id).where(Case.id == case_id)) is not None


def test_two_sweeps_at_once_escalate_each_case_once(
    live: tuple[sessionmaker[Session], Committed], engine: Engine
) -> None:
    factory, made = live
    with session_scope(factory) as session:
        lead = make_squad(session, district="310120")
        made.squads.append(lead.id)
        ids = [
            make_case(
                session,
                lead=lead,
                now=T0,
                claim_by=T0 + timedelta(hours=1),
                resolve_by=T0 + timedelta(hours=3),
            ).id
            for _ in range(6)
        ]
        made.cases += ids
    barrier = threading.Barrier(2)

    def run(_: int) -> SweepResult:
        with session_scope(factory) as session:
            barrier.wait()
            return sweep(session, now=T0 + timedelta(hours=4))

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.map(run, range(2))
    mine = set(ids)
    escalated = [i for i in a.escalated + b.escalated if i in mine]
    overdue = [i for i in a.overdue + b.overdue if i in mine]
    assert sorted(escalated) == sorted(ids)  # each exactly once across both sweeps
    assert sorted(overdue) == sorted(ids)
    with Session(engine) as session:
        per_case = dict(
            session.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "escalated")
                .group_by(CaseEvent.case_id)
            ).all()
        )
        assert per_case == {i: 2 for i in ids}  # one for the claim deadline, one for the resolve deadline


def test_scheduler_restart_loses_no_escalation(
    live: tuple[sessionmaker[Session], Committed], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, made = live
    with session_scope(factory) as session:
        lead = make_squad(session, district="310120")
        made.squads.append(lead.id)
        case = make_case(session, lead=lead, now=T0, claim_by=T0 + timedelta(hours=2))
        made.cases.append(case.id)
        case_id = case.id
    jobs.bind(factory)
    now = {"t": T0 + timedelta(hours=1)}
    monkeypatch.setattr(jobs, "clock", lambda: now["t"])

    first = configure(BackgroundScheduler(), engine)
    first.start(paused=True)
    try:
        assert {j.id for j in first.get_jobs()} == ALL_JOBS
        stored = first.get_job(SWEEP_JOB_ID)
        assert stored is not None and str(stored.trigger.timezone) == "Asia/Shanghai"
        assert stored.misfire_grace_time == 3600 and stored.coalesce is True
        stored.func()  # a run before the deadline: nothing to do
        with Session(engine) as session:
            assert session.scalar(select(Case.escalated_at).where(Case.id == case_id)) is None
    finally:
        first.shutdown(wait=False)  # the scheduler process stops…

    now["t"] = T0 + timedelta(hours=30)  # …time passes, the claim deadline goes by unobserved…

    second = configure(BackgroundScheduler(), engine)  # …and it restarts on the same job store
    second.start(paused=True)
    try:
        restored = second.get_jobs()
        assert sorted(j.id for j in restored) == sorted(ALL_JOBS)  # replaced, not duplicated
        job = second.get_job(SWEEP_JOB_ID)
        assert job is not None
        job.func()  # the first sweep after the restart catches up
        job.func()  # and a second one changes nothing
    finally:
        second.remove_all_jobs()
        second.shutdown(wait=False)
    with Session(engine) as session:
        assert session.scalar(select(Case.escalated_at).where(Case.id == case_id)) == T0 + timedelta(hours=30)
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
        assert kinds == ["escalated"]
