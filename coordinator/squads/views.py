"""Squad API: thin views that parse, call a service, serialize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from coordinator.api import GEOJSON, endpoint
from coordinator.boundaries.models import AdminArea
from coordinator.boundaries.services import current_areas
from coordinator.extensions import db_session
from coordinator.geojson import feature_collection, geometry_json
from coordinator.httpcache import conditional
from coordinator.permissions import require_manage_squad
from coordinator.policy import current_user
from coordinator.squads import services
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.squads.schemas import DispatchUnitList, SquadCollection, SquadFeature, SquadPatch, SquadQuery
from geo.jurisdictions import APPROXIMATE_EN, APPROXIMATE_ZH

bp = Blueprint("squads", __name__)
APPROXIMATE_LABEL = f"{APPROXIMATE_ZH} {APPROXIMATE_EN}"


def squad_feature(
    squad: Squad, area: AdminArea | None, district_names: dict[str, str], *, geometry: bool = True
) -> dict[str, Any]:
    """A squad as a GeoJSON Feature with its jurisdiction as geometry."""
    return {
        "type": "Feature",
        "id": squad.code,
        "properties": {
            "code": squad.code,
            "name": squad.name_zh,
            "name_en": squad.name_en,
            "district": {
                "code": squad.district_code,
                "name": district_names.get(squad.district_code, squad.district_code),
            },
            "dispatch_unit": squad.dispatch_unit.code,
            "jurisdiction": {
                "code": area.code,
                "name": area.name_zh,
                "name_en": area.name_en,
                "level": area.level,
                "version": area.version,
                "approximate": area.approximate,
                "label": APPROXIMATE_LABEL if area.approximate else None,
            }
            if area is not None
            else None,
            "approximate": bool(area and area.approximate),
            "categories": list(squad.categories),
            "night_capacity": squad.night_capacity,
            "contact_channel": squad.contact_channel,
            "active": squad.active,
        },
        "geometry": geometry_json(area.geom) if area is not None and geometry else None,
    }


def _district_names() -> dict[str, str]:
    return {a.code: a.name_zh for a in current_areas(db_session(), level="district")}


def dispatch_unit_json(unit: DispatchUnit) -> dict[str, Any]:
    """A dispatch unit as the API shows it."""
    return {
        "code": unit.code,
        "name": unit.name_zh,
        "name_en": unit.name_en,
        "level": unit.level,
        "district": unit.district_code,
        "contact_channel": unit.contact_channel,
    }


@bp.get("/squads")
@endpoint(
    summary="Squads (城管中队) with their jurisdictions",
    description="A FeatureCollection: each squad's geometry is the polygon of its jurisdiction in force. "
    "Demo jurisdictions are approximate (`approximate: true`, label `近似 approximate`).",
    tags=["squads"],
    query=SquadQuery,
    response=SquadCollection,
    media_type=GEOJSON,
    errors=(401, 403),
    conditional=True,
)
def list_squads(query: SquadQuery) -> Response:
    session = db_session()
    squads = services.list_squads(session, district=query.district, active=query.active)
    areas = services.jurisdiction_areas(session, squads)
    names = _district_names()
    payload = feature_collection(
        [
            squad_feature(s, areas.get(s.jurisdiction_code or ""), names, geometry=query.geometry)
            for s in squads
        ]
    )
    return _layer(payload)


def _layer(payload: dict[str, Any]) -> Response:
    """The squad layer with validators and byte ranges (coordinator.httpcache); private: it needs a token."""
    changed = services.squads_changed_at(db_session())
    return conditional(payload, media_type=GEOJSON, last_modified=changed, private=True)


@bp.get("/squads/<code>")
@endpoint(
    summary="One squad with its jurisdiction",
    tags=["squads"],
    response=SquadFeature,
    media_type=GEOJSON,
    errors=(401, 403, 404),
    conditional=True,
)
def get_squad(code: str) -> Response:
    session = db_session()
    squad = services.get_squad(session, code)
    areas = services.jurisdiction_areas(session, [squad])
    return _layer(squad_feature(squad, areas.get(squad.jurisdiction_code or ""), _district_names()))


@bp.patch("/squads/<code>")
@endpoint(
    summary="Change a squad (its district's dispatcher or an admin)",
    tags=["squads"],
    body=SquadPatch,
    response=SquadFeature,
    media_type=GEOJSON,
    errors=(400, 401, 403, 404),
)
def update_squad(code: str, body: SquadPatch) -> dict[str, Any]:
    session = db_session()
    squad = services.get_squad(session, code)
    require_manage_squad(current_user(), squad)
    services.update_squad(session, squad, body)
    session.flush()
    areas = services.jurisdiction_areas(session, [squad])
    return squad_feature(squad, areas.get(squad.jurisdiction_code or ""), _district_names())


@bp.get("/dispatch-units")
@endpoint(
    summary="Dispatch units above the squads",
    tags=["squads"],
    response=DispatchUnitList,
    errors=(401, 403),
)
def list_dispatch_units() -> dict[str, Any]:
    return {"dispatch_units": [dispatch_unit_json(u) for u in services.list_dispatch_units(db_session())]}
