"""Schemas of squads: the import records (file → squad) and the API's requests and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coordinator.geojson import CollectionType, FeatureType, Geometry
from coordinator.validation import PatchModel, QueryModel

CategoryCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]

CODE_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"


class SquadIn(BaseModel):
    """One squad in an import file (JSON list / `{"squads": [...]}`, or GeoJSON feature properties)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=CODE_PATTERN, description="Stable squad code, e.g. SQ-310120118.")
    name_zh: str = Field(min_length=1, max_length=100, description="Chinese name, e.g. 柘林中队.")
    name_en: str | None = Field(default=None, max_length=100)
    district: str = Field(description="Member district code: 310115, 310116, 310117 or 310120.")
    jurisdiction: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="Code of the town/custom boundary it covers."
    )
    categories: list[str] = Field(default_factory=list, description="Category codes; empty = all.")
    night_capacity: int = Field(default=2, ge=0, le=7, description="Max joint night patrols per week.")
    contact_channel: str = Field(default="", max_length=200, description="How the squad is reached.")
    active: bool = True
    dispatch_unit: str | None = Field(
        default=None, description="Dispatch unit code; default: the district's."
    )


class SquadFeatureIn(SquadIn):
    """Properties of a GeoJSON squad feature: a squad plus the jurisdiction polygon it brings."""

    jurisdiction_name: str | None = Field(default=None, max_length=100)
    jurisdiction_name_en: str | None = Field(default=None, max_length=100)
    jurisdiction_level: Literal["town", "custom"] = "custom"
    approximate: bool = False


class SquadQuery(QueryModel):
    """Filters for the squad list."""

    district: str | None = Field(default=None, description="Only squads of this district.")
    active: bool | None = Field(default=True, description="Active squads (default), inactive, or all.")
    geometry: bool = Field(default=True, description="Include jurisdiction polygons (false: null geometry).")


class SquadPatch(PatchModel):
    """Changes to a squad by its dispatcher or an admin (omitted fields stay as they are)."""

    active: bool | None = None
    categories: list[CategoryCode] | None = Field(
        default=None,
        max_length=100,
        description="Category codes from GET /api/v1/categories (unknown codes: 422 unknown_category); "
        "empty = all.",
    )
    night_capacity: int | None = Field(default=None, ge=0, le=7)
    contact_channel: str | None = Field(default=None, max_length=200)


class DistrictRef(BaseModel):
    """A district by code and name."""

    code: str
    name: str


class JurisdictionRef(BaseModel):
    """The boundary a squad covers."""

    code: str
    name: str
    name_en: str | None
    level: str
    version: int
    approximate: bool = Field(description="True for demo jurisdictions (Voronoi cells of town seats).")
    label: str | None = Field(description="`近似 approximate` when approximate, else null.")


class DispatchUnitRef(BaseModel):
    """A dispatch desk."""

    code: str
    name: str
    name_en: str | None
    level: Literal["district", "alliance"]
    district: str | None
    contact_channel: str


class SquadProperties(BaseModel):
    """Properties of a squad feature."""

    code: str
    name: str
    name_en: str | None
    district: DistrictRef
    dispatch_unit: str
    jurisdiction: JurisdictionRef | None
    approximate: bool = Field(description="Whether the squad's territory is approximate (demo data).")
    categories: list[str] = Field(description="Category codes handled; empty = all.")
    night_capacity: int
    contact_channel: str
    active: bool


class SquadFeature(BaseModel):
    """A squad as a GeoJSON Feature whose geometry is its jurisdiction (null if it has none)."""

    type: FeatureType
    id: str
    properties: SquadProperties
    geometry: Geometry | None


class SquadCollection(BaseModel):
    """Squads as a GeoJSON FeatureCollection."""

    type: CollectionType
    features: list[SquadFeature]


class DispatchUnitList(BaseModel):
    """Dispatch desks."""

    dispatch_units: list[DispatchUnitRef]
