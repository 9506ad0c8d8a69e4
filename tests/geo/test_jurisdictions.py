"""Demo jurisdictions: Voronoi cells of town seats partition each member district (geo.jurisdictions)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box, shape

from geo.boundaries import read_boundary_file, shipped_districts_path
from geo.jurisdictions import (
    MEMBER_DISTRICTS,
    JurisdictionError,
    TownSeat,
    demo_jurisdictions,
    load_town_seats,
    partition_defects_m2,
    town_seats_path,
    voronoi_cells,
)
from geo.metric import to_metric


def seat(code: str, lon: float, lat: float, district: str = "D") -> TownSeat:
    return TownSeat(code=code, name_zh=code, name_en=code, lon=lon, lat=lat, district=district)


def shipped_members() -> dict[str, MultiPolygon]:
    collection = read_boundary_file(shipped_districts_path())
    return {
        f["properties"]["code"]: shape(f["geometry"])
        for f in collection["features"]
        if f["properties"]["code"] in MEMBER_DISTRICTS
    }


def test_cells_are_nearest_seat_in_metres_not_degrees() -> None:
    # At 31°N a degree of longitude is ~95 km and one of latitude ~111 km: P is nearer to A in metres
    # (953 m vs 1054 m) but nearer to B in degrees (0.0100 vs 0.0095).
    district = box(121.30, 30.90, 121.50, 31.10)
    p = (121.40, 31.00)
    a = seat("A", 121.41, 31.00)
    b = seat("B", 121.40, 31.0095)
    cells = voronoi_cells(district, [a, b])
    assert cells["A"].contains(Point(*p))
    assert not cells["B"].contains(Point(*p))


def test_single_seat_gets_the_whole_district() -> None:
    district = box(121.30, 30.90, 121.50, 31.10)
    cells = voronoi_cells(district, [seat("A", 121.4, 31.0)])
    assert cells["A"].equals(MultiPolygon([district]))


def test_seat_outside_its_district_is_refused() -> None:
    with pytest.raises(JurisdictionError, match="outside"):
        voronoi_cells(box(121.30, 30.90, 121.50, 31.10), [seat("A", 121.4, 31.0), seat("B", 122.0, 31.0)])


def test_no_seats_is_refused() -> None:
    with pytest.raises(JurisdictionError):
        voronoi_cells(box(121.30, 30.90, 121.50, 31.10), [])


def test_cells_of_a_district_with_a_hole_and_an_island_cover_it_exactly() -> None:
    outer = box(121.30, 30.90, 121.50, 31.10).difference(box(121.38, 30.98, 121.42, 31.02))
    island = box(121.55, 30.95, 121.56, 30.96)  # no seat on it: a neighbour's cell absorbs it
    district = MultiPolygon([outer, island])
    seats = [seat("A", 121.32, 30.92), seat("B", 121.48, 31.08), seat("C", 121.45, 30.93)]
    cells = voronoi_cells(district, seats)
    assert set(cells) == {"A", "B", "C"}
    uncovered, overlap = partition_defects_m2(district, list(cells.values()))
    assert uncovered < 0.01 and overlap < 0.01
    assert sum(c.contains(Point(121.555, 30.955)) for c in cells.values()) == 1


def test_shipped_seats_are_the_current_towns_with_their_codes_inside_their_districts() -> None:
    districts = shipped_members()
    seats = load_town_seats()
    per_district = {d: sum(s.district == d for s in seats) for d in MEMBER_DISTRICTS}
    assert per_district == {"310115": 36, "310116": 10, "310117": 17, "310120": 12}
    assert len({s.code for s in seats}) == len(seats)
    for s in seats:
        assert districts[s.district].contains(Point(s.lon, s.lat)), s
        assert len(s.code) == 9 and s.code.isdigit() and s.code.startswith(s.district), s
        assert s.seat_source in ("geonames", "manual")
        assert (s.geonameid is not None) == (s.seat_source == "geonames"), s
    by_code = {s.code: s.name_zh for s in seats}
    assert by_code["310120118"] == "柘林镇" and by_code["310116112"] == "漕泾镇"
    doc = json.loads(Path(town_seats_path()).read_text(encoding="utf-8"))
    assert "CC BY 4.0" in doc["source_towns"] and "CC BY 4.0" in doc["source_seats"]


def test_zhelin_and_caojing_share_the_jinshan_fengxian_border() -> None:
    features = {f.code: f for f in demo_jurisdictions(shipped_members())}
    zhelin, caojing = features["310120118"].geometry, features["310116112"].geometry
    assert to_metric(zhelin).distance(to_metric(caojing)) < 1.0  # neighbouring cells across the border
    report = Point(121.435, 30.818)
    assert zhelin.contains(report)
    across = sorted(
        (to_metric(f.geometry).distance(to_metric(report)), code)
        for code, f in features.items()
        if f.parent_code == "310116"
    )
    assert across[0][1] == "310116112" and across[0][0] < 500  # 漕泾 is the nearest 金山 cell, in the zone


def test_demo_jurisdictions_partition_every_member_district() -> None:
    districts = shipped_members()
    features = demo_jurisdictions(districts)
    assert all(f.approximate and f.level == "town" and "近似" in f.name_zh for f in features)
    for code, district in districts.items():
        cells = [f.geometry for f in features if f.parent_code == code]
        assert len(cells) >= 5
        assert all(c.is_valid for c in cells)
        uncovered, overlap = partition_defects_m2(district, cells)
        assert uncovered < 1.0, f"{code}: {uncovered:.3f} m² not covered"
        assert overlap < 1.0, f"{code}: {overlap:.3f} m² covered twice"
        # Every sample point of a 1.5 km grid inside the district lies in exactly one cell.
        x0, y0, x1, y1 = to_metric(district).bounds
        minx, miny, maxx, maxy = district.bounds
        nx, ny = int((x1 - x0) / 1500), int((y1 - y0) / 1500)
        xs, ys = np.meshgrid(np.linspace(minx, maxx, nx), np.linspace(miny, maxy, ny))
        inside = shapely.contains_xy(district, xs.ravel(), ys.ravel())
        px, py = xs.ravel()[inside], ys.ravel()[inside]
        assert len(px) > 200
        counts = sum(shapely.contains_xy(c, px, py).astype(int) for c in cells)
        assert (counts == 1).all(), f"{code}: {int((counts != 1).sum())} points not in exactly one cell"
