"""OGC API – Features, Part 1: Core (OGC 17-069r4) documents: landing page, conformance, collections, and
the item collections of each collection (built from the collection's own GeoJSON feature model)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, create_model

from coordinator.geojson import BBOX_3D_PATTERN, BBOX_HELP, CollectionType, Link
from coordinator.validation import DATE_PATTERN, RFC3339_PATTERN, QueryModel

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000_000

_MOMENT = "(?:" + RFC3339_PATTERN.strip("^$") + "|" + DATE_PATTERN.strip("^$") + ")"
# An instant, or an interval with `..` (or nothing) for an open end (OGC 17-069r4 §7.15.4).
DATETIME_PATTERN = f"^(?:{_MOMENT}|(?:{_MOMENT}|\\.\\.)?/(?:{_MOMENT}|\\.\\.)?)$"


class LandingPage(BaseModel):
    """The OGC API – Features landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes this API implements."""

    conformsTo: list[str]


class SpatialExtent(BaseModel):
    """Where the features of a collection lie (CRS84 longitude/latitude)."""

    bbox: list[tuple[float, float, float, float]]
    crs: Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]


class TemporalExtent(BaseModel):
    """When the features of a collection hold (null: open)."""

    interval: list[tuple[datetime | None, datetime | None]]
    trs: Literal["http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"]


class Extent(BaseModel):
    """Spatial and temporal extent of a collection."""

    spatial: SpatialExtent
    temporal: TemporalExtent | None


class CollectionInfo(BaseModel):
    """A feature collection's description."""

    id: str
    title: str
    description: str
    links: list[Link]
    extent: Extent
    itemType: Literal["feature"]
    crs: list[str]


class Collections(BaseModel):
    """The collections the caller may read."""

    links: list[Link]
    collections: list[CollectionInfo]


class ItemsQuery(QueryModel):
    """Parameters of /collections/{id}/items."""

    limit: int = Field(default=10, ge=1, le=MAX_LIMIT, description="Features per page.")
    offset: int = Field(
        default=0, ge=0, le=MAX_OFFSET, description="Features to skip (the `next`/`prev` links carry it)."
    )
    bbox: str | None = Field(default=None, pattern=BBOX_3D_PATTERN, description=BBOX_HELP)
    datetime: str | None = Field(
        default=None,
        pattern=DATETIME_PATTERN,
        description="An instant (RFC 3339 date-time, or a date: that day in Asia/Shanghai) or an interval "
        "`start/end` with `..` for an open end; features whose time intersects it.",
    )


def item_models(name: str, feature: type[BaseModel]) -> tuple[type[BaseModel], type[BaseModel]]:
    """The answers of a collection whose features are `feature`: a page of items, and one item."""
    items = create_model(
        f"{name}Items",
        __doc__=f"A page of the {name} collection (GeoJSON FeatureCollection).",
        type=(CollectionType, ...),
        features=(list[feature], ...),  # type: ignore[valid-type]
        links=(list[Link], ...),
        timeStamp=(datetime, ...),
        numberMatched=(int, ...),
        numberReturned=(int, ...),
    )
    item = create_model(
        f"{name}Item",
        __doc__=f"One feature of the {name} collection, with its links.",
        __base__=feature,
        links=(list[Link], ...),
    )
    return items, item
