"""Issue 17 item 10: passwords and tokens never appear in logs. A run of logins, token requests and an
Open311 post with its api_key in the query string is logged by the app (everything at DEBUG) and by
gunicorn's access log as `make run` configures it; the logs are then grepped for every secret used."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from gunicorn.config import Config
from sqlalchemy.orm import Session

from config.gunicorn_logging import RedactingLogger
from config.logging import RedactingFilter, redact
from tests.cases.conftest import zone_point
from tests.factories import PASSWORD, bearer, make_token, make_user


def test_redact_hides_tokens_passwords_and_status_links() -> None:
    line = (
        'POST /open311/v2/requests.json?api_key=jj_abcdefghijklmnop&x=1 HTTP/1.1 "Bearer jj_qrstuvwxyz12" '
        '{"username": "a", "password": "hunter2hunter2"} GET /s/AbCdEf123 /api/v1/status/XyZ987?token=feed42'
    )
    cleaned = redact(line)
    for secret in (
        "jj_abcdefghijklmnop",
        "jj_qrstuvwxyz12",
        "hunter2hunter2",
        "AbCdEf123",
        "XyZ987",
        "feed42",
    ):
        assert secret not in cleaned
    assert "x=1" in cleaned and "/open311/v2/requests.json" in cleaned


def test_no_secret_reaches_the_logs_of_a_run(
    app: Flask, client: FlaskClient, session: Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user(session, "reporter")
    token = make_token(session, user)
    session.commit()
    lon, lat = zone_point(session, ("310116", "310120"), "310120")
    environs: list[tuple[dict[str, Any], int]] = []

    @app.after_request
    def _keep(response: Any) -> Any:
        environs.append((dict(request.environ), response.status_code))
        return response

    caplog.set_level(logging.DEBUG)
    wrong = "wrong-password-123"
    client.post("/api/v1/auth/login", json={"username": user.username, "password": wrong})
    client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    client.get("/api/v1/me", headers=bearer(token))
    client.get("/api/v1/me", headers=bearer(token[:-3] + "xyz"))  # a forged token: 401
    client.post(
        f"/open311/v2/requests.json?api_key={token}",
        data={"service_code": "01-11", "lat": f"{lat:.6f}", "long": f"{lon:.6f}"},
    )
    client.get(f"/api/v1/meetings/feed.ics?token={token}")

    access_log = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(access_log))
    cfg.set("access_log_format", cfg.access_log_format + ' "%({authorization}i)s"')
    gunicorn_log = RedactingLogger(cfg)
    for environ, status in environs:
        environ.setdefault("RAW_URI", environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
        headers = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
        response = SimpleNamespace(status=f"{status} X", headers=[], sent=0)
        gunicorn_log.access(response, SimpleNamespace(headers=headers), environ, timedelta(milliseconds=3))
    for handler in gunicorn_log.access_log.handlers:
        handler.flush()
    written = access_log.read_text(encoding="utf-8")
    assert "/open311/v2/requests.json" in written and len(written.splitlines()) == len(environs)

    app_logs = "\n".join(RedactingFilter().filter(r) and r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, wrong, token, token[:-3] + "xyz"):
        assert secret not in written, "access log"
        assert secret not in app_logs, "app log"
        assert secret not in caplog.text, "app log as captured"
