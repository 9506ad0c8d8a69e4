"""Shared helpers of the web app's tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.squads.services import get_squad
from tests.factories import PASSWORD, bearer, make_token, make_user

DEMO_SQUAD = "SQ-310120118"  # 柘林中队 (奉贤), across the border from 金山's 漕泾
ZHELIN = (121.435, 30.818)  # a point in 柘林 ~150 m from 金山: routed to the demo squad, a border case


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Log in by the session API (as the login page does); the CSRF token."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return csrf


def leader(session: Session, role: str = "squad_leader", code: str = DEMO_SQUAD) -> User:
    """A user of the demo squad."""
    return make_user(session, role, squad=get_squad(session, code))


def report(client: FlaskClient, session: Session, description: str, **extra: Any) -> dict[str, Any]:
    """Submit a report through the API as a reporter; the intake answer (case id and number)."""
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    body = {"category": "01-11", "description": description, "lon": ZHELIN[0], "lat": ZHELIN[1], **extra}
    response = client.post("/api/v1/reports", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def resolved_citizen_case(
    client: FlaskClient, session: Session, phone: str = "13700002222"
) -> tuple[str, Any]:
    """A citizen's anonymous report (the citizen API, with SMS consent) whose case the lead squad resolved
    and the district's dispatcher verified (the phone earned its points): the status token, the case."""
    from sqlalchemy import select

    from coordinator.cases.models import Case
    from tests.community.conftest import LAT, LON, People

    body = {
        "category": "01-11",
        "description": "桥下有人倾倒建筑垃圾",
        "lon": LON,
        "lat": LAT,
        "reporter": {"phone": phone},
        "notify": {"channel": "sms", "consent": True},
    }
    answer = client.post("/api/v1/citizen/reports", json=body).get_json()
    token = str(answer["status_url"].rsplit("/", 1)[-1])
    case = session.scalars(select(Case).where(Case.number == answer["case_number"])).one()
    people = People(session, client)
    people.add("admin", "admin")
    people.lead_squad_people(case.id)
    people.resolve(case.id, note="已清运，现场恢复整洁")
    verified = people.act("dispatcher", case.id, "verify")
    assert verified.status_code == 200, verified.get_json()
    session.refresh(case)
    return token, case
