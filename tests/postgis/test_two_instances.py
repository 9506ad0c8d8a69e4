"""Two gunicorn instances (think: two hosts) against one PostgreSQL: a browser session signed by one is
honoured by the other, a report taken by one is on the other's case page and in its metrics at once,
and both build their locator from the database. Also: gunicorn's request-line and header limits."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from coordinator.auth.models import User, WebSession
from coordinator.db import session_scope
from tests.factories import PASSWORD, make_user
from tests.postgis.conftest import gunicorn


def cases_routed(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "jiaojie_cases" and sample.labels == {"state": "routed"}:
                return sample.value
    return 0.0


def raw_status(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        return sock.recv(4096)


def test_two_instances_share_sessions_cases_and_metrics(
    database_url: str, reporter: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    with session_scope(committed) as session:
        dispatcher = make_user(session, "admin", username="a_pg_" + uuid.uuid4().hex[:10])
        username, admin_id = dispatcher.username, dispatcher.id
    try:
        serve_two(database_url, reporter, tmp_path, username)
    finally:
        with session_scope(committed) as session:  # later tests count users
            session.execute(delete(WebSession).where(WebSession.user_id == admin_id))
            session.execute(delete(User).where(User.id == admin_id))


def serve_two(database_url: str, reporter: str, tmp_path: Path, username: str) -> None:
    with (
        gunicorn(database_url, tmp_path, workers=1, name="a") as (a, _),
        gunicorn(database_url, tmp_path, workers=1, name="b") as (b, _),
    ):
        browser = requests.Session()
        login = browser.post(
            a + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
        )
        assert login.status_code == 200, login.text
        me_on_b = browser.get(b + "/api/v1/me", timeout=30)  # the cookie from A, presented to B
        assert me_on_b.status_code == 200 and me_on_b.json()["username"] == username

        before = cases_routed(b)
        body = {"category": "05-51", "lon": 121.4712, "lat": 30.9031, "description": "两台实例"}
        posted = requests.post(
            a + "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {reporter}"}, timeout=30
        )
        assert posted.status_code == 201, posted.text
        case_id = posted.json()["case_id"]
        on_b = browser.get(f"{b}/api/v1/cases/{case_id}", timeout=30)  # the session from A
        assert on_b.status_code == 200 and on_b.json()["number"] == posted.json()["case_number"]
        assert cases_routed(b) >= before + 1
        for base in (a, b):
            located = requests.get(base + "/api/v1/geolocate?lon=121.2&lat=30.9", timeout=30).json()
            assert located["district"] is not None

        # gunicorn's limits (gunicorn.conf.py): answered by gunicorn itself, before the app.
        long_line = raw_status(a, b"GET /livez?" + b"x" * 5000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        assert long_line.startswith(b"HTTP/1.1 414") and b"Request Line is too large" in long_line
        big_header = raw_status(a, b"GET /livez HTTP/1.1\r\nHost: a\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n")
        many = b"".join(b"X-H%d: 1\r\n" % i for i in range(120))
        too_many = raw_status(a, b"GET /livez HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n")
        assert big_header.startswith(b"HTTP/1.1 431") and too_many.startswith(b"HTTP/1.1 431")
        assert requests.get(a + "/livez", timeout=30).status_code == 200  # and the server is fine
