"""Input the database could not take is a 4xx at the edge, in each API's error shape, on both backends.

U+0000 (NUL) is the case in point: PostgreSQL's text type cannot hold it, so before these checks a NUL in
a description, a filter or a path segment reached psycopg and answered 500 (found by schemathesis).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Report
from coordinator.validation import NUL_MESSAGE, nul_fields
from tests.factories import bearer, make_token, make_user
from tests.open311.test_georeport import BASE, assert_open311_error


def test_nul_fields_names_every_place_that_holds_one() -> None:
    data = {"a": "ok", "b\x00": "key", "c": ["x", "y\x00"], "d": {"e": "\x00"}, "n": 1, "z": None}
    assert nul_fields(data) == ["b\x00", "c.1", "d.e"]
    assert nul_fields("plain") == [] and nul_fields("\x00") == ["(input)"]


def test_a_nul_in_a_report_is_422_and_stores_nothing(client: FlaskClient, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Report))
    body = {
        "category": "01-11",
        "lon": 121.45,
        "lat": 30.92,
        "description": "倾倒\x00垃圾",
        "reporter": {"name": "\x00"},
    }
    token = make_token(session, make_user(session, "reporter"))
    response = client.post("/api/v1/reports", json=body, headers=bearer(token))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert [(d["field"], d["message"]) for d in error["details"]] == [
        ("description", NUL_MESSAGE),
        ("reporter.name", NUL_MESSAGE),
    ]
    assert session.scalar(select(func.count()).select_from(Report)) == before


def test_a_nul_in_a_query_or_a_path_segment_is_4xx(client: FlaskClient, session: Session) -> None:
    token = make_token(session, make_user(session, "admin"))
    listed = client.get("/api/v1/cases", query_string={"squad": "SQ\x00"}, headers=bearer(token))
    assert listed.status_code == 422 and listed.get_json()["error"]["details"][0]["field"] == "squad"
    for path in ("/api/v1/squads/SQ%00", "/api/v1/boundaries/310120%00"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", path
    login = client.post("/api/v1/auth/login", json={"username": "demo\x00", "password": "x" * 12})
    assert login.status_code == 422


def test_open311_answers_a_nul_with_its_own_400_and_404(client: FlaskClient, session: Session) -> None:
    form = {
        "api_key": make_token(session, make_user(session, "reporter")),
        "service_code": "01-11",
        "lat": "30.92",
        "long": "121.45",
        "description": "倾倒\x00垃圾",
    }
    assert_open311_error(client.post(f"{BASE}/requests.json", data=form), 400, NUL_MESSAGE)
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string={"service_code": "01\x00"}), 400)
    assert_open311_error(client.get(f"{BASE}/services/01-11%00.json"), 404)


def test_datetimes_outside_the_input_range_are_4xx(client: FlaskClient, session: Session) -> None:
    # Year 1 with a +08:00 offset is year 0 in UTC, and 9999-12-30 + 90 days is past year 9999:
    # Python could not even represent them, a 500 before the range check.
    admin = bearer(make_token(session, make_user(session, "admin")))
    for params in (
        {"created_to": "0001-01-01T00:00:00+08:00"},
        {"created_from": "9999-12-31T23:00:00-08:00"},
    ):
        response = client.get("/api/v1/cases", query_string=params, headers=admin)
        assert response.status_code == 422, params
        assert "between 1970-01-01 and 9000-01-01" in response.get_json()["error"]["details"][0]["message"]
    for params in ({"start_date": "9999-12-30T00:00:00Z"}, {"end_date": "0001-01-11T00:00:00"}):
        assert_open311_error(client.get(f"{BASE}/requests.json", query_string=params), 400, "1970-01-01")

    reporter = bearer(make_token(session, make_user(session, "reporter")))
    body = {"category": "01-11", "lon": 121.45, "lat": 30.92}
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    for observed_at, says in (("0001-01-01T00:00:00+08:00", "1970-01-01"), (future, "in the future")):
        response = client.post("/api/v1/reports", json={**body, "observed_at": observed_at}, headers=reporter)
        assert response.status_code == 422, observed_at
        assert says in response.get_json()["error"]["details"][0]["message"]
    recent = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()  # a clock a little ahead is fine
    assert (
        client.post("/api/v1/reports", json={**body, "observed_at": recent}, headers=reporter).status_code
        == 201
    )
