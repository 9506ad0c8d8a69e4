"""A citizen without an account: the secret status link rates and disputes the resolution, and shows
the points the report's phone earned; a second report of the same case by the same phone earns nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.intake import ReportInput
from coordinator.cases.models import Case, CaseEvent
from coordinator.citizen import services as citizen
from coordinator.community.models import RewardEntry
from coordinator.geolocation.views import current_locator
from coordinator.worktime.services import load_calendar
from tests.community.conftest import LAT, LON, People

PHONE = "13700001111"


def citizen_report(app: Flask, session: Session, phone: str = PHONE) -> citizen.CitizenReceipt:
    data = ReportInput(
        category="01-11", lon=LON, lat=LAT, description="桥下建筑垃圾", source="citizen", reporter_phone=phone
    )
    with app.test_request_context():
        locator = current_locator()
    receipt = citizen.submit_citizen_report(session, locator, data, [], calendar=load_calendar(session))
    session.commit()
    return receipt


def test_status_link_rates_disputes_and_shows_points(app: Flask, people: People, session: Session) -> None:
    first = citizen_report(app, session)
    again = citizen_report(app, session)  # the same phone reports the same pile again
    case = session.scalars(select(Case).where(Case.number == first.case_number)).one()
    assert again.case_number == first.case_number
    people.lead_squad_people(case.id)

    early = people.client.post(f"/api/v1/status/{first.token}/rating", json={"stars": 4})
    assert early.status_code == 409
    people.resolve(case.id)
    assert people.act("dispatcher", case.id, "verify").status_code == 200

    points = people.client.get(f"/api/v1/status/{first.token}/rewards").get_json()
    assert points["balance"] == 10 and [h["kind"] for h in points["history"]] == ["earned"]
    assert (
        people.client.get(f"/api/v1/status/{again.token}/rewards").get_json()["balance"] == 10
    )  # same phone
    assert len(list(session.scalars(select(RewardEntry).where(RewardEntry.case_id == case.id)))) == 1

    rated = people.client.post(f"/api/v1/status/{first.token}/rating", json={"stars": 4, "comment": "及时"})
    assert rated.status_code == 201 and rated.get_json()["stars"] == 4
    disputed = people.client.post(f"/api/v1/status/{again.token}/dispute", json={"reason": "还有一堆没清"})
    assert disputed.status_code == 201, disputed.get_json()
    assert disputed.get_json()["status"] == "resolved"
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert event is not None and event.kind == "disputed" and event.actor == f"status-link:{again.report_id}"

    assert (
        people.client.post("/api/v1/status/not-a-real-token-at-all/rating", json={"stars": 1}).status_code
        == 404
    )
