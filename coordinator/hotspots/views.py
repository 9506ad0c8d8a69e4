"""Hotspot API: thin views that parse, call a service, serialize through the documented models."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint

from coordinator.api import GEOJSON, endpoint
from coordinator.errors import ValidationFailed
from coordinator.extensions import db_session
from coordinator.geojson import Geometry
from coordinator.geolocation.views import current_locator
from coordinator.hotspots import services
from coordinator.hotspots.models import KIND_LABELS, Hotspot
from coordinator.hotspots.schemas import (
    HotspotCollection,
    HotspotFeature,
    HotspotIn,
    HotspotPatch,
    HotspotProperties,
    HotspotQuery,
    ProposalCollection,
    ProposalFeature,
    ProposalProperties,
    ProposalQuery,
)
from coordinator.policy import current_caller
from coordinator.worktime import SHANGHAI

bp = Blueprint("hotspots", __name__)


def hotspot_feature(h: Hotspot, weight: services.Weight) -> HotspotFeature:
    """A hotspot as a GeoJSON Feature."""
    return HotspotFeature(
        id=h.id,
        properties=HotspotProperties(
            id=h.id,
            name=h.name,
            kind=h.kind,
            kind_label=KIND_LABELS[h.kind],
            pair=list(h.pair),
            min_patrols_per_week=h.min_patrols_per_week,
            weight=weight.value,
            recent_cases=weight.cases,
            first_case_at=weight.first,
            last_case_at=weight.last,
            note=h.note,
            origin=h.origin,
            active=h.active,
            retired_at=h.retired_at,
        ),
        geometry=Geometry(type="Point", coordinates=[h.lon, h.lat]),
    )


def _day(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d}"


def _one(h: Hotspot) -> HotspotFeature:
    now = datetime.now(UTC)
    return hotspot_feature(h, services.weights(db_session(), [h], now=now)[h.id])


@bp.get("/hotspots")
@endpoint(
    summary="Hotspots (沟渠, 断头路, 空地 …) on the borders, with their caseload weight",
    tags=["hotspots"],
    query=HotspotQuery,
    response=HotspotCollection,
    media_type=GEOJSON,
)
def list_hotspots(query: HotspotQuery) -> HotspotCollection:
    session = db_session()
    rows = services.list_hotspots(session, active=query.active)
    weight = services.weights(session, rows, now=datetime.now(UTC))
    return HotspotCollection(features=[hotspot_feature(h, weight[h.id]) for h in rows])


@bp.post("/hotspots")
@endpoint(
    summary="Create a hotspot (its border pair comes from where it lies)",
    tags=["hotspots"],
    body=HotspotIn,
    response=HotspotFeature,
    media_type=GEOJSON,
    status=201,
)
def create_hotspot(body: HotspotIn) -> HotspotFeature:
    hotspot = services.create_hotspot(
        db_session(),
        current_locator(),
        name=body.name,
        kind=body.kind,
        lon=body.lon,
        lat=body.lat,
        min_patrols_per_week=body.min_patrols_per_week,
        note=body.note,
        origin="proposal" if body.from_proposal else "manual",
        created_by_id=current_caller().id,
    )
    return _one(hotspot)


@bp.get("/hotspots/<id:hotspot_id>")
@endpoint(
    summary="One hotspot", tags=["hotspots"], response=HotspotFeature, media_type=GEOJSON, errors=(404,)
)
def get_hotspot(hotspot_id: int) -> HotspotFeature:
    return _one(services.get_hotspot(db_session(), hotspot_id))


@bp.patch("/hotspots/<id:hotspot_id>")
@endpoint(
    summary="Edit a hotspot",
    tags=["hotspots"],
    body=HotspotPatch,
    response=HotspotFeature,
    media_type=GEOJSON,
    errors=(404, 409),
)
def update_hotspot(hotspot_id: int, body: HotspotPatch) -> HotspotFeature:
    session = db_session()
    hotspot = services.get_hotspot(session, hotspot_id)
    changes = body.changes()
    if ("lon" in changes) != ("lat" in changes):
        raise ValidationFailed("move a hotspot with lon and lat together", code="incomplete_point")
    return _one(services.update_hotspot(session, current_locator(), hotspot, changes))


@bp.post("/hotspots/<id:hotspot_id>/retire")
@endpoint(
    summary="Retire a hotspot (kept for past rosters; not planned any more)",
    tags=["hotspots"],
    response=HotspotFeature,
    media_type=GEOJSON,
    errors=(404,),
)
def retire_hotspot(hotspot_id: int) -> HotspotFeature:
    session = db_session()
    hotspot = services.retire_hotspot(
        session, services.get_hotspot(session, hotspot_id), now=datetime.now(UTC)
    )
    return _one(hotspot)


@bp.get("/hotspots/proposals")
@endpoint(
    summary="Proposed hotspots: clusters (DBSCAN, metres) of recent dumping cases in border zones",
    tags=["hotspots"],
    query=ProposalQuery,
    response=ProposalCollection,
    media_type=GEOJSON,
)
def list_proposals(query: ProposalQuery) -> ProposalCollection:
    found = services.propose(
        db_session(), now=datetime.now(UTC), days=query.days, eps_m=query.eps_m, min_cases=query.min_cases
    )
    return ProposalCollection(
        features=[
            ProposalFeature(
                properties=ProposalProperties(
                    pair=list(p.pair),
                    case_count=p.case_count,
                    first_case_at=p.first,
                    last_case_at=p.last,
                    case_numbers=list(p.case_numbers),
                    explanation=(
                        f"近 {query.days} 天内 {p.case_count} 起偷倒案件聚集在 {query.eps_m:g} 米范围内"
                        f"（{_day(p.first)} 至 {_day(p.last)}），附近还没有热点"
                    ),
                ),
                geometry=Geometry(type="Point", coordinates=[p.lon, p.lat]),
            )
            for p in found
        ]
    )
