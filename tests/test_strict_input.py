"""Values are never coerced across types at the edge, empty query values mean absent on every route, and
the OpenAPI document states each constraint the server enforces (issue: speak the standards fully).

Each test here names the bug it pins: before the fix the server coerced (`"lon": true` opened a case at
(1, 0), `"observed_at": 0` was 1970-01-01, Open311 read `start_date=0.5` as a Unix time), answered 422
for some empty filters and not others, and documented looser schemas than it enforced.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Report
from coordinator.geojson import Bbox
from coordinator.validation import RFC3339_PATTERN, QueryModel
from tests.factories import bearer, make_token, make_user
from tests.open311.test_georeport import BASE, assert_open311_error

POINT = {"lon": 121.4512, "lat": 30.9213}  # in Fengxian


@pytest.fixture
def reporter(session: Session) -> dict[str, str]:
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    return bearer(token)


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    token = make_token(session, make_user(session, "admin"))
    session.commit()
    return bearer(token)


def reports(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Report)) or 0


def refused_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.get_json()
    return [d["field"] for d in response.get_json()["error"]["details"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lon": True, "lat": False}, "lon"),  # opened a case at (1, 0)
        ({"lon": "121.4512"}, "lon"),  # a string is not a number
        ({"observed_at": 0}, "observed_at"),  # stored as 1970-01-01
        ({"observed_at": "1764203400"}, "observed_at"),  # a Unix time in a string neither
        ({"observed_at": "2026-11-27"}, "observed_at"),  # a date is not a date-time
        ({"description": 12}, "description"),
        ({"photos": ["ftp://example.com/p.jpg"]}, "photos.0"),
    ],
)
def test_a_json_value_of_another_type_is_refused_not_coerced(
    client: FlaskClient, session: Session, reporter: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    before = reports(session)
    body = {"category": "01-11", **POINT, **changes}
    response = client.post("/api/v1/reports", json=body, headers=reporter)
    assert field in refused_fields(response)
    assert reports(session) == before


def test_rfc_3339_datetimes_are_read_with_their_offset(
    client: FlaskClient, session: Session, reporter: dict[str, str]
) -> None:
    body = {"category": "01-11", **POINT, "observed_at": "2025-11-27t08:30:00z"}  # RFC 3339 allows t, z
    response = client.post("/api/v1/reports", json=body, headers=reporter)
    assert response.status_code == 201, response.get_json()
    report = session.get(Report, response.get_json()["report_id"])
    assert report is not None and report.observed_at.isoformat() == "2025-11-27T08:30:00+00:00"


def test_geojson_batch_points_must_have_numbers_as_coordinates(client: FlaskClient) -> None:
    for coordinates in ([True, False], ["121.45", "30.92"], [121.45, None]):
        body = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates}}],
        }
        response = client.post("/api/v1/geolocate", json=body)
        assert response.status_code == 422, coordinates
        assert {d["field"] for d in response.get_json()["error"]["details"]} <= {
            "features.0.geometry.coordinates.0",
            "features.0.geometry.coordinates.1",
        }


@pytest.mark.parametrize("value", ["0.5", "1764203400", "0", "2026-13-01", "yesterday", "2026-11-27 08:30"])
def test_open311_dates_are_iso_8601_never_numbers(client: FlaskClient, value: str) -> None:
    # 0.5 and a Unix time were read as seconds since 1970 (200)
    response = client.get(f"{BASE}/requests.json", query_string={"start_date": value})
    assert_open311_error(response, 400, "start_date")


def test_open311_dates_may_be_a_date_or_a_local_time(client: FlaskClient) -> None:
    for value in ("2026-11-27", "2026-11-27T08:30", "2026-11-27T08:30:00+08:00", "2026-11-27T00:30:00.5Z"):
        response = client.get(f"{BASE}/requests.json", query_string={"start_date": value})
        assert response.status_code == 200, (value, response.get_json())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"in_border_zone": "1"}, "in_border_zone"),
        ({"in_border_zone": "yes"}, "in_border_zone"),
        ({"per_page": "1.0"}, "per_page"),
        ({"per_page": "+5"}, "per_page"),
        ({"page": "1_0"}, "page"),
        ({"created_from": "1764203400"}, "created_from"),
        ({"created_from": "0.5"}, "created_from"),
        ({"created_from": "2026-11-01T00:00:00"}, "created_from"),  # no offset
        ({"bbox": "121,30,122,inf"}, "bbox"),
        ({"bbox": "121,30,122,3_1"}, "bbox"),
    ],
)
def test_query_values_have_one_spelling(
    client: FlaskClient, admin: dict[str, str], query: dict[str, str], field: str
) -> None:
    assert field in refused_fields(client.get("/api/v1/cases", query_string=query, headers=admin))


def test_query_numbers_are_written_as_json_writes_them(client: FlaskClient) -> None:
    for lon in ("1_21.45", "121.45e0x", ".5", "inf", "NaN", " 121.45"):
        response = client.get("/api/v1/geolocate", query_string={"lon": lon, "lat": "30.92"})
        assert "lon" in refused_fields(response), lon
    exponent = client.get("/api/v1/geolocate", query_string={"lon": "1.2145e2", "lat": "30.92"})
    assert exponent.status_code == 200


# Every GET route with filters, each filter sent empty: the same answer as without it.
EMPTY_FILTERS = [
    ("/api/v1/cases", ["status", "squad", "district", "category", "in_border_zone", "bbox", "created_from",
                       "created_to", "page", "per_page", "format"]),
    ("/api/v1/boundaries", ["level", "member"]),
    ("/api/v1/borders", ["members_only"]),
    ("/api/v1/squads", ["district", "active", "geometry"]),
    ("/api/v1/users", ["role", "district"]),
    ("/api/v1/geolocate?lon=121.45&lat=30.92", ["crs"]),
    (f"{BASE}/requests.json", ["service_request_id", "service_code", "start_date", "end_date", "status",
                               "page", "page_size", "extensions", "jurisdiction_id", "api_key"]),
]  # fmt: skip


@pytest.mark.parametrize(("path", "names"), EMPTY_FILTERS)
def test_an_empty_query_value_means_absent_on_every_route(
    client: FlaskClient, admin: dict[str, str], path: str, names: list[str]
) -> None:
    plain = client.get(path, headers=admin)
    assert plain.status_code == 200, plain.get_json()
    separator = "&" if "?" in path else "?"
    emptied = client.get(path + separator + "&".join(f"{name}=" for name in names), headers=admin)
    assert emptied.status_code == 200, emptied.get_json()
    assert emptied.get_json() == plain.get_json()


def test_every_query_model_follows_the_rule() -> None:
    class Filters(QueryModel):
        flag: bool | None = None
        count: int = 3

    assert Filters.model_validate({"flag": "", "count": ""}) == Filters()
    assert Filters.model_validate({"flag": "false", "count": "0"}) == Filters(flag=False, count=0)


def test_open311_reads_accept_an_api_key(client: FlaskClient) -> None:
    # GeoReport clients send their api_key on every call; reads are public and ignore it (was 400
    # "unknown parameter" on requests.json).
    for path in ("/discovery.json", "/services.json", "/services/01-11.json", "/requests.json"):
        response = client.get(BASE + path, query_string={"api_key": "jj_any", "jurisdiction_id": "sh"})
        assert response.status_code == 200, (path, response.get_json())


def test_open311_post_reads_the_api_key_from_the_query_string(
    client: FlaskClient, session: Session, reporter: dict[str, str]
) -> None:
    token = reporter["Authorization"].removeprefix("Bearer ")
    form = {"service_code": "01-11", "lat": str(POINT["lat"]), "long": str(POINT["lon"])}
    response = client.post(f"{BASE}/requests.json?api_key={token}", data=form)
    assert response.status_code == 200, response.get_json()
    assert_open311_error(client.post(f"{BASE}/requests.json?api_key=jj_wrong", data=form), 403, "api_key")
    # the form's api_key wins over the query's
    response = client.post(f"{BASE}/requests.json?api_key=jj_wrong", data={**form, "api_key": token})
    assert response.status_code == 200, response.get_json()


# ------------------------------------------------------------------------ the OpenAPI document


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/openapi.json").get_json()
    return document


def parameter(spec: dict[str, Any], path: str, name: str, method: str = "get") -> dict[str, Any]:
    params = {p["name"]: p for p in spec["paths"][path][method]["parameters"]}
    return params[name]


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def test_the_document_states_longitude_and_latitude_ranges(spec: dict[str, Any]) -> None:
    for where in (
        parameter(spec, "/api/v1/geolocate", "lon")["schema"],
        schema(spec, "ReportIn")["properties"]["lon"],
        schema(spec, "RequestForm")["properties"]["long"],
    ):
        assert (where["minimum"], where["maximum"]) == (-180, 180)
    for where in (
        parameter(spec, "/api/v1/geolocate", "lat")["schema"],
        schema(spec, "ReportIn")["properties"]["lat"],
        schema(spec, "RequestForm")["properties"]["lat"],
    ):
        assert (where["minimum"], where["maximum"]) == (-90, 90)
    coordinates = schema(spec, "PointGeometry")["properties"]["coordinates"]
    assert [(p.get("minimum"), p.get("maximum")) for p in coordinates["prefixItems"]] == [
        (-180, 180),
        (-90, 90),
        (None, None),
    ]


def test_the_document_states_patterns_enums_and_required_fields(spec: dict[str, Any]) -> None:
    bbox = parameter(spec, "/api/v1/cases", "bbox")["schema"]
    assert re.fullmatch(bbox["pattern"].strip("^$"), "121.4,30.8,121.6,31")
    assert not re.fullmatch(bbox["pattern"].strip("^$"), "121.4,30.8,121.6")
    assert parameter(spec, "/open311/v2/requests.json", "status")["schema"]["enum"] == [
        "open",
        "closed",
        "open,closed",
        "closed,open",
    ]
    assert set(schema(spec, "RequestForm")["required"]) == {"service_code", "lat", "long"}
    created_from = parameter(spec, "/api/v1/cases", "created_from")["schema"]
    assert created_from == {"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}
    observed_at = schema(spec, "ReportIn")["properties"]["observed_at"]
    assert {"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN} in observed_at["anyOf"]


def test_query_parameters_are_never_null_in_the_document(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for param in operation["parameters"]:
                assert "null" not in str(param["schema"]), (method, path, param["name"])


def test_every_datetime_a_request_carries_has_its_pattern(spec: dict[str, Any]) -> None:
    # Bodies and query strings alike: a `date-time` or `date` without the pattern would let a Unix time
    # or a bare date through (pydantic reads "0" as 1970-01-01 even in strict mode).
    def walk(node: Any, where: str, seen: frozenset[str] = frozenset()) -> list[str]:
        if isinstance(node, dict):
            ref = node.get("$ref", "").removeprefix("#/components/schemas/")
            if ref:
                return [] if ref in seen else walk(schema(spec, ref), ref, seen | {ref})
            bad = [where] if node.get("format") in ("date-time", "date") and "pattern" not in node else []
            return bad + [p for key, sub in node.items() for p in walk(sub, f"{where}.{key}", seen)]
        if isinstance(node, list):
            return [p for index, sub in enumerate(node) for p in walk(sub, f"{where}.{index}", seen)]
        return []

    requests = {
        name
        for item in spec["paths"].values()
        for operation in item.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
        for name in re.findall(r"#/components/schemas/(\w+)", str(content))
    }
    unpatterned = [p for name in sorted(requests) for p in walk(schema(spec, name), name)]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for param in operation["parameters"]:
                unpatterned += walk(param["schema"], f"{method} {path} {param['name']}")
    assert unpatterned == []


def test_the_title_makes_a_valid_package_name(spec: dict[str, Any]) -> None:
    # Generated clients name their package after the title: "交界协同-api-client" cannot be installed.
    title = spec["info"]["title"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._-]*[A-Za-z0-9]", title), title
    assert title == "Jiaojie Coordinator API"
    assert spec["info"]["description"].startswith("交界协同")


def test_bbox_is_read_as_ogc_api_features_reads_it() -> None:
    # Every value the document's pattern admits has a meaning (a fuzzer found 0,0,0,0 refused): corners
    # may coincide, south and north come in either order, west > east crosses the antimeridian.
    assert Bbox.parse("121,31,121,31").boxes() == [(121, 31, 121, 31)]
    assert Bbox.parse("121,31.2,121.5,30.8") == Bbox(121, 30.8, 121.5, 31.2)
    assert Bbox.parse("170,-10,-170,10").boxes() == [(170, -10, 180, 10), (-180, -10, -170, 10)]
    assert Bbox.parse("121,30,0,122,31,100") == Bbox(121, 30, 122, 31)  # heights are ignored


def test_the_document_says_empty_means_absent_and_text_holds_no_nul(spec: dict[str, Any]) -> None:
    squad = parameter(spec, "/api/v1/cases", "squad")
    assert squad["allowEmptyValue"] is True and squad["schema"]["pattern"] == "^[^\\u0000]*$"
    assert "allowEmptyValue" not in parameter(spec, "/api/v1/geolocate", "lon")  # required: never empty
    form = schema(spec, "RequestForm")["properties"]
    assert {"const": ""} in form["media_url"]["anyOf"] and "anyOf" not in form["lat"]
    assert schema(spec, "ReportIn")["properties"]["description"]["pattern"] == "^[^\\u0000]*$"


def test_what_the_schema_fuzzer_found(client: FlaskClient, session: Session, admin: dict[str, str]) -> None:
    # A bbox of five numbers matched the OGC pattern and answered 500.
    assert client.get("/ogc/collections/districts/items?bbox=0,0,1,1,4").status_code == 400
    # JSON Schema's `integer` takes 7.0; strict validation alone refused it.
    patched = client.patch("/api/v1/squads/SQ-310120118", json={"night_capacity": 7.0}, headers=admin)
    assert patched.status_code == 200 and patched.get_json()["properties"]["night_capacity"] == 7
    # An empty external_id was stored, and a second report with it hit the unique index: 500.
    body = {"category": "01-11", **POINT, "external_id": ""}
    assert "external_id" in refused_fields(client.post("/api/v1/reports", json=body, headers=admin))
    # The document promised at most 2083 characters for a photo URL; longer ones were stored.
    long_url = "https://example.com/" + "a" * 2100
    body = {"category": "01-11", **POINT, "photos": [long_url]}
    assert "photos.0" in refused_fields(client.post("/api/v1/reports", json=body, headers=admin))
