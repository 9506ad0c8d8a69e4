"""Schemas of the case map's layer (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from coordinator.casemap.services import CASE_CAP, MAX_CELLS, MAX_ZOOM, SINGLE_CASE_ZOOM
from coordinator.cases.schemas import (
    BORDER_PAIR_HELP,
    BORDER_PAIR_PATTERN,
    CaseOut,
    Status,
    check_border_pair,
)
from coordinator.geojson import BBOX_PATTERN, Bbox, CollectionType, FeatureType, Geometry, Link
from coordinator.validation import QueryModel

MAP_BBOX_HELP = (
    "west,south,east,north in WGS-84 degrees (longitudes −180…180, latitudes −90…90; south and north in "
    "either order); cases on the edges are included. A box crossing the antimeridian (west > east) is "
    f"refused (422). Below zoom {SINGLE_CASE_ZOOM} the box may span at most {MAX_CELLS:,} cluster cells."
)


class MapQuery(QueryModel):
    """The map's view and the case list's filters."""

    bbox: str = Field(pattern=BBOX_PATTERN, description=MAP_BBOX_HELP)
    zoom: int = Field(
        ge=0,
        le=MAX_ZOOM,
        description=f"The map's zoom level (web-map tiles): clusters below {SINGLE_CASE_ZOOM}, single "
        "cases from there on.",
    )
    category: str | None = Field(default=None, max_length=16, description="Category code, e.g. `01-11`.")
    status: Status | None = None
    since: datetime | None = Field(default=None, description="Created at or after (RFC 3339).")
    until: datetime | None = Field(default=None, description="Created before (RFC 3339).")
    border: str | None = Field(default=None, pattern=BORDER_PAIR_PATTERN, description=BORDER_PAIR_HELP)

    @field_validator("bbox")
    @classmethod
    def _box(cls, value: str) -> str:
        west, south, east, north = (float(part) for part in value.split(","))
        if not (-180 <= west <= 180 and -180 <= east <= 180):
            raise ValueError("longitudes must lie in −180…180")
        if not (-90 <= south <= 90 and -90 <= north <= 90):
            raise ValueError("latitudes must lie in −90…90")
        if west > east:
            raise ValueError("west is greater than east: the case map takes no box across the antimeridian")
        return value

    @field_validator("border")
    @classmethod
    def _two_districts(cls, value: str | None) -> str | None:
        return check_border_pair(value)

    @property
    def box(self) -> Bbox:
        """The parsed bbox."""
        return Bbox.parse(self.bbox)


class ClusterProperties(BaseModel):
    """The cases of one grid cell inside the box."""

    cluster: Literal[True]
    count: int = Field(description="Cases of the cell inside the box matching the filters.")
    status_counts: dict[Status, int] = Field(
        description="Those cases per status (statuses with none left out)."
    )
    cell: tuple[float, float, float, float] = Field(
        description="The grid cell: west, south, east, north (zoom to it to split the cluster)."
    )


class ClusterFeature(BaseModel):
    """A cluster: a GeoJSON Point at the mean position of its cases."""

    type: FeatureType
    id: str = Field(description="`zoom/column/row` of the cell.")
    geometry: Geometry
    properties: ClusterProperties


class MapCaseProperties(CaseOut):
    """A single case: the case list's properties."""

    cluster: Literal[False]


class MapCaseFeature(BaseModel):
    """A single case as a GeoJSON Point feature."""

    type: FeatureType
    id: int
    geometry: Geometry
    properties: MapCaseProperties


class MapLayer(BaseModel):
    """The case layer of a map view: clusters, or single cases at high zoom."""

    type: CollectionType
    zoom: int
    mode: Literal["clusters", "cases"]
    cell_size: float | None = Field(description="Side of a cluster cell in degrees (null for single cases).")
    cells_bbox: tuple[float, float, float, float] | None = Field(
        description="Clusters: west, south, east, north of the cells the box touches, whose cases are all "
        "counted (clusters are whole cells); null for single cases."
    )
    total: int = Field(description="Cases counted: in those cells (clusters), or in the box (single cases).")
    truncated: bool = Field(
        description=f"Single cases only: more than {CASE_CAP} cases matched and the newest {CASE_CAP} are "
        "here; the `next` link continues in the GeoJSON case list."
    )
    features: list[ClusterFeature | MapCaseFeature]
    links: list[Link] = Field(description="`self`; `next` when truncated (also in `Link`).")
