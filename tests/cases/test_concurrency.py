"""Retries at once, over real concurrent connections (not the test's rolled-back transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from coordinator import create_app
from coordinator.auth.models import ApiToken, User
from coordinator.cases import services
from coordinator.cases.models import Case, Report
from coordinator.cases.workflow import purge_cases
from coordinator.db import session_scope
from coordinator.geolocation.services import LocatorCache
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
        with session_scope(factory) as session:
            case_ids = select(Report.case_id).where(Report.submitted_by_id == user_id).scalar_subquery()
            ids = list(session.scalars(select(Case.id).where(Case.id.in_(case_ids))))
            # The trail is append-only (database triggers); purge_cases is the one sanctioned delete.
            purge_cases(session, ids, reason="test cleanup")
            session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
            session.execute(delete(User).where(User.id == user_id))


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
    """On PostgreSQL the request runs in autocommit mode around one intake call: that call must be
    atomic by itself. Elsewhere the request's transaction rolls back."""
    app, token = live_app
    original = services.plan_case

    def plan_a_missing_partner(*args: Any, **kwargs: Any) -> services.CasePlan:
        plan = original(*args, **kwargs)
        # The case row goes in first; this partner row then breaks a foreign key.
        ghost = {"squad_id": 2_000_000_000, "reason": "no such squad", "added_at": plan.row["created_at"]}
        return replace(plan, partners=[*plan.partners, ghost])

    monkeypatch.setattr(services, "plan_case", plan_a_missing_partner)
    key = "midway-" + token[-8:]
    body = {"category": "05-51", "lon": 121.1502, "lat": 30.8212, "description": key}
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
