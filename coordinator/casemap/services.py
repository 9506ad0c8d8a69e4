"""The case layer of the map (`GET /api/v1/map/clusters`): what a map view of any size can draw at once.

At low zoom the layer is clusters: the cases counted per grid cell (and status) in the database, so an
answer holds at most MAX_CELLS clusters however many cases match; at high zoom (SINGLE_CASE_ZOOM and
closer) the cases themselves, newest first, at most CASE_CAP of them — the case list's first page of that
size, with its filters (coordinator.cases.queries.case_conditions).

Cells: a web-map tile (256 px) spans 360 / 2^zoom degrees of longitude; a cell is a quarter of that
(64 px), square in degrees (at Shanghai's latitude a cell is about 1.17 times as tall as wide on screen).
Cell (i, j) of a zoom holds the points with floor((lon + 180) / size) = i and floor((lat + 90) / size) = j.
Clusters are whole cells: every cell the box touches, with all its cases (also those just outside the
box), so a cluster's count does not change as the map pans and the cells of a zoom are unions of cells
of the next. A cluster's point is the mean position of its cases.

Where the counts come from: up to FINE_ZOOM, filtered by status or not at all, from the count table
`case_map_cell` (coordinator/casemap/models.py: cases per zoom-13 cell × status, kept by triggers),
summed over the fine cells of each cell — a zoom-z cell is exactly the fine cells
whose indices shifted right by 13 − z give its own, since the cell sides are powers of two apart. Else
one GROUP BY over case_file (the case list's conditions, with the box widened to the cells it touches).
Both give the same answer (tests/casemap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from math import floor

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from coordinator.casemap.models import FINE_ZOOM, CaseMapCell
from coordinator.cases.models import Case
from coordinator.cases.queries import CaseFilter, case_conditions, list_cases
from coordinator.geojson import Bbox

MAX_ZOOM = 22
SINGLE_CASE_ZOOM = 16  # from here on (cells under ~150 m) the cases themselves
CELLS_PER_TILE = 4  # 64-px cells on 256-px tiles
CASE_CAP = 500  # single cases per answer (the case list's largest page)
MAX_CELLS = 128 * 128  # cells a box may span at its zoom: a screen of 8,192 px square


def cell_size(zoom: int) -> float:
    """The side of a cluster cell at `zoom`, in degrees."""
    return 360.0 / float(2**zoom * CELLS_PER_TILE)


@dataclass(frozen=True)
class CellRange:
    """The cells of one zoom a box touches: columns and rows, first and last included."""

    zoom: int
    first_column: int
    last_column: int
    first_row: int
    last_row: int

    @classmethod
    def of(cls, bbox: Bbox, zoom: int) -> CellRange:
        """The cells of `zoom` that the box (not crossing the antimeridian) touches."""
        size = cell_size(zoom)
        return cls(
            zoom,
            floor((bbox.west + 180.0) / size),
            floor((bbox.east + 180.0) / size),
            floor((bbox.south + 90.0) / size),
            floor((bbox.north + 90.0) / size),
        )

    @property
    def count(self) -> int:
        """How many cells."""
        return (self.last_column - self.first_column + 1) * (self.last_row - self.first_row + 1)

    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the cells together."""
        size = cell_size(self.zoom)
        return (
            self.first_column * size - 180.0,
            self.first_row * size - 90.0,
            (self.last_column + 1) * size - 180.0,
            (self.last_row + 1) * size - 90.0,
        )


def cells_spanned(bbox: Bbox, zoom: int) -> int:
    """How many cells of `zoom` the box touches (a box not crossing the antimeridian)."""
    return CellRange.of(bbox, zoom).count


def shows_single_cases(zoom: int) -> bool:
    """Whether the layer at `zoom` is single cases (else clusters)."""
    return zoom >= SINGLE_CASE_ZOOM


@dataclass
class Cluster:
    """The cases of one grid cell inside the box."""

    column: int
    row: int
    count: int = 0
    lon_sum: float = 0.0
    lat_sum: float = 0.0
    status_counts: dict[str, int] = field(default_factory=dict)

    @property
    def lon(self) -> float:
        """Mean longitude of its cases."""
        return self.lon_sum / self.count

    @property
    def lat(self) -> float:
        """Mean latitude of its cases."""
        return self.lat_sum / self.count

    def cell(self, size: float) -> tuple[float, float, float, float]:
        """The cell as west, south, east, north."""
        west, south = self.column * size - 180.0, self.row * size - 90.0
        return west, south, west + size, south + size


def _cell_index(column: QueryableAttribute[float], offset: float, size: float) -> ColumnElement[float]:
    return func.floor((column + offset) / size)


def uses_count_table(flt: CaseFilter, zoom: int) -> bool:
    """Whether case_map_cell can answer: it counts by cell and status only."""
    return (
        zoom <= FINE_ZOOM
        and flt.category is None
        and flt.border_pair is None
        and flt.created_from is None
        and flt.created_to is None
        and flt.squad is None
        and flt.district is None
        and flt.in_border_zone is None
    )


def clusters(session: Session, flt: CaseFilter, zoom: int) -> list[Cluster]:
    """The cases matching `flt` in the cells of `zoom` that its bbox touches, per cell, in SQL."""
    assert flt.bbox is not None
    cells = CellRange.of(flt.bbox, zoom)
    rows = (
        _from_count_table(session, flt, cells)
        if uses_count_table(flt, zoom)
        else _from_cases(session, flt, cells)
    )
    found: dict[tuple[int, int], Cluster] = {}
    for col, row_, status, count, lon_sum, lat_sum in rows:
        key = (int(col), int(row_))
        cluster = found.get(key) or found.setdefault(key, Cluster(*key))
        cluster.count += count
        cluster.lon_sum += lon_sum
        cluster.lat_sum += lat_sum
        cluster.status_counts[status] = count
    return sorted(found.values(), key=lambda c: (c.row, c.column))


Row = tuple[float, float, str, int, float, float]


def _from_count_table(session: Session, flt: CaseFilter, cells: CellRange) -> Sequence[Row]:
    shift = 2 ** (FINE_ZOOM - cells.zoom)
    column = (CaseMapCell.cell_x // shift).label("col")
    row = (CaseMapCell.cell_y // shift).label("row")
    stmt = (
        select(
            column,
            row,
            CaseMapCell.status,
            func.sum(CaseMapCell.count),
            func.sum(CaseMapCell.lon_sum),
            func.sum(CaseMapCell.lat_sum),
        )
        .where(
            CaseMapCell.cell_y.between(cells.first_row * shift, (cells.last_row + 1) * shift - 1),
            CaseMapCell.cell_x.between(cells.first_column * shift, (cells.last_column + 1) * shift - 1),
        )
        .group_by(column, row, CaseMapCell.status)
    )
    if flt.status:
        stmt = stmt.where(CaseMapCell.status.in_(list(flt.status)))
    return [tuple(r) for r in session.execute(stmt)]


# Widening the box to its cells by a hair more lets no point of an edge cell slip past the box test on
# a rounding difference; the cell indices then decide exactly.
_HAIR = 1e-9


def _from_cases(session: Session, flt: CaseFilter, cells: CellRange) -> Sequence[Row]:
    size = cell_size(cells.zoom)
    column = _cell_index(Case.lon, 180.0, size).label("col")
    row = _cell_index(Case.lat, 90.0, size).label("row")
    west, south, east, north = cells.bounds()
    widened = replace(flt, bbox=Bbox(west - _HAIR, south - _HAIR, east + _HAIR, north + _HAIR))
    stmt = (
        select(column, row, Case.status, func.count(), func.sum(Case.lon), func.sum(Case.lat))
        .where(
            *case_conditions(session, widened),
            column.between(cells.first_column, cells.last_column),
            row.between(cells.first_row, cells.last_row),
        )
        .group_by(column, row, Case.status)
    )
    return [tuple(r) for r in session.execute(stmt)]  # type: ignore[misc]


def single_cases(session: Session, flt: CaseFilter) -> tuple[Sequence[Case], int]:
    """The newest CASE_CAP cases matching `flt` and how many match in all."""
    return list_cases(session, flt, page=1, per_page=CASE_CAP)
