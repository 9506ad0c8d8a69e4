"""Fixtures for the community tests: a citizen's report routed to a real demo squad, and the people
who work it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.auth.models import User
from coordinator.squads.models import Squad
from tests.factories import bearer, make_token, make_user

# A point in 奉贤 (310120) away from the member borders: one lead squad, no partner.
LON, LAT = 121.47, 30.85
PHOTO = "https://img.example.cn/after-1.jpg"


@dataclass
class People:
    """Users with their tokens, by name."""

    session: Session
    client: FlaskClient
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, role: str, **kwargs: Any) -> User:
        user = make_user(self.session, role, **kwargs)
        self.users[name] = user
        self.tokens[name] = make_token(self.session, user)
        self.session.commit()
        return user

    def call(self, who: str, method: str, url: str, body: dict[str, Any] | None = None) -> TestResponse:
        kwargs: dict[str, Any] = {"headers": bearer(self.tokens[who])}
        if body is not None or method != "GET":
            kwargs["json"] = body if body is not None else {}
        return self.client.open(url, method=method, **kwargs)

    def report(self, who: str, **fields: Any) -> TestResponse:
        body = {
            "category": "01-11",
            "lon": LON,
            "lat": LAT,
            "description": "河边建筑垃圾",
            "source": "citizen",
            **fields,
        }
        return self.call(who, "POST", "/api/v1/reports", body)

    def lead_squad_people(self, case_id: int) -> None:
        """A member of the case's lead squad (`member`) and the district's dispatcher (`dispatcher`)."""
        detail = self.call("admin", "GET", f"/api/v1/cases/{case_id}").get_json()
        code = detail["routing"]["lead"]["code"]
        squad = self.session.scalars(select(Squad).where(Squad.code == code)).one()
        self.add("member", "squad_member", squad=squad)
        self.add("dispatcher", "dispatcher", district=squad.district_code)

    def act(self, who: str, case_id: int, action: str, body: dict[str, Any] | None = None) -> TestResponse:
        return self.call(who, "POST", f"/api/v1/cases/{case_id}/{action}", body or {})

    def resolve(self, case_id: int, note: str = "已清运，现场恢复") -> None:
        for action, body in (("claim", {}), ("start", {}), ("resolve", {"note": note, "photos": [PHOTO]})):
            response = self.act("member", case_id, action, body)
            assert response.status_code == 200, response.get_json()


@pytest.fixture
def people(session: Session, client: FlaskClient) -> People:
    """An admin and a citizen (reporter account) to start with."""
    cast = People(session, client)
    cast.add("admin", "admin")
    cast.add("citizen", "reporter")
    return cast
