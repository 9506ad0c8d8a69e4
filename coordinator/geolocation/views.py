"""Geolocation API: thin views over the locator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, request

from coordinator.api import GEOJSON, endpoint
from coordinator.errors import ValidationFailed
from coordinator.extensions import get_sessionmaker
from coordinator.geolocation.schemas import (
    BatchQuery,
    GeolocatedCollection,
    GeolocateQuery,
    Geolocation,
    PointCollection,
)
from coordinator.geolocation.services import LocatorCache, check_and_locate, location_payload
from geo.locator import Locator

bp = Blueprint("geolocate", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def current_locator() -> Locator:
    """The process-wide locator of the current app, in step with the stored boundaries."""
    locator: Locator | None = g.get("locator")
    if locator is None:
        cache: LocatorCache = current_app.extensions["coordinator.locator_cache"]
        locator = g.locator = cache.get(get_sessionmaker())
    return locator


def warm_up(app: Flask) -> Locator:
    """Build the app's locator now (a server worker calls this before its first request)."""
    cache: LocatorCache = app.extensions["coordinator.locator_cache"]
    return cache.get(get_sessionmaker(app))


def needs_locator(view: F) -> F:
    """Mark a view whose request needs the locator (see `prepare_locator`)."""
    view.__needs_locator__ = True  # type: ignore[attr-defined]
    return view


def prepare_locator() -> None:
    """`before_request`, ahead of authentication: fetch the locator before the request opens its
    database transaction, so a (re)build (~1–2 s) never runs while a write transaction holds SQLite's
    write lock or a pooled connection."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "__needs_locator__", False):
        current_locator()


@bp.get("/geolocate")
@needs_locator
@endpoint(
    summary="Locate one point: district, border distance, border zone",
    description="Answers whose the point is (member district, another Shanghai district, or outside "
    "coverage), how far the nearest border with another district is, and whether it lies in a member "
    "border zone. Points from 高德/腾讯 (gcj02) or 百度 (bd09) are converted to WGS-84 first.",
    tags=["geolocation"],
    query=GeolocateQuery,
    response=Geolocation,
    errors=(503,),
)
def geolocate_point(query: GeolocateQuery) -> dict[str, Any]:
    locator = current_locator()
    location = check_and_locate(locator, query.lon, query.lat, query.crs)
    return location_payload(location, generation=locator.generation)


@bp.post("/geolocate")
@needs_locator
@endpoint(
    summary="Locate up to 10,000 points (GeoJSON FeatureCollection of Points)",
    tags=["geolocation"],
    query=BatchQuery,
    body=PointCollection,
    response=GeolocatedCollection,
    media_type=GEOJSON,
    errors=(400, 503),
)
def geolocate_batch(query: BatchQuery, body: PointCollection) -> dict[str, Any]:
    locator = current_locator()
    generation = locator.generation
    features: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, feature in enumerate(body.features):
        lon, lat = feature.geometry.coordinates[0], feature.geometry.coordinates[1]
        try:
            location = check_and_locate(locator, lon, lat, query.crs)
        except ValidationFailed as exc:
            problems.append({"feature": index, "id": feature.id, "code": exc.code, "message": exc.message})
            continue
        payload = location_payload(location, generation=generation)
        features.append(
            {
                "type": "Feature",
                "id": feature.id,
                "geometry": {"type": "Point", "coordinates": payload["wgs84"]},
                "properties": payload,
            }
        )
    if problems:
        raise ValidationFailed(
            f"{len(problems)} of {len(body.features)} points cannot be located; nothing was answered",
            code="invalid_points",
            details=problems[:100],
        )
    return {"type": "FeatureCollection", "features": features}
