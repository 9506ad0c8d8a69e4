"""Demo squad jurisdictions: Voronoi cells of town seats, clipped to their district.

Official town (街镇) polygons are not public. Until they are imported, each member district is divided
among its current towns (geo/data/town_seats.json: the 街镇 list with 9-digit codes, one seat point per
town from GeoNames or placed by hand): every point of the district goes to the nearest seat, measured
in metres (geo.metric), never in degrees, so the cells cover the district with no hole and no overlap.
The result is *approximate* and is labelled so wherever it shows.

The nearest-seat regions are computed in metres; they are then unprojected and clipped in lon/lat
against the stored district polygon itself, so the cells' union is the district exactly (not a
projection round trip of it) and neighbouring cells share identical edges. Areas are measured in
metres.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.boundaries import AreaFeature
from geo.metric import to_lonlat, to_metric

MEMBER_DISTRICTS: dict[str, tuple[str, str]] = {
    "310115": ("浦东新区", "Pudong"),
    "310116": ("金山区", "Jinshan"),
    "310117": ("松江区", "Songjiang"),
    "310120": ("奉贤区", "Fengxian"),
}
TOWN_SEATS_FILE = "town_seats.json"
APPROXIMATE_ZH = "近似"
APPROXIMATE_EN = "approximate"
# Leftover pieces smaller than this are floating-point noise of the overlay, not holes.
NOISE_M2 = 0.01
# Voronoi edges are straight in metres; densify them before unprojecting so they stay (nearly) straight.
DENSIFY_M = 250.0


class JurisdictionError(ValueError):
    """The seats cannot produce a valid partition of a district."""


@dataclass(frozen=True)
class TownSeat:
    """The seat (政府驻地) of a town, WGS-84 lon/lat."""

    code: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    district: str
    seat_source: str = "geonames"
    geonameid: int | None = None


def bare_town_name(name: str) -> str:
    """A town's name without its suffix, as squads are named: 柘林镇 → 柘林, 川沙新镇 → 川沙,
    花木街道 → 花木; a one-character stem keeps it (唐镇)."""
    for suffix in ("街道", "新镇", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name.removesuffix(suffix)
    return name


def town_seats_path() -> Path:
    """The shipped seat file (see geo/data/PROVENANCE.md)."""
    return Path(str(resources.files("geo") / "data" / TOWN_SEATS_FILE))


def load_town_seats(path: str | Path | None = None) -> list[TownSeat]:
    """Read a seat file (default: the shipped one)."""
    doc: dict[str, Any] = json.loads(Path(path or town_seats_path()).read_text(encoding="utf-8"))
    return [
        TownSeat(
            code=s["code"],
            name_zh=s["name_zh"],
            name_en=s["name_en"],
            lon=float(s["lon"]),
            lat=float(s["lat"]),
            district=s["district"],
            seat_source=s.get("seat_source", "geonames"),
            geonameid=s.get("geonameid"),
        )
        for s in doc["seats"]
    ]


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(p for p in part.geoms if not p.is_empty)
        elif part.geom_type == "GeometryCollection":
            polys.extend(_polygonal(part).geoms)
    return MultiPolygon(polys)


def voronoi_cells(district: BaseGeometry, seats: Sequence[TownSeat]) -> dict[str, MultiPolygon]:
    """Partition `district` (lon/lat) among `seats` (by code): nearest seat in metres wins.

    Every seat must lie inside the district. Gaps left by numerical noise go to the neighbour sharing
    the longest edge with them; a seat whose cell comes out empty is dropped (its neighbours absorb it).
    """
    if not seats:
        raise JurisdictionError("no town seats for this district")
    for seat in seats:
        if not district.covers(Point(seat.lon, seat.lat)):
            raise JurisdictionError(f"seat {seat.code} {seat.name_zh} lies outside its district")
    if len(seats) == 1:
        return {seats[0].code: _polygonal(district)}

    metric_district = to_metric(district)
    points = to_metric(MultiPoint([(s.lon, s.lat) for s in seats]))
    extent = metric_district.envelope.buffer(10_000)
    regions = shapely.voronoi_polygons(points, extend_to=extent, ordered=True)
    cells: dict[str, MultiPolygon] = {}
    for seat, region in zip(seats, shapely.get_parts(regions), strict=True):
        region_lonlat = to_lonlat(shapely.segmentize(region, DENSIFY_M))
        cell = _polygonal(shapely.intersection(region_lonlat, district))
        if not cell.is_empty:
            cells[seat.code] = cell
    return _close_gaps(district, cells)


def _close_gaps(district: BaseGeometry, cells: dict[str, MultiPolygon]) -> dict[str, MultiPolygon]:
    """Give any leftover piece of the district to the cell sharing the longest boundary with it."""
    leftover = _polygonal(shapely.difference(district, shapely.union_all(list(cells.values()))))
    for piece in leftover.geoms:
        if to_metric(piece).area < NOISE_M2:
            continue
        edge = to_lonlat(to_metric(piece).buffer(0.5))
        best = max(cells, key=lambda code: shapely.intersection(cells[code].boundary, edge).length)
        cells[best] = _polygonal(shapely.union(cells[best], piece))
    return cells


def demo_jurisdictions(
    districts: Mapping[str, BaseGeometry], seats: Sequence[TownSeat] | None = None
) -> list[AreaFeature]:
    """Approximate town jurisdictions for every district in `districts` that has seats.

    Returned as boundary features of level `town`, `approximate=True`, named "… （近似）" /
    "… (approximate)" so the label travels with the name to every list, map and CLI output.
    """
    seats = list(load_town_seats() if seats is None else seats)
    features: list[AreaFeature] = []
    for code in sorted(districts):
        own = [s for s in seats if s.district == code]
        if not own:
            continue
        cells = voronoi_cells(districts[code], own)
        for seat in own:
            if seat.code not in cells:
                continue
            features.append(
                AreaFeature(
                    code=seat.code,
                    name_zh=f"{seat.name_zh}（{APPROXIMATE_ZH}）",
                    name_en=f"{seat.name_en} ({APPROXIMATE_EN})",
                    level="town",
                    parent_code=code,
                    member=True,
                    approximate=True,
                    geometry=cells[seat.code],
                )
            )
    return features


def partition_defects_m2(district: BaseGeometry, cells: Sequence[BaseGeometry]) -> tuple[float, float]:
    """(uncovered area, overlapping area) of `cells` against `district`, in square metres.

    The pieces are found in lon/lat, where district and cells share their exact edges (re-projecting
    both would bend long edges differently and invent slivers); their areas are measured in metres.
    """
    uncovered = shapely.difference(district, shapely.union_all(list(cells)))
    overlaps = [
        shapely.intersection(a, b) for i, a in enumerate(cells) for b in cells[i + 1 :] if a.intersects(b)
    ]
    overlap_m2 = sum(float(to_metric(o).area) for o in overlaps)
    return float(to_metric(uncovered).area), overlap_m2
