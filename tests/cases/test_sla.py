"""The SLA sweep with a controlled clock, and what the inbox shows afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases import workflow
from coordinator.cases.models import CaseEvent
from coordinator.cases.sla import sweep
from coordinator.db import utcnow
from coordinator.notifications.models import OutboxMessage
from tests.factories import bearer, make_case, make_squad, make_token, make_user

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def kinds(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    )


def test_unclaimed_case_escalates_after_its_deadline_once(session: Session) -> None:
    lead = make_squad(session, district="310116")
    case = make_case(session, lead=lead, district="310116", now=T0, claim_by=T0 + timedelta(hours=2))
    assert case.id not in sweep(session, now=T0 + timedelta(hours=1, minutes=59)).escalated
    assert case.escalated_at is None
    result = sweep(session, now=T0 + timedelta(hours=2))
    assert case.id in result.escalated
    session.refresh(case)
    assert case.escalated_at == T0 + timedelta(hours=2)
    assert case.escalated_to_unit_id is not None
    assert case.id not in sweep(session, now=T0 + timedelta(hours=5)).escalated  # idempotent
    assert kinds(session, case.id) == ["escalated"]
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert event.payload["trigger"] == "claim_deadline" and event.actor == "system"
    assert session.scalars(select(OutboxMessage.kind).where(OutboxMessage.case_id == case.id)).all() == [
        "escalated"
    ]


def test_claimed_case_does_not_escalate_but_goes_overdue(session: Session) -> None:
    lead = make_squad(session)
    case = make_case(
        session, lead=lead, now=T0, claim_by=T0 + timedelta(hours=2), resolve_by=T0 + timedelta(days=1)
    )
    workflow.claim(
        session, case.id, make_user(session, "squad_member", squad=lead), now=T0 + timedelta(hours=1)
    )
    result = sweep(session, now=T0 + timedelta(days=2))
    assert case.id not in result.escalated
    assert case.id in result.overdue
    session.refresh(case)
    assert case.overdue_at == T0 + timedelta(days=2)
    assert kinds(session, case.id) == ["claimed", "escalated"]


def test_inbox_shows_escalated_cases_to_the_district_dispatcher(
    client: FlaskClient, session: Session
) -> None:
    # The inbox judges "overdue" by the wall clock, so this case's deadline is in the real past.
    start = utcnow() - timedelta(hours=3)
    lead = make_squad(session, district="310117")
    case = make_case(session, lead=lead, district="310117", now=start, claim_by=start + timedelta(hours=1))
    dispatcher = make_user(session, "dispatcher", district="310117")
    token = make_token(session, dispatcher)
    sweep(session, now=utcnow())
    session.commit()
    cases = client.get("/api/v1/inbox", headers=bearer(token)).get_json()["cases"]
    shown = next(c for c in cases if c["id"] == case.id)
    assert shown["escalated"] is True
    assert shown["escalated_to"]["code"]
    assert shown["escalated_at"].endswith("+08:00")
    assert shown["overdue"] is True
    assert shown["allowed_actions"] == ["void", "transfer"]
    assert cases.index(shown) == 0 or cases[0]["escalated"]  # escalated and claimable come first


def test_a_desk_owned_case_reads_with_its_queue_escalation_and_overdue_times(
    client: FlaskClient, session: Session
) -> None:
    case = make_case(
        session, lead=None, district="310116", now=T0, claim_by=T0 + timedelta(hours=2), resolve_by=T0
    )
    assert case.queue_unit_id is not None
    sweep(session, now=T0 + timedelta(hours=3))
    token = make_token(session, make_user(session, "admin"))
    session.commit()
    detail = client.get(f"/api/v1/cases/{case.id}", headers=bearer(token)).get_json()
    listed = client.get("/api/v1/cases?district=310116&per_page=500", headers=bearer(token)).get_json()
    summary = next(c for c in listed["cases"] if c["id"] == case.id)
    for shown in (detail, summary):
        assert shown["lead_squad"] is None and shown["queue"]["code"].startswith("DU-")
        assert shown["escalated_to"]["code"] and shown["escalated"] is True
        assert shown["escalated_at"] == shown["overdue_at"] == "2026-12-01T12:00:00+08:00"
