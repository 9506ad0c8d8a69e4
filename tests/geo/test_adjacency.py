"""Shared borders computed from polygons (geo.adjacency)."""

from __future__ import annotations

from shapely.geometry import MultiPolygon, Polygon, box

from geo.adjacency import shared_borders
from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path
from geo.metric import to_lonlat, to_metric

ORIGIN = to_metric(box(121.40, 30.90, 121.40001, 30.90001)).bounds[:2]


def metric_box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    ox, oy = ORIGIN
    return MultiPolygon([to_lonlat(Polygon(box(ox + x0, oy + y0, ox + x1, oy + y1)))])


def test_small_gap_still_counts_as_a_shared_border() -> None:
    areas = {"A": metric_box(0, 0, 1000, 1000), "B": metric_box(1010, 0, 2000, 1000)}
    (border,) = shared_borders(areas, snap_m=20)
    assert (border.code_a, border.code_b) == ("A", "B")
    assert 990 <= border.length_m <= 1040


def test_gap_wider_than_snap_is_no_border() -> None:
    areas = {"A": metric_box(0, 0, 1000, 1000), "B": metric_box(1050, 0, 2000, 1000)}
    assert shared_borders(areas, snap_m=20) == []


def test_corner_touch_is_no_border() -> None:
    areas = {"A": metric_box(0, 0, 1000, 1000), "B": metric_box(1000, 1000, 2000, 2000)}
    assert shared_borders(areas, snap_m=20, min_length_m=200) == []


def test_overlapping_sliver_counts_once() -> None:
    areas = {"A": metric_box(0, 0, 1005, 1000), "B": metric_box(995, 0, 2000, 1000)}
    (border,) = shared_borders(areas, snap_m=20)
    assert border.length_m < 1100


def test_member_districts_that_share_borders() -> None:
    areas = {a.code: a.geometry for a in parse_features(read_boundary_file(shipped_districts_path()))}
    members = {"310115", "310116", "310117", "310120"}
    pairs = {
        (b.code_a, b.code_b) for b in shared_borders(areas) if b.code_a in members and b.code_b in members
    }
    # 奉贤–浦东, 金山–松江, 金山–奉贤, 松江–奉贤; 浦东 touches neither 金山 nor 松江 (闵行 lies between).
    assert pairs == {("310115", "310120"), ("310116", "310117"), ("310116", "310120"), ("310117", "310120")}
