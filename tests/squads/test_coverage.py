"""Every point of a member district lies in exactly one active squad's jurisdiction — checked in the
database under test (SpatiaLite or PostGIS), by area and on a grid of sample points."""

from __future__ import annotations

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from coordinator.boundaries.services import get_area
from coordinator.squads import services
from geo.jurisdictions import MEMBER_DISTRICTS
from geo.metric import to_lonlat, to_metric
from tests.factories import make_area, make_squad

GRID_M = 2000.0


def sample_points(district: shapely.Geometry) -> list[tuple[float, float]]:
    """Points on a metric grid (GRID_M apart) that lie inside the district, as lon/lat."""
    x0, y0, x1, y1 = to_metric(district).bounds
    xs, ys = np.meshgrid(np.arange(x0 + GRID_M / 2, x1, GRID_M), np.arange(y0 + GRID_M / 2, y1, GRID_M))
    points = to_lonlat(shapely.MultiPoint(np.column_stack([xs.ravel(), ys.ravel()])))
    return [(p.x, p.y) for p in points.geoms if district.contains(p)]


def test_member_districts_are_partitioned_by_squad_jurisdictions(demo_territory: Session) -> None:
    session = demo_territory
    for code in MEMBER_DISTRICTS:
        uncovered, overlap = services.coverage_defects(session, code)
        assert uncovered < 1.0, f"{code}: {uncovered:.2f} m² in no squad's jurisdiction"
        assert overlap < 1.0, f"{code}: {overlap:.2f} m² in two squads' jurisdictions"


def test_grid_points_each_have_exactly_one_squad(demo_territory: Session) -> None:
    session = demo_territory
    checked = 0
    for code in MEMBER_DISTRICTS:
        district = to_shape(get_area(session, code).geom)
        points = sample_points(district)
        assert len(points) > 20
        for lon, lat in points:
            found = services.squads_at(session, lon, lat)
            assert len(found) == 1, f"{code} ({lon:.5f}, {lat:.5f}): {[s.code for s in found]}"
            assert found[0].district_code == code
        checked += len(points)
    assert checked > 800


def test_a_point_outside_the_alliance_has_no_squad(demo_territory: Session) -> None:
    assert services.squads_at(demo_territory, 121.47, 31.23) == []  # 黄浦, not a member
    assert services.squads_at(demo_territory, 122.5, 30.5) == []  # the sea


def test_deactivating_a_squad_opens_a_hole_that_the_check_sees(demo_territory: Session) -> None:
    session = demo_territory
    squad = services.get_squad(session, "SQ-310120118")
    squad.active = False
    session.flush()
    uncovered, _ = services.coverage_defects(session, "310120")
    assert uncovered > 1e6  # a whole town's worth of square metres


def test_an_older_demo_territory_is_retired_when_the_demo_is_seeded_again(demo_territory: Session) -> None:
    # A demo jurisdiction of an earlier seed (the old synthetic codes) and its squad.
    session = demo_territory
    old = make_area(session, code="310120-S07", level="town", approximate=True)
    old.source = "demo: Voronoi cells of GeoNames town seats"
    squad = make_squad(session, code="SQ-310120-S07", jurisdiction=old.code)
    official = make_area(session, code="310120-X01", level="custom")  # never a demo area
    session.flush()
    assert len(services.squads_at(session, 121.46, 30.85)) == 2  # the old and the new demo squad
    services.seed_demo_territory(session)
    session.flush()
    assert old.valid_to is not None and squad.active is False
    assert official.valid_to is None
    inside_old = services.squads_at(session, 121.46, 30.85)  # a point of the old area's box
    assert len(inside_old) == 1 and inside_old[0].code != "SQ-310120-S07"
