"""GET/POST /api/v1/geolocate: answers, CRS conversion, input hygiene, version tracking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy.orm import Session

from coordinator.boundaries import services as boundaries
from coordinator.geolocation.schemas import GeolocatedCollection, Geolocation
from geo.crs import from_wgs84
from geo.metric import to_lonlat, to_metric

NANQIAO = (121.44944, 30.91611)  # 奉贤 seat, ~8 km from any border


def get(client: FlaskClient, **params: Any) -> Any:
    return client.get("/api/v1/geolocate", query_string=params)


def test_a_member_point_is_located_with_distances(client: FlaskClient) -> None:
    response = get(client, lon=NANQIAO[0], lat=NANQIAO[1])
    assert response.status_code == 200
    body = Geolocation.model_validate(response.get_json())
    assert body.outcome == "member"
    assert body.district is not None and (body.district.code, body.district.name) == ("310120", "奉贤区")
    assert body.border_distance_m is not None and body.border_distance_m > 5000
    assert body.nearest_other_district is not None
    assert not body.in_border_zone and body.border_pair is None
    assert body.wgs84 == NANQIAO


def test_border_zone_point(client: FlaskClient, session: Session) -> None:
    zone = next(
        z for z in boundaries.current_border_zones(session) if (z.code_a, z.code_b) == ("310116", "310120")
    )
    inner = to_shape(zone.geom).representative_point()
    body = get(client, lon=inner.x, lat=inner.y).get_json()
    assert body["in_border_zone"] is True
    assert body["border_pair"] == ["310116", "310120"]
    assert body["district"]["code"] in {"310116", "310120"}
    assert body["border_distance_m"] <= 500


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_points_from_chinese_map_apps_land_where_their_wgs84_twins_do(client: FlaskClient, crs: str) -> None:
    rng = np.random.default_rng(5)
    for lon, lat in zip(rng.uniform(121.1, 121.9, 25), rng.uniform(30.7, 31.3, 25), strict=True):
        twin = get(client, lon=lon, lat=lat).get_json()
        clon, clat = from_wgs84(float(lon), float(lat), crs)
        converted = get(client, lon=clon, lat=clat, crs=crs).get_json()
        assert converted["wgs84"] == pytest.approx(twin["wgs84"], abs=1e-6)
        assert (converted["outcome"], converted["district"], converted["border_pair"]) == (
            twin["outcome"],
            twin["district"],
            twin["border_pair"],
        )


def test_gcj02_sent_as_wgs84_would_land_elsewhere_near_a_border(
    client: FlaskClient, session: Session
) -> None:
    """The trap the crs parameter exists for: the ~500 m offset moves border points across."""
    zone = next(
        z for z in boundaries.current_border_zones(session) if (z.code_a, z.code_b) == ("310116", "310120")
    )
    inner = to_shape(zone.geom).representative_point()
    glon, glat = from_wgs84(inner.x, inner.y, "gcj02")
    right = get(client, lon=glon, lat=glat, crs="gcj02").get_json()
    wrong = get(client, lon=glon, lat=glat).get_json()
    assert right["wgs84"] == pytest.approx([inner.x, inner.y], abs=1e-6)
    assert right["wgs84"] != wrong["wgs84"]


def test_outside_alliance_and_outside_coverage_are_answers(client: FlaskClient) -> None:
    xuhui = get(client, lon=121.4367, lat=31.1883).get_json()
    assert xuhui["outcome"] == "outside_alliance" and xuhui["district"]["code"] == "310104"
    sea = get(client, lon=122.9, lat=30.6).get_json()
    assert sea["outcome"] == "outside_coverage" and sea["district"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lon": "nan", "lat": 31}, "validation_failed"),
        ({"lon": 121, "lat": "inf"}, "validation_failed"),
        ({"lon": "abc", "lat": 31}, "validation_failed"),
        ({"lat": 31}, "validation_failed"),
        ({"lon": 121.4, "lat": 31, "crs": "utm"}, "validation_failed"),
        ({"lon": 181, "lat": 31}, "point_out_of_range"),
        ({"lon": 30.91611, "lat": 121.44944}, "coordinates_swapped"),
    ],
    ids=["nan", "inf", "text", "missing", "unknown-crs", "out-of-range", "swapped"],
)
def test_bad_points_get_a_clear_4xx(client: FlaskClient, params: dict[str, Any], code: str) -> None:
    response = get(client, **params)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_swapped_error_says_what_the_swapped_point_would_be(client: FlaskClient) -> None:
    error = get(client, lon=30.91611, lat=121.44944).get_json()["error"]
    assert error["details"]["swapped"] == {"lon": 121.44944, "lat": 30.91611}
    assert error["details"]["district"] == "奉贤区"


def test_batch_returns_the_single_answers_in_order(client: FlaskClient) -> None:
    points = [NANQIAO, (121.4367, 31.1883), (122.9, 30.6)]
    body = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": i,
                "geometry": {"type": "Point", "coordinates": list(p)},
                "properties": {},
            }
            for i, p in enumerate(points)
        ],
    }
    response = client.post("/api/v1/geolocate", json=body)
    assert response.status_code == 200
    result = GeolocatedCollection.model_validate(response.get_json())
    assert [f.id for f in result.features] == [0, 1, 2]
    for feature, point in zip(result.features, points, strict=True):
        single = get(client, lon=point[0], lat=point[1]).get_json()
        assert feature.properties.model_dump(mode="json") == single


def test_batch_rejects_bad_points_listing_each(client: FlaskClient) -> None:
    features = [
        {"type": "Feature", "id": "ok", "geometry": {"type": "Point", "coordinates": list(NANQIAO)}},
        {"type": "Feature", "id": "swapped", "geometry": {"type": "Point", "coordinates": [30.9, 121.45]}},
        {"type": "Feature", "id": "far", "geometry": {"type": "Point", "coordinates": [500, 31]}},
    ]
    response = client.post("/api/v1/geolocate", json={"type": "FeatureCollection", "features": features})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert [(d["id"], d["code"]) for d in details] == [
        ("swapped", "coordinates_swapped"),
        ("far", "point_out_of_range"),
    ]


def test_oversized_and_malformed_batches(client: FlaskClient) -> None:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(NANQIAO)}}
    too_many = client.post(
        "/api/v1/geolocate", json={"type": "FeatureCollection", "features": [feature] * 10_001}
    )
    assert too_many.status_code == 422
    assert "10000" in str(too_many.get_json()["error"]["details"])
    not_json = client.post("/api/v1/geolocate", data="lon=1", content_type="text/plain")
    assert not_json.status_code == 400
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}
    wrong_type = client.post("/api/v1/geolocate", json={"type": "FeatureCollection", "features": [line]})
    assert wrong_type.status_code == 422


def test_zone_width_change_reaches_the_locator(client: FlaskClient, session: Session) -> None:
    border = next(
        b for b in boundaries.list_shared_borders(session) if (b.code_a, b.code_b) == ("310116", "310120")
    )
    line = to_metric(to_shape(border.geom))
    mid = line.interpolate(0.5, normalized=True)
    # a point ~700 m from the border, inside one of the two districts
    for dx, dy in [(700, 0), (-700, 0), (0, 700), (0, -700)]:
        candidate = Point(mid.x + dx, mid.y + dy)
        if 650 < line.distance(candidate) < 800:
            probe = to_lonlat(candidate)
            before = get(client, lon=probe.x, lat=probe.y).get_json()
            if before["district"] and before["district"]["code"] in ("310116", "310120"):
                break
    else:
        pytest.fail("no probe point found")
    assert before["in_border_zone"] is False
    boundaries.set_zone_width(session, "310120", "310116", 1000, default_width_m=500)
    session.commit()
    after = get(client, lon=probe.x, lat=probe.y).get_json()
    assert after["in_border_zone"] is True and after["zone_width_m"] == 1000


def test_border_zones_endpoint(client: FlaskClient) -> None:
    response = client.get("/api/v1/border-zones")
    assert response.status_code == 200
    body = response.get_json()
    assert {f["id"] for f in body["features"]} == {
        "310115-310120",
        "310116-310117",
        "310116-310120",
        "310117-310120",
    }
    assert all(f["properties"]["width_m"] == 500 for f in body["features"])
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in body["features"])
