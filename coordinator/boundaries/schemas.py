"""Request and response schemas of the boundary API (they also generate its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from coordinator.geojson import CollectionType, FeatureType, Geometry
from coordinator.validation import QueryModel

Level = Literal["district", "town", "custom"]


class BoundaryQuery(QueryModel):
    """Filters for the boundary list."""

    level: Level | None = Field(default=None, description="Only areas of this level.")
    member: bool | None = Field(default=None, description="Only alliance members (true) or others (false).")


class BoundaryProperties(BaseModel):
    """Properties of a boundary feature."""

    code: str = Field(description="GB/T 2260 adcode (district 6 digits, town 9) or a custom code.")
    name: str = Field(description="Chinese name, e.g. 奉贤区.")
    name_en: str | None = Field(description="English name.")
    level: Level
    parent: str | None = Field(description="Code of the enclosing area.")
    member: bool = Field(description="Whether the area is an alliance member (奉贤, 金山, 松江, 浦东).")
    approximate: bool = Field(description="True for demo jurisdictions that are not official polygons.")
    version: int = Field(description="Version of this area; a boundary change adds a new version.")
    valid_from: datetime
    source: str


class BoundaryFeature(BaseModel):
    """One administrative area as a GeoJSON Feature (id = code)."""

    type: FeatureType
    id: str
    properties: BoundaryProperties
    geometry: Geometry


class BoundaryCollection(BaseModel):
    """Administrative areas in force, as a GeoJSON FeatureCollection."""

    type: CollectionType
    generation: int | None = Field(description="The boundary generation these areas belong to.")
    features: list[BoundaryFeature]


class BorderQuery(QueryModel):
    """Filters for the shared-border list."""

    members_only: bool = Field(
        default=True, description="Only borders between two alliance members (default) or all of them."
    )


class BorderProperties(BaseModel):
    """Properties of a shared-border feature."""

    pair: tuple[str, str] = Field(description="The two district codes, lower first.")
    names: tuple[str, str] = Field(description="The two districts' Chinese names.")
    both_members: bool
    length_m: float = Field(description="Length of the shared border in metres.")
    generation: int


class BorderFeature(BaseModel):
    """The shared border between two districts as a GeoJSON (Multi)LineString feature."""

    type: FeatureType
    id: str
    properties: BorderProperties
    geometry: Geometry


class BorderCollection(BaseModel):
    """Shared borders between districts, as a GeoJSON FeatureCollection."""

    type: CollectionType
    features: list[BorderFeature]


class BorderZoneProperties(BaseModel):
    """Properties of a border-zone feature."""

    pair: tuple[str, str] = Field(description="The two member district codes, lower first.")
    names: tuple[str, str]
    width_m: float = Field(description="Zone width on each side of the border, metres.")
    area_m2: float
    generation: int


class BorderZoneFeature(BaseModel):
    """One member pair's border zone as a GeoJSON MultiPolygon feature."""

    type: FeatureType
    id: str
    properties: BorderZoneProperties
    geometry: Geometry


class BorderZoneCollection(BaseModel):
    """The border zones in force, as a GeoJSON FeatureCollection."""

    type: CollectionType
    features: list[BorderZoneFeature]
