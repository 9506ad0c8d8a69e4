"""Property-based tests (hypothesis) of the coordinate conversions and the locator.

- GCJ-02 and BD-09 round trips: converting a WGS-84 point there and back lands within 1e-7° (~1 cm).
- The locator's answers are stable under tiny moves away from borders: a point farther than 3 m from
  every district polygon's edge keeps its district and outcome when moved by up to ~0.5 m, and its
  distance to the nearest border changes by no more than the move (the distance is 1-Lipschitz).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from shapely.ops import unary_union
from shapely.strtree import STRtree

from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path
from geo.crs import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.locator import Locator

# Mainland China well inside the GCJ-02 region (its edge is where the offset is switched off).
china_lon = st.floats(min_value=98.0, max_value=124.0, allow_nan=False)
china_lat = st.floats(min_value=22.0, max_value=42.0, allow_nan=False)
# The member districts' box (奉贤, 金山, 松江, southern 浦东) and a bit around it.
area_lon = st.floats(min_value=120.95, max_value=122.0, allow_nan=False)
area_lat = st.floats(min_value=30.65, max_value=31.3, allow_nan=False)
tiny = st.floats(min_value=-5e-6, max_value=5e-6, allow_nan=False)  # ≤ ~0.5 m per axis
M_PER_DEG_LAT = 111_320.0


@given(china_lon, china_lat)
@settings(max_examples=300, deadline=None)
def test_gcj02_round_trip(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert back[0] == pytest.approx(lon, abs=1e-7) and back[1] == pytest.approx(lat, abs=1e-7)


@given(china_lon, china_lat)
@settings(max_examples=300, deadline=None)
def test_bd09_round_trip(lon: float, lat: float) -> None:
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert back[0] == pytest.approx(lon, abs=1e-7) and back[1] == pytest.approx(lat, abs=1e-7)


@pytest.fixture(scope="module")
def edges() -> STRtree:
    """The edges of every shipped district polygon (degrees)."""
    features = parse_features(read_boundary_file(shipped_districts_path()))
    return STRtree([unary_union([f.geometry.boundary for f in features])])


def metres(dlon: float, dlat: float, lat: float) -> float:
    return math.hypot(dlon * M_PER_DEG_LAT * math.cos(math.radians(lat)), dlat * M_PER_DEG_LAT)


@given(area_lon, area_lat, tiny, tiny)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_locator_answers_are_stable_under_tiny_moves_away_from_borders(
    shipped_locator: Locator, edges: STRtree, lon: float, lat: float, dx: float, dy: float
) -> None:
    here = shipped_locator.locate(lon, lat)
    there = shipped_locator.locate(lon + dx, lat + dy)
    edge = edges.geometries[0]
    # A degree of longitude is shorter than one of latitude: 3 m is at most this many degrees.
    if edge.distance(Point(lon, lat)) > 3.0 / (M_PER_DEG_LAT * math.cos(math.radians(lat))):
        assert (there.outcome, there.district and there.district.code) == (
            here.outcome,
            here.district and here.district.code,
        )
        if here.border_distance_m is not None and there.border_distance_m is not None:
            moved = metres(dx, dy, lat)
            # 1-Lipschitz, with room for the metric projection's scale (< 1 % here) and the answers'
            # rounding to 0.1 m (±0.05 m each).
            assert abs(here.border_distance_m - there.border_distance_m) <= moved * 1.01 + 0.1 + 1e-9
