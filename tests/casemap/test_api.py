"""The map's case layer: clusters that add up to a direct recount, the case list's filters, the zoom at
which single cases replace clusters (capped, with a next link), and strict boxes (422)."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from coordinator.casemap import services
from coordinator.cases.models import Case
from coordinator.geojson import Bbox
from coordinator.squads import services as squads
from coordinator.squads.models import DispatchUnit
from tests.factories import bearer, make_token, make_user, unique

BOX = (121.05, 30.70, 121.35, 30.95)  # 金山/奉贤, about 29 km × 28 km
STATUSES = ("routed", "claimed", "in_progress", "resolved", "closed", "void")
CATEGORIES = ("01-10", "01-11")
PAIRS = (None, ("310116", "310120"), ("310117", "310120"))
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def put_cases(
    session: Session, n: int, *, seed: int = 3, box: tuple[float, ...] = BOX
) -> list[dict[str, Any]]:
    """n cases at random points of `box` with random status, category, border pair and creation time
    (the last 30 days before NOW), inserted in one statement; their rows."""
    squads.ensure_dispatch_units(session)
    unit = session.scalars(select(DispatchUnit.id).where(DispatchUnit.level == "alliance")).one()
    rng = random.Random(seed)
    prefix = unique("MAP")
    rows = []
    for i in range(n):
        lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
        pair = rng.choice(PAIRS)
        at = NOW - timedelta(hours=rng.uniform(0, 30 * 24))
        rows.append(
            {
                "number": f"{prefix}-{i}",
                "status": rng.choice(STATUSES),
                "category_code": rng.choice(CATEGORIES),
                "lon": lon,
                "lat": lat,
                "geom": f"SRID=4326;POINT({lon!r} {lat!r})",
                "outcome": "member",
                "in_border_zone": pair is not None,
                "border_pair_a": pair[0] if pair else None,
                "border_pair_b": pair[1] if pair else None,
                "queue_unit_id": unit,
                "routing": {"rule": "test", "reason": "tests/casemap"},
                "report_count": 1,
                "created_at": at,
                "updated_at": at,
                "last_report_at": at,
            }
        )
    session.execute(insert(Case), rows)
    session.commit()
    return rows


@pytest.fixture
def staff(session: Session) -> dict[str, str]:
    token = make_token(session, make_user(session, "committee"))
    session.commit()
    return bearer(token)


def layer(client: FlaskClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    params.setdefault("bbox", ",".join(str(v) for v in BOX))
    response = client.get("/api/v1/map/clusters", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    body: dict[str, Any] = response.get_json()
    return body


def cell_of(row: dict[str, Any], zoom: int) -> tuple[int, int]:
    size = services.cell_size(zoom)
    return math.floor((row["lon"] + 180) / size), math.floor((row["lat"] + 90) / size)


def recount(rows: list[dict[str, Any]], zoom: int, box: tuple[float, ...] = BOX) -> dict[str, Counter[str]]:
    """Cell id → cases per status of the cells the box touches, counted in Python from the rows."""
    cells = services.CellRange.of(Bbox(*box), zoom)
    out: dict[str, Counter[str]] = {}
    for r in rows:
        col, row = cell_of(r, zoom)
        if cells.first_column <= col <= cells.last_column and cells.first_row <= row <= cells.last_row:
            out.setdefault(f"{zoom}/{col}/{row}", Counter())[r["status"]] += 1
    return out


def by_cell(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {f["id"]: f["properties"]["status_counts"] for f in body["features"]}


def test_clusters_add_up_to_a_recount(
    client: FlaskClient, session: Session, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = put_cases(session, 400)
    inner = (121.1, 30.75, 121.3, 30.9)
    for zoom in (8, 11, 13, 14, 15):
        cells = services.CellRange.of(Bbox(*inner), zoom)
        size = services.cell_size(zoom)
        # The recount in SQL: the cases of case_file in the cells the box touches.
        direct = session.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                func.floor((Case.lon + 180.0) / size).between(cells.first_column, cells.last_column),
                func.floor((Case.lat + 90.0) / size).between(cells.first_row, cells.last_row),
            )
        )
        body = layer(client, staff, zoom=zoom, bbox=",".join(map(str, inner)))
        assert body["mode"] == "clusters" and body["cell_size"] == size
        assert body["truncated"] is False and body["total"] == direct
        assert body["cells_bbox"] == pytest.approx(list(cells.bounds()))
        expected = recount(rows, zoom, inner)
        assert by_cell(body) == {k: dict(v) for k, v in expected.items()}
        for feature in body["features"]:
            props = feature["properties"]
            assert props["cluster"] is True
            assert props["count"] == sum(props["status_counts"].values())
            members = [r for r in rows if f"{zoom}/{'/'.join(map(str, cell_of(r, zoom)))}" == feature["id"]]
            lon, lat = feature["geometry"]["coordinates"]
            assert lon == pytest.approx(sum(r["lon"] for r in members) / len(members))
            assert lat == pytest.approx(sum(r["lat"] for r in members) / len(members))
            west, south, east, north = props["cell"]
            assert west <= lon <= east and south <= lat <= north
        # The count table (up to zoom 13) and the GROUP BY over case_file answer alike.
        with monkeypatch.context() as m:
            m.setattr(services, "uses_count_table", lambda flt, zoom: False)
            plain = layer(client, staff, zoom=zoom, bbox=",".join(map(str, inner)))
        assert by_cell(plain) == by_cell(body)
        for a, b in zip(plain["features"], body["features"], strict=True):
            assert a["geometry"]["coordinates"] == pytest.approx(b["geometry"]["coordinates"])
    # Coarse zoom: the whole box in a cell or a few, every case counted.
    assert layer(client, staff, zoom=5)["total"] == 400


def test_filters_are_the_case_lists(client: FlaskClient, session: Session, staff: dict[str, str]) -> None:
    rows = put_cases(session, 300, seed=8)
    since, until = NOW - timedelta(days=20), NOW - timedelta(days=5)
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"status": "claimed"}, lambda r: r["status"] == "claimed"),
        ({"category": "01-10"}, lambda r: r["category_code"] == "01-10"),
        ({"since": since.isoformat()}, lambda r: r["created_at"] >= since),
        ({"until": until.isoformat()}, lambda r: r["created_at"] < until),
        ({"border": "310120-310116"}, lambda r: r["border_pair_a"] == "310116"),
        (
            {"status": "void", "category": "01-11", "border": "310117-310120", "since": since.isoformat()},
            lambda r: (
                r["status"] == "void"
                and r["category_code"] == "01-11"
                and r["border_pair_a"] == "310117"
                and r["created_at"] >= since
            ),
        ),
    ]
    for params, keep in cases:
        kept = [r for r in rows if keep(r)]
        assert 0 < len(kept) < len(rows), params
        body = layer(client, staff, zoom=12, **params)
        assert body["total"] == len(kept), params  # every cell of BOX lies inside the cells at zoom 12
        assert by_cell(body) == {k: dict(v) for k, v in recount(kept, 12).items()}, params
        # The same filters on the case list (its names) count the same cases.
        listed = client.get(
            "/api/v1/cases",
            query_string={
                "bbox": ",".join(map(str, BOX)),
                "per_page": 1,
                **{
                    {"since": "created_from", "until": "created_to", "border": "border_pair"}.get(k, k): v
                    for k, v in params.items()
                },
            },
            headers=staff,
        )
        assert listed.status_code == 200 and listed.get_json()["total"] == len(kept), params


def test_single_cases_from_the_zoom_threshold(
    client: FlaskClient, session: Session, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = put_cases(session, 12, seed=5, box=(121.2, 30.8, 121.21, 30.81))
    box = "121.2,30.8,121.21,30.81"
    below = layer(client, staff, zoom=services.SINGLE_CASE_ZOOM - 1, bbox=box)
    assert below["mode"] == "clusters" and all(f["properties"]["cluster"] for f in below["features"])
    at = layer(client, staff, zoom=services.SINGLE_CASE_ZOOM, bbox=box)
    assert at["mode"] == "cases" and at["cell_size"] is None and at["truncated"] is False
    assert at["total"] == 12 and len(at["features"]) == 12
    assert [link["rel"] for link in at["links"]] == ["self"]
    numbers = {f["properties"]["number"] for f in at["features"]}
    assert numbers == {r["number"] for r in rows}
    first = at["features"][0]
    assert first["properties"]["cluster"] is False and first["geometry"]["type"] == "Point"
    # The case list's properties, newest first.
    listed = client.get(
        "/api/v1/cases", query_string={"bbox": box, "format": "geojson"}, headers=staff
    ).get_json()
    assert [f["properties"]["number"] for f in listed["features"]] == [
        f["properties"]["number"] for f in at["features"]
    ]
    assert {k: v for k, v in first["properties"].items() if k != "cluster"} == listed["features"][0][
        "properties"
    ]

    # Over the cap: the newest CASE_CAP, `truncated`, and a next link into the case list.
    monkeypatch.setattr(services, "CASE_CAP", 5)
    capped_response = client.get(
        "/api/v1/map/clusters", query_string={"bbox": box, "zoom": 18, "status": ""}, headers=staff
    )
    capped = capped_response.get_json()
    assert capped["truncated"] is True and capped["total"] == 12 and len(capped["features"]) == 5
    (following,) = [link["href"] for link in capped["links"] if link["rel"] == "next"]
    assert 'rel="next"' in capped_response.headers["Link"]
    page2 = client.get(following, headers=staff).get_json()
    assert page2["page"] == 2 and page2["per_page"] == 5
    assert [f["properties"]["number"] for f in page2["features"]] == [
        f["properties"]["number"] for f in listed["features"][5:10]
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "181,30,182,31"}, "bbox"),
        ({"bbox": "121,-91,122,31"}, "bbox"),
        ({"bbox": "179,30,-179,31"}, "bbox"),  # across the antimeridian
        ({"bbox": "121,30,122"}, "bbox"),
        ({"bbox": "121,30,122,1e1"}, "bbox"),
        ({"bbox": "121,30,122,31", "zoom": 15}, "bbox"),  # 364 × 364 cells
        ({"zoom": 23}, "zoom"),
        ({"zoom": -1}, "zoom"),
        ({"zoom": "1.0"}, "zoom"),
        ({"zoom": ""}, "zoom"),  # empty is absent, and zoom is required
        ({"status": "open"}, "status"),
        ({"border": "310116-310116"}, "border"),
        ({"border": "310116"}, "border"),
        ({"since": "2026-11-01"}, "since"),
        ({"radius": "1"}, "radius"),
    ],
)
def test_bad_views_are_422(
    client: FlaskClient, staff: dict[str, str], params: dict[str, Any], field: str
) -> None:
    query = {"bbox": ",".join(map(str, BOX)), "zoom": 12, **params}
    response = client.get("/api/v1/map/clusters", query_string=query, headers=staff)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in {d["field"].split(".")[0] for d in error["details"]}, error


def test_a_large_box_is_fine_once_single_cases_are_shown(client: FlaskClient, staff: dict[str, str]) -> None:
    body = layer(client, staff, zoom=services.SINGLE_CASE_ZOOM, bbox="121,30,122,31")
    assert body["mode"] == "cases" and body["features"] == [] and body["total"] == 0
    assert services.cells_spanned(services.Bbox(121, 30, 122, 31), 15) > services.MAX_CELLS


def test_reporters_and_strangers_see_no_case_map(client: FlaskClient, session: Session) -> None:
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    query = {"bbox": ",".join(map(str, BOX)), "zoom": 12}
    assert client.get("/api/v1/map/clusters", query_string=query).status_code == 401
    assert client.get("/api/v1/map/clusters", query_string=query, headers=bearer(token)).status_code == 403
