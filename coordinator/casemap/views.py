"""Case map API: thin view over coordinator.casemap.services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from coordinator.api import GEOJSON, add_link_headers, endpoint
from coordinator.casemap import services
from coordinator.casemap.schemas import MapLayer, MapQuery
from coordinator.cases.presenters import CasePresenter
from coordinator.cases.queries import CaseFilter
from coordinator.cases.schemas import border_pair_key
from coordinator.errors import ValidationFailed
from coordinator.extensions import db_session
from coordinator.policy import current_user
from coordinator.worktime import SHANGHAI

bp = Blueprint("casemap", __name__)


def case_filter(query: MapQuery) -> CaseFilter:
    """The case list's filter for the map's query."""
    return CaseFilter(
        status=[query.status] if query.status else [],
        category=query.category,
        border_pair=border_pair_key(query.border) if query.border else None,
        bbox=query.box,
        created_from=query.since,
        created_to=query.until,
    )


def next_page(query: MapQuery) -> str:
    """The GeoJSON case list's second page of CASE_CAP cases with the same box and filters."""
    args: dict[str, Any] = {
        "format": "geojson",
        "bbox": query.bbox,
        "status": query.status,
        "category": query.category,
        "border_pair": query.border,
        "created_from": query.since.isoformat() if query.since else None,
        "created_to": query.until.isoformat() if query.until else None,
        "per_page": services.CASE_CAP,
        "page": 2,
    }
    return url_for("cases.list_cases", _external=True, **{k: v for k, v in args.items() if v is not None})


@bp.get("/map/clusters")
@endpoint(
    summary="The map's case layer: clusters counted per grid cell at low zoom, single cases at high zoom",
    description=f"Below zoom {services.SINGLE_CASE_ZOOM} every feature is a cluster (`properties.cluster` "
    "true, `count`, `status_counts`, the cell) of the cases in one grid cell of 64 px at that zoom, placed "
    "at their mean position; clusters are whole cells (every cell the box touches, all its cases, so a "
    "count does not change as the map pans: `cells_bbox`). From there on the features are the cases "
    "themselves with the case list's properties (`cluster` false), newest first, at most "
    f"{services.CASE_CAP} (`truncated`, and a `next` link into the GeoJSON case list). Filters as the case "
    "list's; 422 for a box out of range, across the antimeridian, or spanning too many cells.",
    tags=["cases"],
    query=MapQuery,
    response=MapLayer,
    media_type=GEOJSON,
    errors=(401, 403),
)
def clusters(query: MapQuery) -> Response:
    if not services.shows_single_cases(query.zoom):
        cells = services.cells_spanned(query.box, query.zoom)
        if cells > services.MAX_CELLS:
            raise ValidationFailed(
                "invalid query parameters",
                details=[
                    {
                        "field": "bbox",
                        "message": f"spans {cells:,} cluster cells at zoom {query.zoom}, more than "
                        f"{services.MAX_CELLS:,}: ask for a smaller box or a lower zoom",
                        "type": "too_many_cells",
                    }
                ],
            )
    session = db_session()
    flt = case_filter(query)
    links = [{"href": request.url, "rel": "self", "type": GEOJSON, "title": "This view"}]
    features: list[dict[str, Any]]
    if services.shows_single_cases(query.zoom):
        cases, total = services.single_cases(session, flt)
        presenter = CasePresenter(session, cases, now=datetime.now(SHANGHAI), viewer=current_user())
        features = []
        for case in cases:
            feature = presenter.feature(case)
            feature["properties"]["cluster"] = False
            features.append(feature)
        truncated = total > len(cases)
        if truncated:
            links.append({"href": next_page(query), "rel": "next", "type": GEOJSON, "title": "More cases"})
        mode, size, bounds = "cases", None, None
    else:
        size = services.cell_size(query.zoom)
        bounds = list(services.CellRange.of(query.box, query.zoom).bounds())
        found = services.clusters(session, flt, query.zoom)
        features = [
            {
                "type": "Feature",
                "id": f"{query.zoom}/{c.column}/{c.row}",
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {
                    "cluster": True,
                    "count": c.count,
                    "status_counts": c.status_counts,
                    "cell": list(c.cell(size)),
                },
            }
            for c in found
        ]
        total, truncated, mode = sum(c.count for c in found), False, "clusters"
    response = jsonify(
        {
            "type": "FeatureCollection",
            "zoom": query.zoom,
            "mode": mode,
            "cell_size": size,
            "cells_bbox": bounds,
            "total": total,
            "truncated": truncated,
            "features": features,
            "links": links,
        }
    )
    response.mimetype = GEOJSON
    add_link_headers(response, links)
    return response
