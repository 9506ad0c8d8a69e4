"""OGC API – Features, Part 1: Core at /ogc/ — landing page, conformance, collections, and for each
collection of coordinator.ogc.collections its description, its items (`limit`, `offset`, `bbox`,
`datetime`; `next`/`prev` links, `numberMatched`, `numberReturned`, `timeStamp`) and one item. Metadata is
JSON, features GeoJSON. QGIS's "WFS / OGC API – Features" source, GDAL's OAPIF driver and OWSLib read it.

Errors keep our one shape, with the standard's statuses: invalid parameters are 400 (not 422).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, g, jsonify, request

from coordinator import access_rules, policy
from coordinator.api import GEOJSON, JSON, ViewFunc, add_link_headers, endpoint
from coordinator.auth.models import User
from coordinator.errors import Unauthorized, error_response, register_error_renderer
from coordinator.extensions import db_session
from coordinator.geojson import Bbox
from coordinator.ogc.collections import COLLECTIONS, Collection, Filter, Interval
from coordinator.ogc.schemas import (
    CONFORMANCE,
    CRS84,
    GREGORIAN,
    CollectionInfo,
    Collections,
    Conformance,
    ItemsQuery,
    LandingPage,
    item_models,
)
from coordinator.worktime import SHANGHAI

PREFIX = "/ogc"
TAGS = ("OGC API – Features",)
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"

bp = Blueprint("ogc", __name__)


def _base() -> str:
    return request.host_url.rstrip("/") + PREFIX


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    """A link object."""
    return {"href": href, "rel": rel, "type": media_type, "title": title}


@bp.get("/")
@endpoint(summary="OGC API – Features landing page", tags=TAGS, response=LandingPage)
def landing_page() -> dict[str, Any]:
    base = _base()
    return {
        "title": "交界协同 Jiaojie Coordinator — OGC API – Features",
        "description": "奉贤、金山、松江、浦东 交界地带联合执法: "
        "districts, towns, border zones, squads and cases.",
        "links": [
            link(f"{base}/", "self", JSON, "This document"),
            link(request.host_url + "api/openapi.json", "service-desc", OPENAPI_TYPE, "The API definition"),
            link(request.host_url + "api/docs", "service-doc", "text/html", "The API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "The collections"),
        ],
    }


@bp.get("/conformance")
@endpoint(summary="OGC API – Features conformance classes", tags=TAGS, response=Conformance)
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _viewer_rule(collection: Collection) -> access_rules.Rule:
    return access_rules.RULES[f"ogc.{collection.key}_items"]


def _may_read(collection: Collection, principal: policy.Principal | None) -> bool:
    rule = _viewer_rule(collection)
    return rule.public or (principal is not None and rule.allows(principal.caller.role))


def _viewer() -> User | None:
    """The caller of a protected collection (public ones do not ask who calls)."""
    principal: policy.Principal | None = g.get("principal")
    return principal.user if principal is not None else None


def _describe(collection: Collection) -> dict[str, Any]:
    base = f"{_base()}/collections/{collection.id}"
    extent = collection.source.extent(db_session())
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "links": [
            link(base, "self", JSON, "This collection"),
            link(f"{base}/items", "items", GEOJSON, "Its features"),
        ],
        "extent": {
            "spatial": {"bbox": [list(extent.bbox or (-180.0, -90.0, 180.0, 90.0))], "crs": CRS84},
            "temporal": None
            if not collection.source.temporal
            else {"interval": [[_time(t) for t in extent.interval or (None, None)]], "trs": GREGORIAN},
        },
        "itemType": "feature",
        "crs": [CRS84],
    }


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@bp.get("/collections")
@endpoint(
    summary="OGC API – Features collections (those the caller may read)",
    description="Anonymous callers see the public collections; send a token to see the others.",
    tags=TAGS,
    response=Collections,
)
def collections() -> dict[str, Any]:
    # The list is public; valid credentials widen it. Invalid ones do not (their 401 comes from the
    # collection itself), so a client with an expired token still sees what anyone may read.
    try:
        principal = policy.authenticate(db_session())
    except Unauthorized:
        principal = None
    return {
        "links": [link(f"{_base()}/collections", "self", JSON, "The collections")],
        "collections": [_describe(c) for c in COLLECTIONS if _may_read(c, principal)],
    }


# -- the interval of `datetime` ---------------------------------------------------------------------------


def _moment(text: str, *, end: bool) -> datetime | None:
    if text in ("", ".."):
        return None
    if len(text) == 10:  # a date: that day in Asia/Shanghai
        day = datetime.combine(date.fromisoformat(text), time(), tzinfo=SHANGHAI)
        return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
    return datetime.fromisoformat(text.upper())


def parse_interval(text: str) -> Interval:
    """An OGC `datetime` value (matching its pattern) as an inclusive (start, end); None = open."""
    if "/" not in text:
        return _moment(text, end=False), _moment(text, end=True)
    start, end = text.split("/")
    return _moment(start, end=False), _moment(end, end=True)


# -- per collection -------------------------------------------------------------------------------------


def _page_links(
    collection: Collection, query: ItemsQuery, returned: int, matched: int
) -> list[dict[str, str]]:
    base = f"{_base()}/collections/{collection.id}/items"
    kept = {k: v for k, v in (("bbox", query.bbox), ("datetime", query.datetime)) if v}

    def at(offset: int) -> str:
        return f"{base}?{urlencode({**kept, 'limit': query.limit, 'offset': offset})}"

    links = [link(at(query.offset), "self", GEOJSON, "This page")]
    if query.offset + returned < matched:
        links.append(link(at(query.offset + query.limit), "next", GEOJSON, "Next page"))
    if query.offset > 0:
        links.append(link(at(max(query.offset - query.limit, 0)), "prev", GEOJSON, "Previous page"))
    links.append(link(f"{_base()}/collections/{collection.id}", "collection", JSON, collection.title))
    return links


def _declare(collection: Collection) -> None:
    rule = f"/collections/{collection.id}"
    items_model, item_model = item_models(_model_name(collection), collection.feature)
    secured = not access_rules.RULES.get(f"ogc.{collection.key}_items", access_rules.Rule()).public
    auth_errors = (401, 403) if secured else ()

    def describe() -> dict[str, Any]:
        return _describe(collection)

    def items(query: ItemsQuery) -> Response:
        flt = Filter(
            bbox=Bbox.parse(query.bbox) if query.bbox else None,
            interval=parse_interval(query.datetime) if query.datetime else None,
            limit=query.limit,
            offset=query.offset,
        )
        features, matched = collection.source.page(db_session(), flt, _viewer())
        links = _page_links(collection, query, len(features), matched)
        response = jsonify(
            {
                "type": "FeatureCollection",
                "features": features,
                "links": links,
                "timeStamp": _time(datetime.now(UTC)),
                "numberMatched": matched,
                "numberReturned": len(features),
            }
        )
        response.mimetype = GEOJSON
        add_link_headers(response, links)
        return response

    def item(feature_id: str) -> Response:
        feature = collection.source.one(db_session(), feature_id, _viewer())
        base = f"{_base()}/collections/{collection.id}"
        feature = {
            **feature,
            "links": [
                link(f"{base}/items/{feature_id}", "self", GEOJSON, "This feature"),
                link(base, "collection", JSON, collection.title),
            ],
        }
        response = jsonify(feature)
        response.mimetype = GEOJSON
        return response

    views: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        (
            rule,
            "collection",
            describe,
            {"summary": f"OGC: the {collection.id} collection", "response": CollectionInfo},
        ),
        (
            f"{rule}/items",
            "items",
            items,
            {
                "summary": f"OGC: features of {collection.id} (paged; bbox, datetime)",
                "query": ItemsQuery,
                "response": items_model,
                "media_type": GEOJSON,
                "validation_status": 400,
            },
        ),
        (
            f"{rule}/items/<feature_id>",
            "item",
            item,
            {
                "summary": f"OGC: one feature of {collection.id}",
                "response": item_model,
                "media_type": GEOJSON,
                "errors": (404,),
            },
        ),
    ]
    for path, kind, fn, declared in views:
        errors = tuple(sorted({*declared.pop("errors", ()), *auth_errors}))
        fn.__name__ = f"{collection.key}_{kind}"
        view: ViewFunc = endpoint(tags=TAGS, errors=errors, **declared)(fn)
        bp.add_url_rule(path, fn.__name__, view)


def _model_name(collection: Collection) -> str:
    return "Ogc" + "".join(part.title() for part in collection.id.split("-"))


for _collection in COLLECTIONS:
    _declare(_collection)


def _render_error(status: int, code: str, message: str, details: Any) -> Response:
    """Our error shape with OGC API's status for invalid parameters: 400."""
    return error_response(400 if status == 422 else status, code, message, details)


def init_app(app: Flask) -> None:
    """Mount /ogc/ and its error statuses."""
    app.register_blueprint(bp, url_prefix=PREFIX)
    register_error_renderer(app, PREFIX + "/", _render_error)
