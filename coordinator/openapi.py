"""The OpenAPI 3 document (generated from the route schemas) and an offline docs page."""

from __future__ import annotations

from importlib import resources
from typing import Any

from flask import Blueprint, Response, current_app
from flask.typing import ResponseReturnValue

from coordinator import __version__, policy
from coordinator.api import build_openapi

bp = Blueprint("openapi", __name__)

DESCRIPTION = (
    "交界协同 — joint enforcement in the border zones (交界地带) of 奉贤, 金山, 松江 and 浦东. "
    "Geometries are GeoJSON (RFC 7946) in WGS-84 longitude/latitude. Every error has the shape "
    '`{"error": {"code", "message", "details"}}`. Send `Authorization: Bearer <token>` to every operation '
    "marked with a lock (401 without valid credentials, 403 when the role may not)."
)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the running app."""
    return build_openapi(
        current_app,
        title="交界协同 API",
        version=__version__,
        description=DESCRIPTION,
        protected=policy.is_protected,
    )


@bp.get("/api/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return openapi_document()


@bp.get("/api/docs")
def docs() -> ResponseReturnValue:
    # A self-contained page (no CDN): it must work on a district intranet without internet access.
    html = resources.files("coordinator").joinpath("static/api-docs.html").read_text(encoding="utf-8")
    return Response(html, mimetype="text/html")
