"""Reports and cases API: thin views over the intake and case services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from coordinator.api import GEOJSON, endpoint
from coordinator.cases import services
from coordinator.cases.presenters import CasePresenter
from coordinator.cases.schemas import (
    CaseDetail,
    CasePage,
    CaseQuery,
    CategoryList,
    Inbox,
    IntakeOut,
    ReportIn,
)
from coordinator.errors import BadRequest
from coordinator.extensions import db_session
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.policy import current_user
from coordinator.worktime import SHANGHAI, WorkCalendar

bp = Blueprint("cases", __name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def current_calendar() -> WorkCalendar:
    """The working-time calendar for SLA deadlines."""
    calendar: WorkCalendar = current_app.extensions.get("coordinator.calendar") or WorkCalendar()
    return calendar


def intake_payload(result: services.IntakeResult) -> dict[str, Any]:
    """The answer to a report (identical for replays)."""
    return {
        "report_id": result.report.id,
        "case_id": result.case.id,
        "case_number": result.case.number,
        "merged": result.merged,
        "routing": result.case.routing,
    }


@bp.get("/categories")
@endpoint(
    summary="Report categories (数字城管 event classes) with dedup and SLA limits",
    tags=["cases"],
    response=CategoryList,
)
def list_categories() -> dict[str, Any]:
    return {
        "categories": [
            {
                "code": c.code,
                "name": c.name_zh,
                "name_en": c.name_en,
                "major_class": c.major_class,
                "dedup_radius_m": c.dedup_radius_m,
                "dedup_window_h": c.dedup_window_h,
                "claim_limit": f"{c.claim_limit_value:g} {c.claim_limit_unit}",
                "resolve_limit": f"{c.resolve_limit_value:g} {c.resolve_limit_unit}",
            }
            for c in services.list_categories(db_session())
        ]
    }


@bp.post("/reports")
@needs_locator
@endpoint(
    summary="Submit a report; it opens a routed case or joins a nearby open one",
    description="Send an `Idempotency-Key` header (or an `external_id` per source) to make retries safe: "
    "the same key returns the first answer (header `Idempotent-Replayed: true`), never a second report.",
    tags=["cases"],
    body=ReportIn,
    response=IntakeOut,
    status=201,
    errors=(400, 401, 403, 409, 503),
)
def submit_report(body: ReportIn) -> Response:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 1–200 characters")
    data = services.ReportInput(
        category=body.category,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        description=body.description,
        source=body.source,
        observed_at=body.observed_at,
        photos=[str(p) for p in body.photos],
        reporter_name=body.reporter.name if body.reporter else None,
        reporter_phone=body.reporter.phone if body.reporter else None,
        external_id=body.external_id,
        idempotency_key=key,
    )
    result = services.submit_report(
        db_session(), current_locator(), data, submitter=current_user(), calendar=current_calendar()
    )
    response = jsonify(intake_payload(result))
    response.status_code = 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/cases")
@endpoint(
    summary="List cases (filters, pagination; JSON or GeoJSON)",
    tags=["cases"],
    query=CaseQuery,
    response=CasePage,
    errors=(401, 403),
)
def list_cases(query: CaseQuery) -> dict[str, Any] | Response:
    session = db_session()
    bbox = tuple(float(v) for v in query.bbox.split(",")) if query.bbox else None
    flt = services.CaseFilter(
        status=[query.status] if query.status else [],
        squad=query.squad,
        district=query.district,
        category=query.category,
        in_border_zone=query.in_border_zone,
        bbox=bbox,  # type: ignore[arg-type]
        created_from=query.created_from,
        created_to=query.created_to,
    )
    cases, total = services.list_cases(session, flt, page=query.page, per_page=query.per_page)
    presenter = CasePresenter(session, cases, now=datetime.now(SHANGHAI))
    if query.format == "geojson":
        response = jsonify(
            {
                "type": "FeatureCollection",
                "page": query.page,
                "per_page": query.per_page,
                "total": total,
                "features": [presenter.feature(c) for c in cases],
            }
        )
        response.mimetype = GEOJSON
        return response
    return {
        "cases": [presenter.summary(c) for c in cases],
        "page": query.page,
        "per_page": query.per_page,
        "total": total,
    }


@bp.get("/cases/<int:case_id>")
@endpoint(
    summary="One case with reports, routing and audit trail",
    tags=["cases"],
    response=CaseDetail,
    errors=(401, 403, 404),
)
def get_case(case_id: int) -> dict[str, Any]:
    session = db_session()
    case = services.get_case(session, case_id)
    return CasePresenter(session, [case], now=datetime.now(SHANGHAI)).detail(case, current_user())


@bp.get("/inbox")
@endpoint(
    summary="The caller's open cases: claimable first, then overdue",
    tags=["cases"],
    response=Inbox,
    errors=(401, 403),
)
def inbox() -> dict[str, Any]:
    session = db_session()
    now = datetime.now(SHANGHAI)
    cases = services.inbox(session, current_user(), now=now)
    presenter = CasePresenter(session, cases, now=now)
    return {"cases": [presenter.summary(c) for c in cases]}
