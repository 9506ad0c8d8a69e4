"""RFC 7946 §3.1.6 everywhere: every polygon the service serves has a counter-clockwise exterior and
clockwise holes. The contract check (tests/contracts.py) applies `winding_problems` to every GeoJSON answer
any test gets; here every route that serves polygons is called and must show some, all wound right.
Before the fix, border zones, squad jurisdictions and towns came out clockwise (districts were right)."""

from __future__ import annotations

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator.api import GEOJSON
from coordinator.geojson import rfc7946
from geo.boundaries import read_boundary_file, shipped_districts_path
from tests.contracts import Answer, ContractViolation, check_answer, winding_problems
from tests.factories import bearer, make_token, make_user

CLOCKWISE = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
COUNTER = list(reversed(CLOCKWISE))
HOLE_CW = [[0.2, 0.2], [0.2, 0.4], [0.4, 0.4], [0.4, 0.2], [0.2, 0.2]]

# (method, path, needs a token): every route whose answer holds polygons.
POLYGON_ROUTES = [
    ("GET", "/api/v1/boundaries", False),  # districts and towns
    ("GET", "/api/v1/boundaries?level=town", False),
    ("GET", "/api/v1/boundaries/310120", False),
    ("GET", "/api/v1/border-zones", False),
    ("GET", "/api/v1/squads", True),
    ("GET", "/api/v1/squads/SQ-310120118", True),
    ("PATCH", "/api/v1/squads/SQ-310120118", True),
    ("GET", "/ogc/collections/districts/items?limit=100", False),
    ("GET", "/ogc/collections/districts/items/310120", False),
    ("GET", "/ogc/collections/towns/items?limit=100", False),
    ("GET", "/ogc/collections/border-zones/items", False),
    ("GET", "/ogc/collections/squads/items?limit=100", True),
    ("GET", "/ogc/collections/squads/items/SQ-310120118", True),
]


def test_the_check_finds_a_clockwise_exterior_and_a_counter_clockwise_hole() -> None:
    assert winding_problems({"type": "Polygon", "coordinates": [COUNTER, HOLE_CW]}) == []
    assert winding_problems({"type": "Polygon", "coordinates": [CLOCKWISE]}) == [
        "coordinates[0][0]: the exterior is clockwise"
    ]
    feature = {
        "type": "Feature",
        "geometry": {"type": "MultiPolygon", "coordinates": [[COUNTER], [COUNTER, COUNTER[::-1][::-1]]]},
    }
    assert winding_problems({"features": [feature]}) == [
        "features.0.geometry.coordinates[1][1]: the hole is counter-clockwise"
    ]


def test_geometries_are_wound_once_at_the_edge() -> None:
    from shapely.geometry import Polygon

    served = rfc7946(Polygon(CLOCKWISE, [list(reversed(HOLE_CW))]))
    assert winding_problems(served) == []
    assert served["coordinates"][0][0] == (0.0, 0.0)


@pytest.mark.parametrize(("method", "path", "needs_token"), POLYGON_ROUTES)
def test_every_polygon_route_serves_rfc_7946_rings(
    client: FlaskClient, session: Session, method: str, path: str, needs_token: bool
) -> None:
    headers = bearer(make_token(session, make_user(session, "admin"))) if needs_token else {}
    session.commit()
    body = {"night_capacity": 2} if method == "PATCH" else None
    response = client.open(path, method=method, headers=headers, json=body)
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert '"Polygon"' in response.get_data(as_text=True) or '"MultiPolygon"' in response.get_data(
        as_text=True
    )
    assert winding_problems(document) == []


def test_the_contract_check_fails_a_clockwise_answer(app: Flask) -> None:
    zone = {
        "type": "Feature",
        "id": "310116-310120",
        "properties": {"pair": ["310116", "310120"], "names": ["金山区", "奉贤区"], "width_m": 500.0,
                       "area_m2": 1.0, "generation": 1},
        "geometry": {"type": "MultiPolygon", "coordinates": [[CLOCKWISE]]},
    }  # fmt: skip
    body = orjson.dumps({"type": "FeatureCollection", "features": [zone]})
    with pytest.raises(
        ContractViolation, match=r"features\.0\.geometry\.coordinates\[0\]\[0\]: the exterior"
    ):
        check_answer(app, Answer("GET", "/api/v1/border-zones", 200, GEOJSON, body))


def test_the_shipped_boundary_file_is_wound_as_served() -> None:
    assert winding_problems(read_boundary_file(shipped_districts_path())) == []
