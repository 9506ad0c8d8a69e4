"""Boundary API: thin views that parse, call a service, serialize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from coordinator.api import GEOJSON, endpoint
from coordinator.boundaries import services
from coordinator.boundaries.models import AdminArea, BorderZone
from coordinator.boundaries.schemas import (
    BorderCollection,
    BorderQuery,
    BorderZoneCollection,
    BoundaryCollection,
    BoundaryFeature,
    BoundaryQuery,
)
from coordinator.extensions import db_session
from coordinator.geojson import feature_collection, geometry_json
from coordinator.httpcache import conditional
from coordinator.worktime import SHANGHAI

bp = Blueprint("boundaries", __name__)


def area_feature(area: AdminArea) -> dict[str, Any]:
    """An area as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": area.code,
        "properties": {
            "code": area.code,
            "name": area.name_zh,
            "name_en": area.name_en,
            "level": area.level,
            "parent": area.parent_code,
            "member": area.member,
            "approximate": area.approximate,
            "version": area.version,
            "valid_from": area.valid_from.astimezone(SHANGHAI).isoformat(),
            "source": area.source,
        },
        "geometry": geometry_json(area.geom),
    }


@bp.get("/boundaries")
@endpoint(
    summary="List administrative areas in force",
    tags=["boundaries"],
    query=BoundaryQuery,
    response=BoundaryCollection,
    media_type=GEOJSON,
    conditional=True,
)
def list_boundaries(query: BoundaryQuery) -> Response:
    session = db_session()
    areas = services.current_areas(session, level=query.level, member=query.member)
    generation = services.current_generation(session)
    payload = feature_collection(
        [area_feature(a) for a in areas], generation=generation.id if generation else None
    )
    return _layer(payload)


def _layer(payload: dict[str, Any]) -> Response:
    """A geography layer with validators and byte ranges (coordinator.httpcache)."""
    changed = services.geography_changed_at(db_session())
    return conditional(payload, media_type=GEOJSON, last_modified=changed)


@bp.get("/boundaries/<code>")
@endpoint(
    summary="One administrative area by code",
    tags=["boundaries"],
    response=BoundaryFeature,
    media_type=GEOJSON,
    errors=(404,),
    conditional=True,
)
def get_boundary(code: str) -> Response:
    return _layer(area_feature(services.get_area(db_session(), code)))


@bp.get("/borders")
@endpoint(
    summary="Shared border lines between districts",
    description="Computed from the polygons of the current boundary generation, tolerant to slivers and "
    "small gaps between neighbouring polygons.",
    tags=["boundaries"],
    query=BorderQuery,
    response=BorderCollection,
    media_type=GEOJSON,
    conditional=True,
)
def list_borders(query: BorderQuery) -> Response:
    session = db_session()
    borders = services.list_shared_borders(session, members_only=query.members_only)
    names = {a.code: a.name_zh for a in services.current_areas(session, level="district")}
    payload = feature_collection(
        [
            {
                "type": "Feature",
                "id": f"{b.code_a}-{b.code_b}",
                "properties": {
                    "pair": [b.code_a, b.code_b],
                    "names": [names.get(b.code_a, b.code_a), names.get(b.code_b, b.code_b)],
                    "both_members": b.both_members,
                    "length_m": b.length_m,
                    "generation": b.generation_id,
                },
                "geometry": geometry_json(b.geom),
            }
            for b in borders
        ]
    )
    return _layer(payload)


@bp.get("/border-zones")
@endpoint(
    summary="Border zones (交界地带) of member district pairs",
    description="The band within `width_m` metres of each shared border between two alliance members, "
    "clipped to the two districts; computed in a metric projection and stored per boundary generation.",
    tags=["boundaries"],
    response=BorderZoneCollection,
    media_type=GEOJSON,
    conditional=True,
)
def list_border_zones() -> Response:
    session = db_session()
    names = district_names()
    return _layer(
        feature_collection([zone_feature(z, names) for z in services.current_border_zones(session)])
    )


def district_names() -> dict[str, str]:
    """District codes → Chinese names."""
    return {a.code: a.name_zh for a in services.current_areas(db_session(), level="district")}


def zone_feature(zone: BorderZone, names: dict[str, str]) -> dict[str, Any]:
    """A border zone as a GeoJSON Feature (id = the pair, lower code first)."""
    return {
        "type": "Feature",
        "id": f"{zone.code_a}-{zone.code_b}",
        "properties": {
            "pair": [zone.code_a, zone.code_b],
            "names": [names.get(zone.code_a, zone.code_a), names.get(zone.code_b, zone.code_b)],
            "width_m": zone.width_m,
            "area_m2": zone.area_m2,
            "generation": zone.generation_id,
        },
        "geometry": geometry_json(zone.geom),
    }
