"""The edge's defences (coordinator.security): rate limits on report intake, Open311 POST and batch
geolocation; the request-size limit (413 before the body is read); security headers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.auth.models import LoginFailure
from coordinator.settings import SETTINGS_KEY, get_settings
from tests.cases.conftest import zone_point
from tests.factories import bearer, make_token, make_user

FENGXIAN, JINSHAN = "310120", "310116"


def configure(app: Flask, **overrides: Any) -> None:
    """Change the running app's settings for this test."""
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides(overrides)


def report_body(session: Session, **fields: Any) -> dict[str, Any]:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    return {"category": "01-11", "description": "沟渠边建筑垃圾", "lon": lon, "lat": lat, **fields}


# -- item 2: rate limits -------------------------------------------------------------------------------


def test_reports_from_one_token_are_limited_with_retry_after(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    configure(app, rate_reports_per_caller=3)
    token = make_token(session, make_user(session, "reporter"))
    other = make_token(session, make_user(session, "reporter"))
    session.commit()
    body = report_body(session)
    for _ in range(3):
        assert client.post("/api/v1/reports", json=body, headers=bearer(token)).status_code == 201
    refused = client.post("/api/v1/reports", json=body, headers=bearer(token))
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= get_settings(app).rate_window_s
    # another token from the same address still may
    assert client.post("/api/v1/reports", json=body, headers=bearer(other)).status_code == 201


def test_failed_reports_count_against_the_limit(app: Flask, client: FlaskClient, session: Session) -> None:
    configure(app, rate_reports_per_caller=2)
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    for _ in range(2):  # invalid bodies: refused, but counted
        assert client.post("/api/v1/reports", json={"category": 1}, headers=bearer(token)).status_code == 422
    response = client.post("/api/v1/reports", json=report_body(session), headers=bearer(token))
    assert response.status_code == 429


def test_reports_per_address_are_limited_across_tokens(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    configure(app, rate_reports_per_address=2)
    tokens = [make_token(session, make_user(session, "reporter")) for _ in range(3)]
    session.commit()
    body = report_body(session)
    assert [client.post("/api/v1/reports", json=body, headers=bearer(t)).status_code for t in tokens] == [
        201,
        201,
        429,
    ]
    # a different client address is counted apart
    response = client.post(
        "/api/v1/reports", json=body, headers=bearer(tokens[2]), environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert response.status_code == 201


def test_open311_post_shares_the_report_limit(app: Flask, client: FlaskClient, session: Session) -> None:
    configure(app, rate_reports_per_caller=2)
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    assert client.post("/api/v1/reports", json=report_body(session), headers=bearer(token)).status_code == 201
    form = {"api_key": token, "service_code": "01-11", "lat": f"{lat:.6f}", "long": f"{lon:.6f}"}
    assert client.post("/open311/v2/requests.json", data=form).status_code == 200
    refused = client.post("/open311/v2/requests.json", data=form)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert refused.get_json()[0]["code"] == 429  # in Open311's own error shape


def test_batch_geolocation_is_limited_per_address(app: Flask, client: FlaskClient) -> None:
    configure(app, rate_geolocate_batch=2)
    body = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.47, 30.85]}}],
    }
    statuses = [client.post("/api/v1/geolocate", json=body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_rate_limits_can_be_turned_off(app: Flask, client: FlaskClient) -> None:
    configure(app, rate_geolocate_batch=1, rate_limits_enabled=False)
    body = {"type": "FeatureCollection", "features": []}
    assert [client.post("/api/v1/geolocate", json=body).status_code for _ in range(3)] == [200] * 3


# -- item 3: request size ------------------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts what is read of it."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking to its end and back
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size + offset if whence == io.SEEK_END else offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"a" * n
        self.position += n
        self.read_bytes += n
        return n


def test_an_oversized_body_is_refused_before_it_is_read(client: FlaskClient, session: Session) -> None:
    size = 200 * 1024 * 1024
    stream = CountingStream(size)
    response = client.post(
        "/api/v1/auth/login",
        input_stream=stream,
        content_type="application/json",
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large" and error["details"]["max_bytes"] == 1_048_576
    assert stream.read_bytes == 0
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_a_body_without_length_stops_at_the_limit(app: Flask, client: FlaskClient) -> None:
    configure(app, max_request_bytes=1000)
    response = client.post(
        "/api/v1/auth/login",
        input_stream=io.BytesIO(b'{"username": "' + b"a" * 5000 + b'", "password": "x"}'),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_uploads_have_their_own_larger_limit(app: Flask, client: FlaskClient, session: Session) -> None:
    configure(app, max_request_bytes=10_000, max_upload_bytes=100_000)
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    form = {"api_key": token, "service_code": "01-11", "lat": f"{lat:.6f}", "long": f"{lon:.6f}"}

    def upload(size: int) -> int:
        data: dict[str, Any] = {**form, "media": (io.BytesIO(b"\xff" * size), "photo.jpg", "image/jpeg")}
        return client.post(
            "/open311/v2/requests.json", data=data, content_type="multipart/form-data"
        ).status_code

    assert upload(50_000) != 413  # over the plain limit, under the upload limit
    assert upload(150_000) == 413
    # a plain JSON body of the upload's size is still refused
    big = client.post("/api/v1/geolocate", data=b"{" + b" " * 50_000 + b"}", content_type="application/json")
    assert big.status_code == 413


# -- item 9: headers -----------------------------------------------------------------------------------


def test_every_answer_says_nosniff_and_no_framing(client: FlaskClient) -> None:
    for path in ("/healthz", "/api/v1/boundaries", "/api/docs", "/api/v1/nothing-here"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_the_api_docs_page_has_a_csp_without_inline_code(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "<style>" not in html and "style=" not in html
    for asset in ("/static/api-docs.js", "/static/api-docs.css"):
        served = client.get(asset)
        assert asset in html and served.status_code == 200
        served.close()


@pytest.mark.parametrize("path", ["/api/docs"])
def test_html_pages_get_a_csp(client: FlaskClient, path: str) -> None:
    assert "default-src 'self'" in client.get(path).headers["Content-Security-Policy"]
