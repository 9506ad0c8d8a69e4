"""Health check for load balancers and operators: is the database answering, with its spatial extension?"""

from __future__ import annotations

import logging
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coordinator import __version__
from coordinator.api import endpoint
from coordinator.boundaries.services import current_generation
from coordinator.dialects import backend_name
from coordinator.errors import ServiceUnavailable
from coordinator.extensions import db_session

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# Both PostGIS and SpatiaLite know ST_AsText/ST_GeomFromText: a cheap proof the extension is loaded.
_SPATIAL_PROBE = text("SELECT ST_AsText(ST_GeomFromText('POINT(121.5 31)', 4326))")


class Health(BaseModel):
    """The service is up and its database answers spatial queries."""

    status: Literal["ok"]
    version: str
    database: Literal["postgresql", "sqlite"]
    boundary_generation: int | None = Field(description="Current boundary generation, null if none loaded.")


class Liveness(BaseModel):
    """The process is up (no dependencies checked)."""

    status: Literal["ok"]


@bp.get("/livez")
@endpoint(summary="Liveness probe (process only, no database)", tags=["operations"], response=Liveness)
def livez() -> dict[str, Any]:
    return {"status": "ok"}


@bp.get("/healthz")
@endpoint(
    summary="Health check (database and spatial extension)",
    tags=["operations"],
    response=Health,
    errors=(503,),
)
def healthz() -> dict[str, Any]:
    session = db_session()
    try:
        session.execute(_SPATIAL_PROBE).scalar_one()
        generation = current_generation(session)
    except SQLAlchemyError as exc:
        log.warning("health check failed: %s", exc)
        raise ServiceUnavailable(
            "the database is not answering", details={"error": type(exc).__name__}
        ) from exc
    return {
        "status": "ok",
        "version": __version__,
        "database": backend_name(session),
        "boundary_generation": generation.id if generation else None,
    }
