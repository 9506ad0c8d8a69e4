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
