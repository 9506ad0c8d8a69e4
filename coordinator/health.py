"""Probes for load balancers and operators: `/livez` (the process), `/healthz` (the database answers
spatial queries), `/readyz` (ready for traffic: database, boundary locator built, scheduler leader
alive) and `/metrics` (Prometheus, coordinator.ops.metrics)."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Any, Literal

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from coordinator import __version__
from coordinator.api import endpoint
from coordinator.boundaries.services import current_generation
from coordinator.db import utcnow
from coordinator.dialects import backend_name
from coordinator.errors import ServiceUnavailable, Unauthorized
from coordinator.extensions import db_session
from coordinator.ops import metrics
from coordinator.scheduler.models import SchedulerHeartbeat
from coordinator.settings import get_settings

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


class ReadinessChecks(BaseModel):
    """Each dependency `/readyz` looked at: `ok`, or what is wrong."""

    database: str = Field(description="The database answers a spatial query.")
    locator: str = Field(description="This process's boundary locator (index) is built.")
    scheduler: str = Field(
        description="A scheduler leader wrote its heartbeat recently (`skipped` when not required)."
    )


class Readiness(BaseModel):
    """Ready to serve: the checks all passed. A 503 answer names the failing checks in `details`."""

    status: Literal["ready"]
    checks: ReadinessChecks
    boundary_generation: int | None
    scheduler_heartbeat_age_s: float | None = Field(
        description="Seconds since the scheduler leader's last heartbeat; null if none is on record."
    )


@bp.get("/readyz")
@endpoint(
    summary="Readiness probe (database, boundary locator, scheduler heartbeat)",
    description="200 when this instance should get traffic: the database answers spatial queries, the "
    "boundary locator of this process is built, and the scheduler leader's heartbeat is fresher than "
    "SCHEDULER_STALE_S (unless READYZ_REQUIRES_SCHEDULER=false). 503 otherwise, with each check's "
    "result in `error.details.checks`.",
    tags=["operations"],
    response=Readiness,
    errors=(503,),
)
def readyz() -> dict[str, Any]:
    from coordinator.geolocation.views import current_locator

    settings = get_settings()
    checks = {"database": "ok", "locator": "ok", "scheduler": "ok"}
    generation_id: int | None = None
    age: float | None = None
    session = db_session()
    try:
        session.execute(_SPATIAL_PROBE).scalar_one()
        generation = current_generation(session)
        generation_id = generation.id if generation else None
        beat = session.scalar(
            select(func.max(SchedulerHeartbeat.beat_at)).where(SchedulerHeartbeat.role == "leader")
        )
        age = (utcnow() - beat).total_seconds() if beat is not None else None
    except SQLAlchemyError as exc:
        log.warning("readiness: database check failed: %s", exc)
        checks["database"] = f"failed: {type(exc).__name__}"
        session.rollback()
    if checks["database"] == "ok":
        try:
            current_locator()
        except ServiceUnavailable as exc:
            checks["locator"] = f"failed: {exc.message}"
    else:
        checks["locator"] = "unknown: no database"
    if not settings.readyz_requires_scheduler:
        checks["scheduler"] = "skipped"
    elif checks["database"] != "ok":
        checks["scheduler"] = "unknown: no database"
    elif age is None:
        checks["scheduler"] = "failed: no scheduler leader has written a heartbeat"
    elif age > timedelta(seconds=settings.scheduler_stale_s).total_seconds():
        checks["scheduler"] = f"failed: the leader's last heartbeat is {age:.0f} s old"
    if any(not (v == "ok" or v == "skipped") for v in checks.values()):
        raise ServiceUnavailable("not ready", details={"checks": checks})
    return {
        "status": "ready",
        "checks": checks,
        "boundary_generation": generation_id,
        "scheduler_heartbeat_age_s": round(age, 3) if age is not None else None,
    }


@bp.get("/metrics")
@endpoint(
    summary="Prometheus metrics",
    description="Prometheus text exposition: request counts and latencies by route (all gunicorn workers "
    "with PROMETHEUS_MULTIPROC_DIR), cases by state, SLA breaches, outbox backlog, scheduler job "
    "outcomes and heartbeat. With METRICS_TOKEN set it answers only `Authorization: Bearer <token>`.",
    tags=["operations"],
    files={"text/plain": "Prometheus text exposition format 0.0.4"},
    errors=(401,),
)
def metrics_view() -> Response:
    token = get_settings(current_app).metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("metrics need the metrics token")
    return metrics.render(db_session())
