"""Retries at once, over real concurrent connections (not the test's rolled-back transaction)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from secrets import token_hex
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from coordinator import create_app
from coordinator.auth.models import ApiToken, User
from coordinator.cases import intake
from coordinator.cases.models import Case, Report
from coordinator.cases.retention import purge_cases
from coordinator.db import session_scope, utcnow
from coordinator.geolocation.services import LocatorCache
from coordinator.ratelimit import RateLimitCounter
from tests.contracts import undocumented_status
from tests.factories import bearer, make_token, make_user, unique


@pytest.fixture
def live_app(database_url: str, engine: Engine, locator_cache: LocatorCache) -> Iterator[tuple[Flask, str]]:
    """An app on the real database (every request its own connection and commit), a reporter's token,
    and a cleanup that removes what the test committed."""
    factory = sessionmaker(engine)
    with session_scope(factory) as session:
        user = make_user(session, "reporter", username=unique("u_live_"))
        token = make_token(session, user)
        user_id = user.id
    app = create_app({"database_url": database_url, "testing": True, "secret_key": "test"})
    app.extensions["coordinator.locator_cache"] = locator_cache
    try:
        yield app, token
    finally:
        app.extensions["coordinator.engine"].dispose()
        app.extensions["coordinator.counter_engine"].dispose()
        with session_scope(factory) as session:
            case_ids = select(Report.case_id).where(Report.submitted_by_id == user_id).scalar_subquery()
            ids = list(session.scalars(select(Case.id).where(Case.id.in_(case_ids))))
            # The trail is append-only (database triggers); purge_cases is the one sanctioned delete.
            purge_cases(session, ids, reason="test cleanup")
            session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
            session.execute(delete(User).where(User.id == user_id))
            # The live app's rate-limit counts were committed; on SQLite the next test's token may get
            # this one's id (and so its count).
            session.execute(delete(RateLimitCounter))


def test_twenty_simultaneous_retries_create_one_report(live_app: tuple[Flask, str], engine: Engine) -> None:
    app, token = live_app
    body = {"category": "05-51", "lon": 121.4712, "lat": 30.9031, "description": "同时重试"}
    headers = {**bearer(token), "Idempotency-Key": "burst-" + token[-8:]}

    def send(_: int) -> tuple[int, int]:
        response = app.test_client().post("/api/v1/reports", json=body, headers=headers)
        return response.status_code, response.get_json().get("report_id", -1)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))
    assert {status for status, _ in results} == {201}, results
    assert len({report_id for _, report_id in results}) == 1
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).where(Report.idempotency_key == headers["Idempotency-Key"])
        )
        assert count == 1


def test_simultaneous_reports_of_one_spot_share_one_case(live_app: tuple[Flask, str]) -> None:
    app, token = live_app

    def send(i: int) -> int:
        body = {"category": "05-52", "lon": 121.4712 + i * 1e-5, "lat": 30.9031, "description": f"群租 {i}"}
        response = app.test_client().post("/api/v1/reports", json=body, headers=bearer(token))
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["case_id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        case_ids = set(pool.map(send, range(8)))
    assert len(case_ids) == 1  # dedup is serialised: concurrent reports cannot open two cases


def test_a_report_failing_midway_through_its_writes_leaves_nothing(
    live_app: tuple[Flask, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case row is written, then a partner row breaks a foreign key: the request's one transaction
    rolls back, and a retry with the same key is not mistaken for a replay."""
    app, token = live_app
    original = intake.plan_case

    def plan_a_missing_partner(*args: Any, **kwargs: Any) -> intake.CasePlan:
        plan = original(*args, **kwargs)
        # The case row goes in first; this partner row then breaks a foreign key.
        ghost = {"squad_id": 2_000_000_000, "reason": "no such squad", "added_at": plan.row["created_at"]}
        return replace(plan, partners=[*plan.partners, ghost])

    monkeypatch.setattr(intake, "plan_case", plan_a_missing_partner)
    key = "midway-" + token[-8:]
    body = {"category": "05-51", "lon": 121.1502, "lat": 30.8212, "description": key}
    with undocumented_status(500, "the failure is injected: no operation documents internal errors"):
        response = app.test_client().post(
            "/api/v1/reports", json=body, headers={**bearer(token), "Idempotency-Key": key}
        )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).where(Report.description == key)) == 0
        near = (
            (Case.category_code == "05-51")
            & Case.lon.between(121.15, 121.1504)
            & Case.lat.between(30.821, 30.8214)
        )
        assert session.scalar(select(func.count()).select_from(Case).where(near)) == 0
    monkeypatch.undo()
    retried = app.test_client().post(
        "/api/v1/reports", json=body, headers={**bearer(token), "Idempotency-Key": key}
    )
    assert retried.status_code == 201 and retried.headers.get("Idempotent-Replayed") is None


@contextmanager
def commit_elsewhere_before(
    app: Flask, engine: Engine, token: str, statement: str
) -> Iterator[list[threading.Thread]]:
    """While active: just before the app's first statement starting with `statement`, another connection
    commits a write (it stamps `token`). It waits up to 0.5 s for that commit, which is done at once
    unless the request already holds SQLite's write lock. The yielded list is non-empty if it fired."""
    fired: list[threading.Thread] = []

    def commit() -> None:
        with engine.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.prefix == token[:10]).values(last_used_at=utcnow()))

    def before(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.startswith(statement) and not fired:
            fired.append(threading.Thread(target=commit))
            fired[0].start()
            fired[0].join(timeout=0.5)

    app_engine = app.extensions["coordinator.engine"]
    event.listen(app_engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(app_engine, "before_cursor_execute", before)
        for thread in fired:
            thread.join(timeout=15)


def test_opening_a_case_while_another_request_commits_still_answers(
    live_app: tuple[Flask, str], engine: Engine
) -> None:
    """Reading a case with contact data writes an audit row. Another connection commits just before
    that write (forced here); on SQLite a transaction that began as a reader then fails to take the
    write lock ("database is locked", at once), so the detail view takes it up front."""
    app, token = live_app
    body = {"category": "01-01", "lon": 121.4712, "lat": 30.9031, "reporter": {"phone": "13812341234"}}
    posted = app.test_client().post("/api/v1/reports", json=body, headers=bearer(token))
    assert posted.status_code == 201, (posted.status_code, posted.get_json())
    case_id = posted.get_json()["case_id"]
    with session_scope(sessionmaker(engine)) as session:
        # Committed, and kept: its audit rows are append-only. A random name survives re-runs on one database.
        admin_token = make_token(
            session, make_user(session, "admin", username=f"u_live_admin_{token_hex(4)}")
        )
        # Used a moment ago: the token check will not stamp it (a write that would take the lock early).
        session.execute(
            update(ApiToken).where(ApiToken.prefix == admin_token[:10]).values(last_used_at=utcnow())
        )
    with commit_elsewhere_before(app, engine, token, "INSERT INTO contact_access_log") as fired:
        response = app.test_client().get(f"/api/v1/cases/{case_id}", headers=bearer(admin_token))
    assert fired, "the detail read wrote no audit row"
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reports"][0]["reporter"]["phone"] == "13812341234"


def test_a_token_stamp_that_loses_a_race_does_not_fail_the_request(
    live_app: tuple[Flask, str], engine: Engine
) -> None:
    """The token check stamps `last_used_at` every few minutes: a write inside a read. When another
    connection commits between the token's read and that write (forced here), SQLite refuses the write
    at once; the stamp yields and the request answers."""
    app, token = live_app
    with session_scope(sessionmaker(engine)) as session:
        committee_name = f"u_live_committee_{token_hex(4)}"
        committee_token = make_token(session, make_user(session, "committee", username=committee_name))
        # (never used yet: the token check will stamp it)
    with commit_elsewhere_before(app, engine, token, "UPDATE api_token SET last_used_at") as fired:
        response = app.test_client().get("/api/v1/cases?per_page=1", headers=bearer(committee_token))
    with session_scope(sessionmaker(engine)) as session:
        session.execute(delete(ApiToken).where(ApiToken.prefix == committee_token[:10]))
        session.execute(delete(User).where(User.username == committee_name))
    assert fired, "the token check did not stamp"
    assert response.status_code == 200, response.get_json()
