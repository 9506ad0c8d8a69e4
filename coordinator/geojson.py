"""GeoJSON (RFC 7946) output models and helpers shared by every domain."""

from __future__ import annotations

from typing import Any, Literal

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, Field
from shapely.geometry import mapping


class Geometry(BaseModel):
    """A GeoJSON geometry in WGS-84 longitude/latitude."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: Any = Field(description="Longitude, latitude pairs (RFC 7946 order).")


def geometry_json(element: WKBElement) -> dict[str, Any]:
    """A stored geometry as a GeoJSON geometry dict."""
    return dict(mapping(to_shape(element)))


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """Wrap features in a FeatureCollection (foreign members such as `generation` allowed)."""
    return {"type": "FeatureCollection", **members, "features": features}


FeatureType = Literal["Feature"]
CollectionType = Literal["FeatureCollection"]
