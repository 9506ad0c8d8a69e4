"""Fixtures for Open311 tests: a reporter's api_key, a point in a border zone, a form-encoded POST."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.cases.conftest import zone_point
from tests.factories import make_token, make_user
from tests.open311.test_georeport import BASE, FENGXIAN, JINSHAN, Post


@pytest.fixture
def api_key(session: Session) -> str:
    """A reporter's API token, used as Open311 api_key."""
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    return token


@pytest.fixture
def point(session: Session) -> tuple[float, float]:
    """A point in Fengxian inside the Jinshan–Fengxian border zone."""
    return zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)


@pytest.fixture
def post(client: FlaskClient, api_key: str, point: tuple[float, float]) -> Post:
    """POST requests.json form-encoded; keyword arguments override (None drops a field)."""

    def _post(**fields: Any) -> TestResponse:
        form = {
            "api_key": api_key,
            "service_code": "01-11",
            "lat": f"{point[1]:.6f}",
            "long": f"{point[0]:.6f}",
            "description": "沟渠边有人倾倒建筑垃圾",
            **fields,
        }
        return client.post(f"{BASE}/requests.json", data={k: v for k, v in form.items() if v is not None})

    return _post
