"""Demo hotspots for `seed demo`: two on each member border, placed 150 m inside the border zone along
the shared border line and named after the squads on both sides (marked 【演示】). Idempotent by name.
The first is the ditch between 柘林 and 漕泾 the alliance names for joint enforcement of dumping."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.boundaries import services as boundaries
from coordinator.geolocation.services import load_locator_input, locator_key
from coordinator.hotspots import services
from coordinator.hotspots.models import Hotspot
from coordinator.squads import services as squads
from geo.jurisdictions import MEMBER_DISTRICTS, bare_town_name
from geo.locator import Locator
from geo.metric import to_lonlat, to_metric

DEMO_MARK = "【演示】"
ZHELIN_CAOJING = (121.435, 30.818)  # in 柘林 (奉贤), ~150 m from 金山: the pair with 漕泾
FRACTIONS = ((0.3, "dead_end_road"), (0.7, "vacant_lot"))
DEPTH_M = 150.0
MIN_APART_M = 1500.0


def _town(session: Session, lon: float, lat: float) -> str:
    found = squads.squads_at(session, lon, lat)
    return found[0].name_zh.removesuffix("中队") if found else "?"


def _across(cells: list[tuple[str, Any]], lon: float, lat: float) -> str:
    point = to_metric(Point(lon, lat))
    best = min(cells, key=lambda cell: cell[1].distance(point), default=None)
    return bare_town_name(best[0].split("（")[0]) if best is not None else "?"


def seed_demo_hotspots(session: Session, locator: Locator | None = None) -> int:
    """Create the demo hotspots that are missing; how many were created.

    `locator`: one of the current boundaries, if the caller has it; otherwise it is built from `session`
    (a LocatorCache would close the session it reads from, and with it the caller's transaction).
    """
    if locator is None:
        locator = Locator(load_locator_input(session, locator_key(session)))
    existing = set(session.scalars(select(Hotspot.name)))
    created = 0
    wanted: list[tuple[str, str, float, float]] = [
        (f"{DEMO_MARK}柘林–漕泾 交界沟渠", "ditch", *ZHELIN_CAOJING),
    ]
    cells: dict[str, list[tuple[str, Any]]] = {}
    for district in MEMBER_DISTRICTS:
        areas = squads.jurisdiction_areas(session, squads.list_squads(session, district=district))
        cells[district] = [(a.name_zh, to_metric(to_shape(a.geom))) for a in areas.values()]
    for border in boundaries.list_shared_borders(session):
        line = to_metric(to_shape(border.geom))
        for fraction, kind in FRACTIONS:
            anchor = line.interpolate(fraction, normalized=True)
            for dx, dy in ((DEPTH_M, 0), (-DEPTH_M, 0), (0, DEPTH_M), (0, -DEPTH_M)):
                probe = to_lonlat(Point(anchor.x + dx, anchor.y + dy))
                location = locator.locate(probe.x, probe.y)
                near = any(
                    to_metric(Point(w[2], w[3])).distance(to_metric(probe)) < MIN_APART_M for w in wanted
                )
                if location.in_border_zone and location.district is not None and not near:
                    here = location.district.code
                    other = border.code_b if here == border.code_a else border.code_a
                    name = f"{_town(session, probe.x, probe.y)}–{_across(cells[other], probe.x, probe.y)}"
                    label = {"dead_end_road": "断头路", "vacant_lot": "空地"}[kind]
                    lon, lat = round(probe.x, 6), round(probe.y, 6)
                    wanted.append((f"{DEMO_MARK}{name} 交界{label}", kind, lon, lat))
                    break
    for name, kind, lon, lat in wanted:
        if name in existing:
            continue
        services.create_hotspot(session, locator, name=name, kind=kind, lon=lon, lat=lat)
        existing.add(name)
        created += 1
    return created
