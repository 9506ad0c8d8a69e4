"""The point locator: "this point — whose is it, and is it in a 交界地带?" in microseconds.

Built once per boundary generation from plain shapely geometries (no database, no Flask) and then
only read, so request threads can share one instance without locks.

How it is fast: a coarse lon/lat grid (default 0.002°, ~200 m) over the covered area. Each cell that
no district boundary passes through is wholly inside one district (or none), so its answer is a list
lookup; the same holds for zone boundaries. Only points in cells that a boundary crosses ("mixed",
a few percent of the area) go to an exact point-in-polygon test against the few candidate polygons
of that cell. A cell is marked mixed when a boundary vertex, after densifying the boundary to half a
cell, lies in it or in one of its 8 neighbours — a conservative test: every cell a boundary crosses
has such a vertex within one cell of it.

Distances (to the nearest border with another district) need a projection and are computed only when
asked, in the metric projection of `geo.metric`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiLineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from geo.adjacency import shared_borders
from geo.metric import project_point, to_metric
from geo.zones import border_zone

Outcome = Literal["member", "outside_alliance", "outside_coverage"]
NONE = -1
MIXED = -2
IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AreaInfo:
    """A district as the locator reports it."""

    code: str
    name_zh: str
    name_en: str | None
    member: bool


@dataclass(frozen=True)
class TownInfo:
    """A town / jurisdiction polygon (official or approximate demo)."""

    code: str
    name_zh: str
    parent_code: str | None
    approximate: bool


@dataclass(frozen=True)
class BorderZoneInfo:
    """A member-pair border zone."""

    code_a: str
    code_b: str
    width_m: float


@dataclass(frozen=True)
class LocatorInput:
    """Everything the locator is built from; `key` identifies the boundary version it reflects."""

    key: Hashable
    districts: Sequence[tuple[AreaInfo, MultiPolygon]]
    borders: Sequence[tuple[str, str, MultiLineString]]
    zones: Sequence[tuple[BorderZoneInfo, MultiPolygon]]
    towns: Sequence[tuple[TownInfo, MultiPolygon]] = ()
    generation: int | None = None  # the boundary generation, reported with every answer


@dataclass(frozen=True)
class Location:
    """The answer for one point (WGS-84 lon/lat)."""

    lon: float
    lat: float
    outcome: Outcome
    district: AreaInfo | None
    town: TownInfo | None
    on_border: bool
    border_distance_m: float | None
    nearest_other_district: AreaInfo | None
    in_border_zone: bool
    border_pair: tuple[str, str] | None
    zone_width_m: float | None = None


@dataclass(frozen=True)
class BatchResult:
    """Vectorised answers: indexes into `Locator.districts` / `Locator.zones`, −1 for none."""

    district_index: IntArray
    zone_index: IntArray
    locator: Locator = field(repr=False)

    def district_codes(self) -> npt.NDArray[np.object_]:
        """District code per point (None outside coverage)."""
        codes = np.array([d.code for d in self.locator.districts] + [None], dtype=object)
        return codes[self.district_index]  # −1 picks the trailing None

    def outcomes(self) -> npt.NDArray[np.object_]:
        """`member` / `outside_alliance` / `outside_coverage` per point."""
        kinds = np.array(
            [("member" if d.member else "outside_alliance") for d in self.locator.districts]
            + ["outside_coverage"],
            dtype=object,
        )
        return kinds[self.district_index]

    @property
    def in_border_zone(self) -> npt.NDArray[np.bool_]:
        """Whether each point lies in a member border zone."""
        return self.zone_index >= 0


def _classify(
    polygons: Sequence[BaseGeometry],
    origin: tuple[float, float],
    size: float,
    ci: npt.NDArray[np.int64],
    cj: npt.NDArray[np.int64],
    index_of: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.int64]],
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Classify lattice cells (ci, cj) of side `size`: the polygon holding each cell whole, or MIXED.

    Returns (values, candidates): candidates[k, n] says polygon k must be tested exactly in cell n.
    A cell is mixed when a polygon's boundary, densified to half a cell, has a vertex in it or in one
    of its 8 neighbours (so every cell a boundary crosses is caught), or when several polygons hold
    its centre. `allowed[k, n]` limits which polygons can matter in cell n (the parent's candidates).
    """
    x0, y0 = origin
    n = ci.size
    cx, cy = x0 + (ci + 0.5) * size, y0 + (cj + 0.5) * size
    candidates = np.zeros((len(polygons), n), dtype=bool)
    holds_centre = np.zeros((len(polygons), n), dtype=bool)
    for k, poly in enumerate(polygons):
        sel = slice(None) if allowed is None else np.flatnonzero(allowed[k])
        holds_centre[k, sel] = shapely.contains_xy(poly, cx[sel], cy[sel])
        xy = shapely.get_coordinates(shapely.segmentize(poly.boundary, size / 2))
        bi = np.floor((xy[:, 0] - x0) / size).astype(np.int64)
        bj = np.floor((xy[:, 1] - y0) / size).astype(np.int64)
        near = np.concatenate([index_of(bi + dx, bj + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
        candidates[k, near[near >= 0]] = True
    if allowed is not None:
        candidates &= allowed
    mixed = candidates.any(axis=0) | (holds_centre.sum(axis=0) > 1)
    # In a mixed cell every polygon holding the centre is a candidate too: another polygon's boundary
    # may cross the cell while this one covers it whole (overlapping zones, slivers).
    candidates |= holds_centre & mixed
    values = np.where(holds_centre.any(axis=0), holds_centre.argmax(axis=0), NONE).astype(np.int32)
    values[mixed] = MIXED
    candidates[:, ~mixed] = False
    return values, candidates


class _Grid:
    """A two-level lookup grid for one family of polygons (districts or zones).

    Level 1 covers the area with cells of `cell` degrees; each mixed level-1 cell is split into
    `split` × `split` level-2 cells, so only points very close to a boundary (about 1–2 % of
    Shanghai's bounding box) need an exact point-in-polygon test.
    """

    def __init__(
        self,
        polygons: Sequence[BaseGeometry],
        bounds: tuple[float, float, float, float],
        cell: float,
        split: int = 4,
    ) -> None:
        # Plain Python floats: numpy scalars would make every scalar lookup ~20x slower.
        x0, y0, x1, y1 = (float(v) for v in bounds)
        self.x0, self.y0, self.cell, self.split = x0, y0, float(cell), split
        self.inv = 1.0 / cell
        self.inv2 = split / cell
        self.nx = nx = max(1, math.ceil((x1 - x0) / cell))
        self.ny = ny = max(1, math.ceil((y1 - y0) / cell))
        i1 = np.tile(np.arange(nx, dtype=np.int64), ny)
        j1 = np.repeat(np.arange(ny, dtype=np.int64), nx)

        def level1_index(i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            return np.where((i >= 0) & (i < nx) & (j >= 0) & (j < ny), j * nx + i, -1)

        values, candidates = _classify(polygons, (x0, y0), cell, i1, j1, level1_index, None)
        mixed = np.flatnonzero(values == MIXED)
        self.ordinal = np.full(nx * ny, -1, dtype=np.int64)
        self.ordinal[mixed] = np.arange(mixed.size)
        per = split * split
        si, sj = np.tile(np.arange(split), split), np.repeat(np.arange(split), split)
        i2 = (i1[mixed, None] * split + si[None, :]).ravel()
        j2 = (j1[mixed, None] * split + sj[None, :]).ravel()

        def level2_index(i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            parent = level1_index(i // split, j // split)
            ordinal = np.where(parent >= 0, self.ordinal[np.maximum(parent, 0)], -1)
            return np.where(ordinal >= 0, ordinal * per + (j % split) * split + (i % split), -1)

        allowed = np.repeat(candidates[:, mixed], per, axis=1)
        values2, candidates2 = _classify(polygons, (x0, y0), cell / split, i2, j2, level2_index, allowed)
        self.values: IntArray = values
        self.values2: IntArray = values2
        self.candidates2 = candidates2
        self.value_list: list[int] = values.tolist()
        self.ordinal_list: list[int] = self.ordinal.tolist()
        self.value2_list: list[int] = values2.tolist()
        self.candidate_lists: dict[int, tuple[int, ...]] = {
            int(c): tuple(int(k) for k in np.flatnonzero(candidates2[:, c]))
            for c in np.flatnonzero(values2 == MIXED)
        }

    def fine_cell(self, x: float, y: float, c: int) -> int:
        """The level-2 cell of a point in mixed level-1 cell `c`."""
        i, j = c % self.nx, c // self.nx
        s = self.split
        fi = min(max(int((x - self.x0) * self.inv2) - i * s, 0), s - 1)
        fj = min(max(int((y - self.y0) * self.inv2) - j * s, 0), s - 1)
        return self.ordinal_list[c] * s * s + fj * s + fi

    def cell_of(self, x: float, y: float) -> int:
        """The level-1 cell index of a point, or −1 outside the grid."""
        i = int((x - self.x0) * self.inv)
        j = int((y - self.y0) * self.inv)
        if x < self.x0 or y < self.y0 or i >= self.nx or j >= self.ny:
            return -1
        return j * self.nx + i

    def cells_of(self, x: FloatArray, y: FloatArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Level-1 cell indexes of many points and which of them fall inside the grid."""
        i = np.floor((x - self.x0) * self.inv).astype(np.int64)
        j = np.floor((y - self.y0) * self.inv).astype(np.int64)
        ok = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        return np.where(ok, j * self.nx + i, 0), ok

    def fine_cells_of(
        self, x: FloatArray, y: FloatArray, cells: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Level-2 cell indexes of points lying in mixed level-1 `cells`."""
        s = self.split
        fi = np.clip(np.floor((x - self.x0) * self.inv2).astype(np.int64) - (cells % self.nx) * s, 0, s - 1)
        fj = np.clip(np.floor((y - self.y0) * self.inv2).astype(np.int64) - (cells // self.nx) * s, 0, s - 1)
        return np.asarray(self.ordinal[cells] * s * s + fj * s + fi, dtype=np.int64)


class _Segments:
    """A district's shared-border lines as arrays of metric segments, for point-to-border distances.

    Each border part keeps its bounding box: parts are measured nearest-box-first, and a part whose box
    is farther than the best distance found so far is skipped, so a query usually runs one vectorised
    pass over one part. That beats shapely's scalar `distance` per line plus a Point per query (mostly
    per-call overhead).
    """

    def __init__(self, parts: Sequence[tuple[FloatArray, int]]) -> None:
        start = np.concatenate([c[:-1] for c, _ in parts])
        end = np.concatenate([c[1:] for c, _ in parts])
        d = end - start
        self.x1, self.y1, self.dx, self.dy = start[:, 0], start[:, 1], d[:, 0], d[:, 1]
        self.length2 = np.maximum((d**2).sum(axis=1), 1e-12)
        self.parts: list[tuple[float, float, float, float, int, int, int]] = []
        offset = 0
        for coords, other in parts:
            n = len(coords) - 1
            (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
            self.parts.append((float(x0), float(y0), float(x1), float(y1), offset, offset + n, other))
            offset += n

    @classmethod
    def of(cls, lines: Sequence[tuple[int, BaseGeometry]]) -> _Segments | None:
        """Segments of the given (other district, metric line) pairs; None when there are none."""
        parts: list[tuple[FloatArray, int]] = []
        for other, line in lines:
            for part in shapely.get_parts(line):
                coords = shapely.get_coordinates(part)
                if len(coords) >= 2:
                    parts.append((coords, other))
        return cls(parts) if parts else None

    def nearest(self, x: float, y: float) -> tuple[int, float]:
        """(other district index, distance in metres) of the border nearest to (x, y)."""
        bounds = sorted(
            (math.hypot(max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1)), lo, hi, other)
            for x0, y0, x1, y1, lo, hi, other in self.parts
        )
        best, best_owner = math.inf, -1
        for lower, lo, hi, other in bounds:
            if lower >= best:
                break
            x1, y1, dx, dy = self.x1[lo:hi], self.y1[lo:hi], self.dx[lo:hi], self.dy[lo:hi]
            t = np.clip(((x - x1) * dx + (y - y1) * dy) / self.length2[lo:hi], 0.0, 1.0)
            ex, ey = x1 + t * dx - x, y1 + t * dy - y
            distance = math.sqrt(float((ex * ex + ey * ey).min()))
            # ties go to the lower district index: deterministic
            if distance < best or (distance == best and other < best_owner):
                best, best_owner = distance, other
        return best_owner, best


class Locator:
    """Answers point queries against one boundary version. Immutable once built; thread-safe to read."""

    def __init__(self, data: LocatorInput, *, cell_deg: float = 0.002) -> None:
        self.key = data.key
        self.generation = data.generation
        order = sorted(range(len(data.districts)), key=lambda i: data.districts[i][0].code)
        self.districts: list[AreaInfo] = [data.districts[i][0] for i in order]
        self._district_polys: list[MultiPolygon] = [data.districts[i][1] for i in order]
        self.zones: list[BorderZoneInfo] = [z for z, _ in data.zones]
        self._zone_polys: list[MultiPolygon] = [g for _, g in data.zones]
        for geom in (*self._district_polys, *self._zone_polys):
            shapely.prepare(geom)
        self._index = {d.code: k for k, d in enumerate(self.districts)}

        # Borders per district, in metres, for distances; zone borders for resolving zone overlaps.
        self._borders_of: list[list[tuple[int, BaseGeometry]]] = [[] for _ in self.districts]
        metric_border: dict[tuple[str, str], BaseGeometry] = {}
        for code_a, code_b, line in data.borders:
            if code_a not in self._index or code_b not in self._index:
                continue
            m = to_metric(line)
            shapely.prepare(m)
            metric_border[(code_a, code_b)] = m
            self._borders_of[self._index[code_a]].append((self._index[code_b], m))
            self._borders_of[self._index[code_b]].append((self._index[code_a], m))
        self._zone_lines: list[BaseGeometry | None] = [
            metric_border.get((z.code_a, z.code_b)) for z in self.zones
        ]
        self._segments = [_Segments.of(lines) for lines in self._borders_of]

        self._towns = sorted(data.towns, key=lambda t: t[0].code)
        self._town_polys = [g for _, g in self._towns]
        for geom in self._town_polys:
            shapely.prepare(geom)
        self._town_metric = [to_metric(g) for g in self._town_polys]

        if self._district_polys:
            bounds = shapely.total_bounds(self._district_polys)
            pad = cell_deg
            grid_bounds = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
        else:
            grid_bounds = (0.0, 0.0, cell_deg, cell_deg)
        self._dgrid = _Grid(self._district_polys, grid_bounds, cell_deg)
        self._zgrid = _Grid(self._zone_polys, grid_bounds, cell_deg)
        self._tgrid = _Grid(self._town_polys, grid_bounds, cell_deg) if self._towns else None
        # Both grids share one geometry. Scalar lookups read one byte per cell (district and zone packed
        # together) from a compact `bytes` object: random access into ~0.4 MB stays in the CPU cache,
        # where a list of tuples (~25 MB of scattered objects) costs a cache miss per lookup.
        self._x0, self._y0, self._inv = self._dgrid.x0, self._dgrid.y0, self._dgrid.inv
        self._nx, self._ny = self._dgrid.nx, self._dgrid.ny
        if len(self.districts) > 29 or len(self.zones) > 5:
            raise ValueError("the packed grid holds at most 29 districts and 5 zones per grid")
        packed = (self._dgrid.values + 2) * 8 + (self._zgrid.values + 2)
        self._codes: bytes = packed.astype(np.uint8).tobytes()
        self._decode: list[tuple[int, int]] = [(v // 8 - 2, v % 8 - 2) for v in range(256)]

    # -- single points -------------------------------------------------------------------------

    def district_and_zone(self, lon: float, lat: float) -> tuple[int, int]:
        """Indexes of the district and member border zone holding the point (−1 for none)."""
        # The hot path of every request: plain arithmetic and one list lookup for ~95 % of points.
        if lon < self._x0 or lat < self._y0:
            return NONE, NONE
        i = int((lon - self._x0) * self._inv)
        j = int((lat - self._y0) * self._inv)
        if i >= self._nx or j >= self._ny:
            return NONE, NONE
        c = j * self._nx + i
        d, z = self._decode[self._codes[c]]
        if d == MIXED:
            f = self._dgrid.fine_cell(lon, lat, c)
            d = self._dgrid.value2_list[f]
            if d == MIXED:
                d = self._exact(self._district_polys, self._dgrid.candidate_lists[f], lon, lat)
        if z == MIXED:
            f = self._zgrid.fine_cell(lon, lat, c)
            z = self._zgrid.value2_list[f]
            if z == MIXED:
                z = self._exact_zone(self._zgrid.candidate_lists[f], lon, lat)
        return d, z

    @staticmethod
    def _exact(polys: Sequence[BaseGeometry], candidates: tuple[int, ...], lon: float, lat: float) -> int:
        # Candidates are in code order; `intersects` counts boundary points, so a point exactly on a
        # border deterministically goes to the lower code.
        for k in candidates:
            if shapely.intersects_xy(polys[k], lon, lat):
                return k
        return NONE

    def _exact_zone(self, candidates: tuple[int, ...], lon: float, lat: float) -> int:
        inside = [k for k in candidates if shapely.intersects_xy(self._zone_polys[k], lon, lat)]
        if len(inside) <= 1:
            return inside[0] if inside else NONE
        # Zones overlap near a tripoint: the point belongs to the pair whose border is nearest.
        point = Point(*project_point(lon, lat))
        return min(inside, key=lambda k: self._zone_distance(k, point))

    def _zone_distance(self, k: int, point: Point) -> float:
        line = self._zone_lines[k]
        return float(shapely.distance(line, point)) if line is not None else math.inf

    def locate(self, lon: float, lat: float, *, with_distance: bool = True) -> Location:
        """Everything known about one WGS-84 point. Distances cost ~tens of µs; skip them if unneeded."""
        d, z = self.district_and_zone(lon, lat)
        district = self.districts[d] if d >= 0 else None
        on_border = False
        if d >= 0 and self._dgrid.value_list[self._dgrid.cell_of(lon, lat)] == MIXED:
            # Only cells a boundary crosses can hold a point on the boundary.
            on_border = not shapely.contains_xy(self._district_polys[d], lon, lat)
        distance: float | None = None
        nearest: AreaInfo | None = None
        if with_distance and d >= 0 and self._segments[d] is not None:
            other, distance = self._segments[d].nearest(*project_point(lon, lat))  # type: ignore[union-attr]
            nearest = self.districts[other]
            distance = round(distance, 1)
        zone = self.zones[z] if z >= 0 else None
        outcome: Outcome = (
            "outside_coverage" if district is None else ("member" if district.member else "outside_alliance")
        )
        return Location(
            lon=lon,
            lat=lat,
            outcome=outcome,
            district=district,
            town=self._town_at(lon, lat, district),
            on_border=on_border,
            border_distance_m=distance,
            nearest_other_district=nearest,
            in_border_zone=zone is not None,
            border_pair=(zone.code_a, zone.code_b) if zone else None,
            zone_width_m=zone.width_m if zone else None,
        )

    def _town_at(self, lon: float, lat: float, district: AreaInfo | None) -> TownInfo | None:
        grid = self._tgrid
        if grid is None or district is None:
            return None
        c = grid.cell_of(lon, lat)
        t = grid.value_list[c] if c >= 0 else NONE
        if t == MIXED:
            f = grid.fine_cell(lon, lat, c)
            t = grid.value2_list[f]
            if t == MIXED:
                t = self._exact(self._town_polys, grid.candidate_lists[f], lon, lat)
        return self._towns[t][0] if t >= 0 else None

    def nearest_towns(self, lon: float, lat: float, parent_code: str) -> list[tuple[TownInfo, float]]:
        """Towns/jurisdictions of one district, nearest first, with their distance in metres."""
        point = Point(*project_point(lon, lat))
        found = [
            (info, round(float(shapely.distance(self._town_metric[i], point)), 1))
            for i, (info, _) in enumerate(self._towns)
            if info.parent_code == parent_code
        ]
        return sorted(found, key=lambda t: (t[1], t[0].code))

    def in_coverage(self, lon: float, lat: float) -> bool:
        """Whether any district holds the point."""
        return self.district_and_zone(lon, lat)[0] >= 0

    # -- many points ---------------------------------------------------------------------------

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> BatchResult:
        """District and member-zone indexes for arrays of WGS-84 points (vectorised, no distances)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        cells, ok = self._dgrid.cells_of(x, y)
        districts = self._resolve(self._dgrid, self._district_polys, cells, ok, x, y)
        zones = self._resolve(self._zgrid, self._zone_polys, cells, ok, x, y)
        return BatchResult(districts, zones, self)

    def _resolve(
        self,
        grid: _Grid,
        polys: Sequence[BaseGeometry],
        cells: npt.NDArray[np.int64],
        ok: npt.NDArray[np.bool_],
        x: FloatArray,
        y: FloatArray,
    ) -> IntArray:
        out = np.where(ok, grid.values[cells], NONE).astype(np.int32)
        level2 = np.flatnonzero(out == MIXED)
        if level2.size == 0:
            return out
        fine = grid.fine_cells_of(x[level2], y[level2], cells[level2])
        out[level2] = grid.values2[fine]
        exact = out[level2] == MIXED
        mixed, mcells = level2[exact], fine[exact]
        if mixed.size == 0:
            return out
        out[mixed] = NONE
        hits = np.zeros(mixed.size, dtype=np.int32)
        for k in range(len(polys)):
            idx = np.flatnonzero(grid.candidates2[k, mcells])
            if idx.size == 0:
                continue
            inside = shapely.intersects_xy(polys[k], x[mixed[idx]], y[mixed[idx]])
            first = inside & (out[mixed[idx]] == NONE)
            out[mixed[idx[first]]] = k
            hits[idx[inside]] += 1
        if polys is self._zone_polys and (hits > 1).any():
            for i, f in zip(mixed[hits > 1], mcells[hits > 1], strict=True):
                out[i] = self._exact_zone(grid.candidate_lists[int(f)], float(x[i]), float(y[i]))
        return out


def input_from_districts(
    districts: Sequence[tuple[AreaInfo, MultiPolygon]],
    *,
    zone_width_m: float = 500.0,
    pair_widths: dict[tuple[str, str], float] | None = None,
    snap_m: float = 20.0,
    key: Hashable = "adhoc",
) -> LocatorInput:
    """Compute shared borders and member border zones from district polygons alone.

    The service stores these per boundary generation; benchmarks and tests build them directly.
    """
    shapes = {info.code: geom for info, geom in districts}
    members = {info.code for info, _ in districts if info.member}
    borders = shared_borders(shapes, snap_m=snap_m)
    zones: list[tuple[BorderZoneInfo, MultiPolygon]] = []
    for b in borders:
        if b.code_a in members and b.code_b in members:
            width = (pair_widths or {}).get((b.code_a, b.code_b), zone_width_m)
            zone, _area = border_zone(shapes[b.code_a], shapes[b.code_b], b.line, width)
            zones.append((BorderZoneInfo(b.code_a, b.code_b, width), zone))
    return LocatorInput(
        key=key,
        districts=list(districts),
        borders=[(b.code_a, b.code_b, b.line) for b in borders],
        zones=zones,
    )
