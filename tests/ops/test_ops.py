"""Operations: request ids (header, logs, audit rows), /metrics, /readyz, recorded scheduler runs and
the scheduler's leader lock on SQLite (a file lock)."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.logging import JsonFormatter, request_id_var
from coordinator.cases.models import CaseEvent
from coordinator.db import utcnow
from coordinator.ops.requestid import accepted_request_id
from coordinator.scheduler import jobs
from coordinator.scheduler.leader import FileLock, Leadership
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun
from coordinator.settings import get_settings
from tests.factories import bearer, make_case, make_squad, make_token, make_user

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_sane_request_id_is_kept_and_others_replaced() -> None:
    assert accepted_request_id("edge-7f3a.1") == "edge-7f3a.1"
    for bad in (None, "", "two words", "a" * 65, 'x"}{', "-leading-dash"):
        fresh = accepted_request_id(bad)
        assert fresh != bad and len(fresh) == 32


def test_every_answer_carries_the_request_id(client: FlaskClient) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "lb-123"})
    assert response.headers["X-Request-ID"] == "lb-123"
    generated = client.get("/livez", headers={"X-Request-ID": "not ok"}).headers["X-Request-ID"]
    assert generated != "not ok" and len(generated) == 32
    assert client.get("/nowhere").headers["X-Request-ID"]  # errors too


def test_audit_rows_carry_the_request_id_of_the_request_that_wrote_them(
    client: FlaskClient, session: Session
) -> None:
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    body = {"category": "01-11", "description": "沟渠边建筑垃圾", "lon": 121.4712, "lat": 30.9031}
    response = client.post(
        "/api/v1/reports", json=body, headers={**bearer(token), "X-Request-ID": "trace-intake-1"}
    )
    assert response.status_code == 201, response.get_json()
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == response.get_json()["case_id"]))
    assert {e.request_id for e in events} == {"trace-intake-1"}


def test_json_log_lines_name_the_request() -> None:
    record = logging.LogRecord("coordinator.x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    token = request_id_var.set("rid-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "rid-42" and line["msg"] == "hello world" and line["level"] == "INFO"
    access = logging.LogRecord("coordinator.access", logging.INFO, __file__, 1, "GET / 200", (), None)
    access.status = 200
    assert json.loads(JsonFormatter().format(access))["status"] == 200  # `extra=` fields are kept


def test_metrics_count_requests_and_read_the_database(client: FlaskClient, session: Session) -> None:
    lead = make_squad(session, district="310116")
    make_case(session, lead=lead, district="310116", now=T0, claim_by=T0 + timedelta(hours=2))
    session.commit()
    client.get("/livez")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    got = samples(response.get_data(as_text=True))
    livez = got[("jiaojie_http_requests_total", (("method", "GET"), ("route", "/livez"), ("status", "200")))]
    assert livez >= 1
    assert got[("jiaojie_http_request_duration_seconds_count", (("method", "GET"), ("route", "/livez")))] >= 1
    assert got[("jiaojie_cases", (("state", "routed"),))] >= 1
    assert ("jiaojie_sla_breaches", (("deadline", "claim"), ("open", "true"))) in got
    assert ("jiaojie_outbox_backlog", (("stage", "undispatched"),)) in got
    assert got[("jiaojie_scheduler_leader_heartbeat_age_seconds", ())] == -1.0
    again = samples(client.get("/metrics").get_data(as_text=True))
    key = ("jiaojie_http_requests_total", (("method", "GET"), ("route", "/metrics"), ("status", "200")))
    assert again[key] >= got.get(key, 0) + 1


def test_metrics_token_guards_metrics_when_set(app: Flask, client: FlaskClient) -> None:
    settings = get_settings(app)
    app.extensions["coordinator.settings"] = settings.with_overrides({"metrics_token": "s3cret"})
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_readyz_wants_a_fresh_scheduler_heartbeat(app: Flask, client: FlaskClient, session: Session) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["error"]["details"]["checks"]
    assert checks["database"] == "ok" and checks["locator"] == "ok"
    assert checks["scheduler"].startswith("failed")
    session.add(SchedulerHeartbeat(holder="h:1:aa", role="leader", beat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    stale = client.get("/readyz").get_json()["error"]["details"]["checks"]["scheduler"]
    assert "old" in stale
    session.add(SchedulerHeartbeat(holder="h:2:bb", role="leader", beat_at=utcnow()))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    ready = response.get_json()
    assert ready["status"] == "ready" and ready["scheduler_heartbeat_age_s"] < 60
    assert ready["boundary_generation"] is not None


def test_readyz_can_leave_the_scheduler_out(app: Flask, client: FlaskClient) -> None:
    settings = get_settings(app)
    app.extensions["coordinator.settings"] = settings.with_overrides({"readyz_requires_scheduler": False})
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["scheduler"] == "skipped"


def test_job_runs_are_recorded_and_their_events_carry_the_run_id(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    lead = make_squad(session, district="310116")
    case = make_case(session, lead=lead, district="310116", now=T0, claim_by=T0 + timedelta(hours=2))
    session.commit()
    jobs.bind(session_factory, holder="test-host:1:sweep")
    previous = jobs.clock
    jobs.clock = lambda: T0 + timedelta(hours=3)
    try:
        assert case.id and jobs.sla_sweep()["escalated"] >= 1
    finally:
        jobs.clock = previous
    run = session.scalars(
        select(SchedulerRun).where(
            SchedulerRun.job_id == "sla_sweep", SchedulerRun.holder == "test-host:1:sweep"
        )
    ).one()  # (other tests' runs may be on record: this holder's is the one)
    assert run.outcome == "ok" and run.finished_at is not None
    assert json.loads(run.detail)["escalated"] >= 1
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert event.kind == "escalated" and event.request_id == run.run_id


def test_a_failing_job_run_is_recorded_as_an_error(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    @jobs.recorded
    def broken() -> None:
        raise RuntimeError("boom")

    jobs.bind(session_factory, holder="test-host:1:ab")
    with pytest.raises(RuntimeError):
        broken()
    run = session.scalars(select(SchedulerRun).where(SchedulerRun.job_id == "broken")).one()
    assert run.outcome == "error" and "boom" in run.detail


def test_the_file_lock_admits_one_process_at_a_time(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "db.scheduler-lock"), FileLock(tmp_path / "db.scheduler-lock")
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def taking_turns(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """`factory`'s sessions, one thread's at a time (each holds the turn from creation to close).

    Sessions of the test's factory all run on its one connection, each in a savepoint. Two threads
    writing through it at once nest their savepoints into each other, and one's RELEASE drops the other's
    ("no such savepoint", then PendingRollbackError): the test then failed on a race of its own making,
    which two scheduler processes, each on connections of its own, never have.
    """
    turn = threading.Lock()

    class Turn(Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            turn.acquire()
            self._has_turn = True
            super().__init__(*args, **kwargs)

        def close(self) -> None:
            try:
                super().close()
            finally:
                if self._has_turn:
                    self._has_turn = False
                    turn.release()

    return sessionmaker(class_=Turn, **factory.kw)


def test_a_standby_takes_over_when_the_leader_resigns(
    tmp_path: Path, session_factory: sessionmaker[Session], session: Session
) -> None:
    path = tmp_path / "db.scheduler-lock"
    shared = taking_turns(session_factory)  # a and b beat from two threads through one connection
    a = Leadership(FileLock(path), shared, "host:1:aa", heartbeat_s=0.05, retry_s=0.05)
    b = Leadership(FileLock(path), shared, "host:2:bb", heartbeat_s=0.05, retry_s=0.05)
    assert a.wait()
    waiting = threading.Thread(target=b.wait)
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not b.leader  # b stands by while a leads
    a.resign()
    waiting.join(5)
    assert not waiting.is_alive() and b.leader
    roles = dict(session.execute(select(SchedulerHeartbeat.holder, SchedulerHeartbeat.role)).all())
    assert roles == {"host:1:aa": "standby", "host:2:bb": "leader"}
    b.resign()
