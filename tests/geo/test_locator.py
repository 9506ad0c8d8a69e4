"""The point locator against the shipped boundaries: exact answers, zones, borders, batch = single."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiLineString, MultiPolygon, Point

from geo.adjacency import shared_borders
from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path
from geo.locator import AreaInfo, Locator, input_from_districts
from geo.metric import project_points, to_lonlat, to_metric

FENGXIAN, JINSHAN, SONGJIANG, PUDONG = "310120", "310116", "310117", "310115"
MEMBER_PAIRS = {(PUDONG, FENGXIAN), (JINSHAN, SONGJIANG), (JINSHAN, FENGXIAN), (SONGJIANG, FENGXIAN)}


def test_town_seats_land_in_their_districts(shipped_locator: Locator) -> None:
    # GeoNames (WGS-84) seats, kilometres from any border.
    seats = {
        (121.44944, 30.91611): FENGXIAN,  # 南桥
        (121.46917, 30.8325): FENGXIAN,  # 柘林
        (121.2278, 31.0306): SONGJIANG,  # 松江 城区
        (121.5447, 31.2231): PUDONG,  # 陆家嘴
        (121.4367, 31.1883): "310104",  # 徐汇
    }
    for (lon, lat), code in seats.items():
        location = shipped_locator.locate(lon, lat)
        assert location.district is not None and location.district.code == code, (lon, lat)
    xuhui = shipped_locator.locate(121.4367, 31.1883)
    assert xuhui.outcome == "outside_alliance"


def test_sea_and_other_provinces_are_outside_coverage(shipped_locator: Locator) -> None:
    for lon, lat in [(122.6, 30.6), (120.2, 30.25), (0.0, 0.0)]:
        location = shipped_locator.locate(lon, lat)
        assert location.outcome == "outside_coverage"
        assert location.district is None and location.border_distance_m is None


def test_zone_membership_matches_exact_distance_to_member_borders(shipped_locator: Locator) -> None:
    """Ground truth: in a member pair's districts and within 500 m of their shared border."""
    rng = np.random.default_rng(7)
    lines = {(a, b): line for a, b, line in _shipped_borders() if (a, b) in MEMBER_PAIRS}
    boxes = [line.bounds for line in lines.values()]
    lon = np.concatenate([rng.uniform(x0 - 0.01, x1 + 0.01, 4000) for x0, _, x1, _ in boxes])
    lat = np.concatenate([rng.uniform(y0 - 0.01, y1 + 0.01, 4000) for _, y0, _, y1 in boxes])
    points = shapely.points(*project_points(lon, lat))
    batch = shipped_locator.locate_many(lon, lat)
    codes = batch.district_codes()
    clearly_in = np.zeros(len(lon), dtype=bool)
    clearly_out = np.ones(len(lon), dtype=bool)
    for (a, b), line in lines.items():
        in_pair = (codes == a) | (codes == b)
        d = shapely.distance(to_metric(line), points)
        clearly_in |= in_pair & (d < 499)
        clearly_out &= ~in_pair | (d > 501)
    assert clearly_in.sum() > 1000 and clearly_out.sum() > 1000
    assert batch.in_border_zone[clearly_in].all()
    assert not batch.in_border_zone[clearly_out].any()


@cache
def _shipped() -> dict[str, MultiPolygon]:
    return {f.code: f.geometry for f in parse_features(read_boundary_file(shipped_districts_path()))}


@cache
def _shipped_borders() -> list[tuple[str, str, MultiLineString]]:
    return [(b.code_a, b.code_b, b.line) for b in shared_borders(_shipped())]


def test_batch_agrees_with_single_points_and_with_brute_force(shipped_locator: Locator) -> None:
    rng = np.random.default_rng(11)
    lon = rng.uniform(120.85, 122.2, 20000)
    lat = rng.uniform(30.65, 31.9, 20000)
    batch = shipped_locator.locate_many(lon, lat)
    single = [shipped_locator.district_and_zone(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    assert batch.district_index.tolist() == [d for d, _ in single]
    assert batch.zone_index.tolist() == [z for _, z in single]
    brute = np.full(len(lon), -1)
    for k, info in enumerate(shipped_locator.districts):
        poly = _shipped()[info.code]
        brute = np.where((brute == -1) & shapely.intersects_xy(poly, lon, lat), k, brute)
    assert (brute == batch.district_index).all()


def test_point_exactly_on_a_border_is_deterministic_and_flagged(shipped_locator: Locator) -> None:
    jinshan = _shipped()[JINSHAN]
    fengxian = _shipped()[FENGXIAN]
    shared = shapely.intersection(jinshan.boundary, fengxian.boundary)
    vertex = shapely.get_coordinates(shared)[len(shapely.get_coordinates(shared)) // 2]
    lon, lat = float(vertex[0]), float(vertex[1])
    assert jinshan.boundary.intersects(Point(lon, lat)) and fengxian.boundary.intersects(Point(lon, lat))
    first = shipped_locator.locate(lon, lat)
    again = shipped_locator.locate(lon, lat)
    assert first == again
    assert first.on_border
    assert first.district is not None and first.district.code == JINSHAN  # the lower code
    assert first.border_distance_m is not None and first.border_distance_m < 2
    assert first.in_border_zone and first.border_pair == (JINSHAN, FENGXIAN)


def test_distance_and_nearest_other_district(shipped_locator: Locator) -> None:
    near = shipped_locator.locate(121.2278, 31.0306)  # 松江 城区
    assert near.border_distance_m is not None and near.border_distance_m > 1000
    assert near.nearest_other_district is not None and near.nearest_other_district.code != SONGJIANG
    fast = shipped_locator.locate(121.2278, 31.0306, with_distance=False)
    assert fast.border_distance_m is None and fast.district == near.district


@pytest.mark.parametrize("width", [300.0, 800.0])
def test_zone_width_is_honoured(width: float) -> None:
    features = parse_features(read_boundary_file(shipped_districts_path()))
    districts = [(AreaInfo(f.code, f.name_zh, f.name_en, bool(f.member)), f.geometry) for f in features]
    locator = Locator(input_from_districts(districts, zone_width_m=width))
    jinshan, fengxian = _shipped()[JINSHAN], _shipped()[FENGXIAN]
    line = to_metric(shapely.intersection(jinshan.boundary, fengxian.boundary))
    mid = line.interpolate(0.5, normalized=True)
    # walk away from the border into either district and find where the zone ends
    rng = np.random.default_rng(3)
    angles = rng.uniform(0, 2 * np.pi, 400)
    radii = rng.uniform(0, 2 * width, 400)
    for angle, radius in zip(angles, radii, strict=True):
        p = Point(mid.x + radius * np.cos(angle), mid.y + radius * np.sin(angle))
        d = line.distance(p)
        ll = to_lonlat(p)
        loc = locator.locate(ll.x, ll.y, with_distance=False)
        if loc.district is None or loc.district.code not in (JINSHAN, FENGXIAN):
            continue
        if d < width - 1:
            assert loc.in_border_zone and loc.zone_width_m == width
        elif d > width + 1:
            assert not loc.in_border_zone or loc.border_pair != (JINSHAN, FENGXIAN)
