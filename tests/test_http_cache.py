"""HTTP for the big, slow-changing layers (coordinator.httpcache): ETag and Last-Modified with 304s, byte
ranges for GDAL's /vsicurl/ (what QGIS reads HTTP sources with), gzip for large JSON — and GDAL itself
reading /api/v1/boundaries over HTTP from a live server (pyogrio bundles GDAL). Before, the server
ignored `Range`, and /vsicurl/ failed on every layer over ~100 KB."""

from __future__ import annotations

import gzip

import pyogrio
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import bearer, make_token, make_user
from tests.live import live_server

LAYERS = ["/api/v1/boundaries", "/api/v1/boundaries/310120", "/api/v1/borders", "/api/v1/border-zones"]
SQUAD_LAYERS = ["/api/v1/squads", "/api/v1/squads/SQ-310120118"]


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    token = make_token(session, make_user(session, "admin"))
    session.commit()
    return bearer(token)


@pytest.mark.parametrize("path", LAYERS + SQUAD_LAYERS)
def test_validators_and_304(client: FlaskClient, admin: dict[str, str], path: str) -> None:
    first = client.get(path, headers=admin)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and first.headers["Accept-Ranges"] == "bytes"
    assert "no-cache" in first.headers["Cache-Control"]
    assert ("private" if path in SQUAD_LAYERS else "public") in first.headers["Cache-Control"]
    for condition in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = client.get(path, headers={**admin, **condition})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    changed = client.get(path, headers={**admin, "If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.data == first.data


def test_a_change_moves_the_validators(client: FlaskClient, admin: dict[str, str]) -> None:
    before = client.get("/api/v1/squads", headers=admin)
    patched = client.patch("/api/v1/squads/SQ-310120118", json={"night_capacity": 5}, headers=admin)
    assert patched.status_code == 200
    after = client.get("/api/v1/squads", headers={**admin, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]


def test_byte_ranges_of_the_identity_encoding(client: FlaskClient) -> None:
    whole = client.get("/api/v1/boundaries").data
    part = client.get("/api/v1/boundaries", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == whole[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole)}"
    # a range is always of the identity encoding, even from a client that accepts gzip
    zipped_range = client.get("/api/v1/boundaries", headers={"Range": "bytes=-10", "Accept-Encoding": "gzip"})
    assert zipped_range.status_code == 206 and zipped_range.data == whole[-10:]
    assert "Content-Encoding" not in zipped_range.headers
    beyond = client.get("/api/v1/boundaries", headers={"Range": f"bytes={len(whole) + 5}-"})
    assert beyond.status_code == 416
    head = client.head("/api/v1/boundaries")
    assert head.headers["Content-Length"] == str(len(whole)) and head.headers["Accept-Ranges"] == "bytes"


def test_large_json_is_gzipped_when_the_client_accepts_it(client: FlaskClient, admin: dict[str, str]) -> None:
    plain = client.get("/api/v1/boundaries")
    zipped = client.get("/api/v1/boundaries", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 2
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'  # each encoding its own tag
    again = client.get(
        "/api/v1/boundaries", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304
    cases = client.get("/api/v1/cases?per_page=100", headers={**admin, "Accept-Encoding": "gzip"})
    assert cases.status_code == 200  # any large JSON answer, not only the layers
    small = client.get("/livez", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # below 1 KB compressing saves nothing
    refused = client.get("/api/v1/boundaries", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_gdal_reads_the_boundaries_over_http(app: Flask, client: FlaskClient) -> None:
    expected = client.get("/api/v1/boundaries").get_json()
    with live_server(app) as (url, checker):
        path = f"/vsicurl/{url}/api/v1/boundaries"
        info = pyogrio.read_info(path)
        meta, _, geometry, fields = pyogrio.raw.read(path)
    assert info["features"] == len(expected["features"]) > 16  # districts and demo towns
    codes = list(fields[meta["fields"].tolist().index("code")])
    assert sorted(codes) == sorted(f["properties"]["code"] for f in expected["features"])
    assert all(g is not None for g in geometry)
    assert any(method == "GET" and "Range" in headers for method, _, headers in checker.requests)
