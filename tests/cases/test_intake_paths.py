"""Intake's write paths: what a report stores is exactly what intake planned, on each backend; and on
PostgreSQL the one-call path (the `intake_report` function, coordinator.cases.intake_pg) stores the
same rows as the per-table Core path that SQLite uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases import services
from coordinator.cases.models import Case, CaseEvent, CasePartner, Report
from coordinator.geolocation.services import LocatorCache
from coordinator.notifications.models import OutboxMessage
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator
from tests.cases.conftest import offset, zone_point
from tests.factories import make_user

FENGXIAN, JINSHAN = "310120", "310116"
T0 = datetime(2026, 11, 24, 10, 15, tzinfo=SHANGHAI)


def rows(session: Session, model: type[Any], where: Any, *, skip: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows as plain dicts (without `skip` columns; geometries as WKT), in id order."""
    table: Table = model.__table__
    columns = [c for c in table.c if c.name not in skip and c.name != "geom"]
    stmt = select(*columns).where(where).order_by(table.c.id)
    if "geom" in table.c and "geom" not in skip:
        stmt = stmt.add_columns(func.ST_AsText(table.c.geom).label("geom_wkt"))
    return [dict(r._mapping) for r in session.execute(stmt)]


def snapshot(session: Session, case_id: int) -> dict[str, Any]:
    """Everything one border case's intake wrote, with ids replaced by their order."""
    report_ids = session.scalars(select(Report.id).where(Report.case_id == case_id).order_by(Report.id)).all()
    events = rows(session, CaseEvent, CaseEvent.case_id == case_id, skip=("id", "case_id"))
    for event in events:
        if "report_id" in event["payload"]:
            event["payload"]["report_id"] = report_ids.index(event["payload"]["report_id"])
    number = session.scalars(select(Case.number).where(Case.id == case_id)).one()
    outbox = rows(session, OutboxMessage, OutboxMessage.case_id == case_id, skip=("id", "case_id"))
    for message in outbox:
        assert message["payload"].pop("case_number") == number
    return {
        "case": rows(session, Case, Case.id == case_id, skip=("id", "number")),
        "partners": rows(session, CasePartner, CasePartner.case_id == case_id, skip=("id", "case_id")),
        "reports": rows(session, Report, Report.case_id == case_id, skip=("id", "case_id")),
        "events": events,
        "outbox": outbox,
    }


def intake_twice(session: Session, locator: Locator, user: User) -> tuple[int, dict[str, Any]]:
    """A border report with a retry key, then a duplicate 50 m away an hour later (merged)."""
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    calendar = WorkCalendar()
    first = services.submit_report(
        session,
        locator,
        services.ReportInput("01-10", lon, lat, description="渠边倾倒", idempotency_key="k-1"),
        submitter=user,
        calendar=calendar,
        now=T0,
    )
    near = offset(lon, lat, 30, 40)
    second = services.submit_report(
        session,
        locator,
        services.ReportInput("01-10", *near, crs="wgs84", source="citizen", photos=["https://x.test/1.jpg"]),
        submitter=None,
        calendar=calendar,
        now=T0.replace(hour=11),
    )
    assert not first.merged and second.merged and second.case_facts.id == first.case_facts.id
    return first.case_facts.id, snapshot(session, first.case_facts.id)


def test_a_report_stores_exactly_what_intake_planned(session: Session, locator_cache: LocatorCache) -> None:
    locator = locator_cache.get(lambda: session)  # before any row is added: a rebuild ends the session
    user = make_user(session, "reporter")
    case_id, stored = intake_twice(session, locator, user)
    case = stored["case"][0]
    assert case["status"] == "routed" and case["report_count"] == 2 and case["in_border_zone"] is True
    assert case["created_at"] == T0 and case["last_report_at"] == T0.replace(hour=11)
    assert case["resolution_photos"] == [] and case["routing"]["rule"] == "member-border-zone"
    assert case["geom_wkt"].startswith("POINT(121.") and case["district_code"] == FENGXIAN
    assert [p["reason"].startswith("对侧最近中队") for p in stored["partners"]] == [True]
    first, second = stored["reports"]
    assert (first["merged"], second["merged"]) == (False, True)
    assert first["idempotency_key"] == "k-1" and first["description"] == "渠边倾倒"
    assert second["photos"] == ["https://x.test/1.jpg"] and second["submitted_by_id"] is None
    assert first["received_at"] == T0 and first["observed_at"] == T0
    kinds = [(e["kind"], e["from_status"], e["to_status"], e["actor"]) for e in stored["events"]]
    assert kinds[0] == ("reported", None, "reported", user.username)
    assert stored["events"][0]["actor_id"] == user.id
    assert kinds[1:] == [
        ("routed", "reported", "routed", "system"),
        ("report_merged", None, "routed", "system"),
    ]
    assert stored["events"][0]["payload"] == {"report_id": 0, "distance_m": None}
    assert stored["events"][2]["payload"]["report_id"] == 1
    assert 45 <= stored["events"][2]["payload"]["distance_m"] <= 55
    assert [m["kind"] for m in stored["outbox"]] == ["routed"]
    assert stored["outbox"][0]["payload"]["details"] == stored["events"][1]["payload"]
    assert stored["outbox"][0]["payload"]["district"] == FENGXIAN
    assert session.get(Case, case_id) is not None


def test_postgresql_one_call_writes_equal_the_per_table_writes(
    session: Session, locator_cache: LocatorCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = session.get_bind().dialect.name
    locator = locator_cache.get(lambda: session)
    user = make_user(session, "reporter")
    savepoint = session.begin_nested()
    _, default_path = intake_twice(session, locator, user)
    savepoint.rollback()
    monkeypatch.setattr(services, "SINGLE_STATEMENT_WRITES", False)
    _, per_table = intake_twice(session, locator, user)
    # On SQLite both runs take the per-table path; on PostgreSQL the first one took intake_pg.
    for key in ("case", "partners", "reports", "events", "outbox"):
        assert default_path[key] == per_table[key], (backend, key)


def test_a_naive_timestamp_is_refused_on_every_write_path(
    session: Session, locator_cache: LocatorCache
) -> None:
    locator = locator_cache.get(lambda: session)
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    naive = services.ReportInput("01-10", lon, lat, observed_at=datetime(2026, 11, 24, 9, 0))  # noqa: DTZ001
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        services.submit_report(session, locator, naive, submitter=None, calendar=WorkCalendar(), now=T0)
