"""GeoJSON (RFC 7946) output models and helpers shared by every domain: geometries as served (polygons
wound per RFC 7946 §3.1.6, once, here), feature collections, and the `bbox` query parameter as OGC API –
Features and GeoJSON define it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry


class Geometry(BaseModel):
    """A GeoJSON geometry in WGS-84 longitude/latitude."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: Any = Field(description="Longitude, latitude pairs (RFC 7946 order).")


def rfc7946(shape: BaseGeometry) -> dict[str, Any]:
    """A shape as a GeoJSON geometry dict, polygon rings wound as RFC 7946 §3.1.6 says: exteriors
    counter-clockwise, holes clockwise. Every geometry the service serves passes through here (the
    stored ones keep whatever winding their source had: the databases do not care)."""
    return dict(mapping(shapely.orient_polygons(shape, exterior_cw=False)))


def geometry_json(element: WKBElement) -> dict[str, Any]:
    """A stored geometry as a GeoJSON geometry dict (RFC 7946 winding)."""
    return rfc7946(to_shape(element))


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """Wrap features in a FeatureCollection (foreign members such as `generation` allowed)."""
    return {"type": "FeatureCollection", **members, "features": features}


class Link(BaseModel):
    """A link (RFC 8288 in JSON, as OGC API – Features writes it: `next`, `prev`, `self`, …)."""

    href: str
    rel: str
    type: str
    title: str


FeatureType = Literal["Feature"]
CollectionType = Literal["FeatureCollection"]

# A bbox in a query string: four (or, with heights, six) decimal numbers — no exponent (degrees never need
# one, and no bound may be infinite).
DEGREES = r"-?(?:0|[1-9][0-9]{0,2})(?:\.[0-9]+)?"
BBOX_PATTERN = f"^{DEGREES},{DEGREES},{DEGREES},{DEGREES}$"
BBOX_3D_PATTERN = f"^{DEGREES},{DEGREES},{DEGREES},{DEGREES}(?:,{DEGREES},{DEGREES})?$"
BBOX_HELP = (
    "west,south,east,north in WGS-84 degrees (OGC API – Features, RFC 7946 §5): features on the edges are "
    "included; west greater than east crosses the antimeridian; south and north in either order."
)


@dataclass(frozen=True)
class Bbox:
    """A WGS-84 box as OGC API – Features writes it: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> Bbox:
        """A bbox matching BBOX_PATTERN or BBOX_3D_PATTERN (heights are ignored)."""
        numbers = [float(part) for part in text.split(",")]
        if len(numbers) == 6:
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        west, south, east, north = numbers
        return cls(west, min(south, north), east, max(south, north))

    def longitude_ranges(self) -> list[tuple[float, float]]:
        """One (min, max) longitude range, or two when the box crosses the antimeridian."""
        if self.west <= self.east:
            return [(self.west, self.east)]
        return [(self.west, 180.0), (-180.0, self.east)]

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """The box as one or two (min_lon, min_lat, max_lon, max_lat) boxes that do not cross."""
        return [(x0, self.south, x1, self.north) for x0, x1 in self.longitude_ranges()]

    def shape(self) -> BaseGeometry:
        """The box as a (multi)polygon, to test shapes against."""
        return shapely.union_all([shapely.box(*box) for box in self.boxes()])
