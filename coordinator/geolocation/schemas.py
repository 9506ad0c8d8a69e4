"""Schemas of the geolocation API (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coordinator.geojson import CollectionType, FeatureType
from coordinator.validation import LATITUDE_SCHEMA, LONGITUDE_SCHEMA, Latitude, Longitude, QueryModel

CrsName = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
MAX_BATCH = 10_000

CRS_HELP = (
    "Coordinate system of the input: `wgs84` (GPS, 天地图; `cgcs2000` is the same), `gcj02` "
    "(高德, 腾讯) or `bd09` (百度). Converted to WGS-84 on entry."
)


class GeolocateQuery(QueryModel):
    """One point to locate."""

    lon: Longitude = Field(description="Longitude (经度), e.g. 121.45.")
    lat: Latitude = Field(description="Latitude (纬度), e.g. 30.92.")
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)


class BatchQuery(QueryModel):
    """Options of the batch form."""

    crs: CrsName = Field(default="wgs84", description=CRS_HELP)


class AreaRef(BaseModel):
    """A district in an answer."""

    code: str
    name: str
    name_en: str | None
    member: bool


class TownRef(BaseModel):
    """The town/jurisdiction polygon holding the point, when towns are imported."""

    code: str
    name: str
    approximate: bool = Field(description="True for demo polygons that are not official.")


class Geolocation(BaseModel):
    """Whose is this point, and is it in a 交界地带?"""

    outcome: Literal["member", "outside_alliance", "outside_coverage"] = Field(
        description="`member`: in an alliance district; `outside_alliance`: another Shanghai district; "
        "`outside_coverage`: in no district polygon (sea, another province)."
    )
    district: AreaRef | None
    town: TownRef | None
    on_border: bool = Field(description="The point lies exactly on a district boundary (lower code wins).")
    border_distance_m: float | None = Field(
        description="Metres to the nearest border with another district (null outside coverage)."
    )
    nearest_other_district: AreaRef | None
    in_border_zone: bool = Field(description="Within a member pair's border zone.")
    border_pair: tuple[str, str] | None = Field(description="The zone's two district codes, lower first.")
    zone_width_m: float | None
    wgs84: tuple[float, float] = Field(description="The point converted to WGS-84 [lon, lat].")
    boundary_generation: int | None


class PointGeometry(BaseModel):
    """A GeoJSON Point."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2,
        max_length=3,
        description="[lon, lat] (and an ignored height) in the request's crs: numbers, in range.",
        json_schema_extra={"prefixItems": [LONGITUDE_SCHEMA, LATITUDE_SCHEMA, {"type": "number"}]},
    )


# A feature id is echoed back as given; an integer beyond ±(2**53 - 1) would come back changed in a
# JavaScript client (IEEE doubles), so it is refused rather than silently altered.
SafeInteger = Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1)]


class PointFeature(BaseModel):
    """A GeoJSON Feature with a Point geometry."""

    type: FeatureType
    id: str | SafeInteger | None = None
    geometry: PointGeometry
    properties: dict[str, Any] | None = None


class PointCollection(BaseModel):
    """Up to 10,000 points to locate."""

    type: CollectionType
    features: list[PointFeature] = Field(max_length=MAX_BATCH)


class GeolocatedFeature(BaseModel):
    """A located point: the geometry is the WGS-84 point, the properties the answer."""

    type: FeatureType
    id: str | int | None
    geometry: PointGeometry
    properties: Geolocation


class GeolocatedCollection(BaseModel):
    """Answers in the order of the request's features."""

    type: CollectionType
    features: list[GeolocatedFeature]
