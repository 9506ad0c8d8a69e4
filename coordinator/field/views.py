"""Field API, the `field` blueprint: patrollers' checks here; the device registry, drone flights and
alert intake in device_views.py, the alert review and real-time warnings in alert_review_views.py (both
register on this blueprint). Thin views: parse, call a service, serialize.

`POST /alerts` and `POST /flights` are called by devices, not people: the policy hook lets them through
(public there) and the view authenticates the device's HMAC signature itself (coordinator.field.devices),
answering 401 without a valid one — like Open311's api_key routes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from coordinator import permissions
from coordinator.api import endpoint
from coordinator.auth.models import User
from coordinator.cases.views import current_calendar
from coordinator.evidence import services as evidence
from coordinator.evidence.access import register_viewer
from coordinator.evidence.schemas import PHOTOS_PART
from coordinator.extensions import db_session
from coordinator.field import alerts as alert_service
from coordinator.field import patrols
from coordinator.field.models import PatrolCheck
from coordinator.field.schemas import (
    CheckIn,
    CheckList,
    CheckOut,
    CheckQuery,
    HotspotChecks,
    PatrollerList,
    ReportedCaseList,
)
from coordinator.field.warnings import NightHours
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.hotspots.services import get_hotspot
from coordinator.policy import current_user
from coordinator.settings import get_settings
from coordinator.worktime import SHANGHAI

bp = Blueprint("field", __name__)

# Who sees the files attached here (coordinator/evidence serves them at /api/v1/evidence/{id}): an
# alert's frame and a patroller's photos, like a case's photos, every staff role that reads cases
# (whoever uploaded a file always sees it).
register_viewer("alert", lambda session, user, evidence: permissions.can_view_case_evidence(user))
register_viewer("patrol_check", lambda session, user, evidence: permissions.can_view_case_evidence(user))
ModelT = TypeVar("ModelT", bound=BaseModel)

GEOJSON_TYPES = frozenset({"application/geo+json", "application/json"})
GPX_TYPES = frozenset({"application/gpx+xml", "application/xml", "text/xml"})
MAX_TRACK_BYTES = 20_000_000
# (MAX_REQUEST_BYTES, 1 MiB by default, refuses larger bodies of every route first)
MAX_ALERTS_BYTES = 50 * 1_400_000


def _now() -> datetime:
    return datetime.now(UTC)


def _local(value: Any) -> Any:
    """Datetimes shown in Asia/Shanghai (stored in UTC), through lists and dicts."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI)
    if isinstance(value, list):
        return [_local(v) for v in value]
    if isinstance(value, dict):
        return {k: _local(v) for k, v in value.items()}
    return value


def _show(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """The answer as its documented model (which renders it), datetimes in Asia/Shanghai."""
    return model.model_validate(_local(data))


def _key_material() -> str:
    settings = get_settings()
    return settings.device_secret_key or settings.secret_key


def _policy() -> alert_service.AlertPolicy:
    s = get_settings()
    return alert_service.AlertPolicy(
        storm_window_s=s.alert_storm_window_s,
        storm_radius_m=s.alert_storm_radius_m,
        night=NightHours(s.night_start_hour, s.night_end_hour),
        base_url=s.public_base_url,
    )


# -- patrollers ------------------------------------------------------------------------------------


def _check_json(
    check: PatrolCheck, usernames: dict[int, str], cases: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    number, status = cases.get(check.case_id, (None, None)) if check.case_id else (None, None)
    return {
        "id": check.id,
        "patroller": usernames.get(check.patroller_id, ""),
        "town": check.town_code,
        "hotspot_id": check.hotspot_id,
        "lon": check.lon,
        "lat": check.lat,
        "accuracy_m": check.accuracy_m,
        "checked_at": check.checked_at,
        "outcome": check.outcome,
        "note": check.note,
        "photos": check.photos,
        "report_id": check.report_id,
        "case_id": check.case_id,
        "case_number": number,
        "case_status": status,
    }


def _checks_json(checks: list[PatrolCheck]) -> list[dict[str, Any]]:
    session = db_session()
    ids = {c.patroller_id for c in checks}
    usernames: dict[int, str] = {}
    if ids:
        usernames = {k: v for k, v in session.execute(select(User.id, User.username).where(User.id.in_(ids)))}
    cases = patrols.case_summaries(session, [c.case_id for c in checks if c.case_id is not None])
    return [_check_json(c, usernames, cases) for c in checks]


@bp.post("/patrol-checks")
@needs_locator
@endpoint(
    summary="Record a patroller's check (clean, or a finding that becomes a routed report)",
    description="Grid workers (网格员) and volunteers (村民志愿者) check a hotspot or any point of their "
    "town. A finding is filed through the normal intake (source `grid_worker` / `volunteer`). Photos: "
    "send multipart/form-data with the check as JSON in the part `check` and up to 9 files in `photos` "
    "(checked and kept by the evidence store: 413/415 and nothing stored), or photo URLs in the JSON.",
    tags=["field"],
    body=CheckIn,
    file_parts=(PHOTOS_PART,),
    json_part="check",
    response=CheckOut,
    status=201,
    errors=(401, 403, 413, 415, 422),
)
def record_check(body: CheckIn, uploads: dict[str, list[FileStorage]]) -> tuple[CheckOut, int]:
    user = current_user()
    session = db_session()
    photos = uploads[PHOTOS_PART.name]
    evidence.require_count(photos, field=PHOTOS_PART.name, minimum=0, maximum=PHOTOS_PART.max_items)
    prepared = evidence.prepare_uploads(photos, limits=evidence.current_limits())  # 413/415 first
    check = patrols.record_check(
        session,
        user,
        patrols.CheckInput(
            lon=body.lon,
            lat=body.lat,
            crs=body.crs,
            checked_at=body.checked_at,
            outcome=body.outcome,
            hotspot_id=body.hotspot_id,
            accuracy_m=body.accuracy_m,
            note=body.note,
            photos=[str(p) for p in body.photos],
            category=body.category,
        ),
        locator=current_locator(),
        calendar=current_calendar(),
        now=_now(),
    )
    if prepared:
        base = get_settings().public_base_url.rstrip("/")
        stored = [
            evidence.store_prepared(
                session,
                p,
                subject_type="patrol_check",
                subject_id=check.id,
                purpose="photo",
                uploaded_by_id=user.id,
            )
            for p in prepared
        ]
        patrols.add_photos(session, check, [f"{base}/api/v1/evidence/{e.id}" for e in stored])
    return _show(CheckOut, _checks_json([check])[0]), 201


@bp.get("/patrol-checks")
@endpoint(
    summary="List checks (a patroller: only their own)",
    tags=["field"],
    query=CheckQuery,
    response=CheckList,
    errors=(401, 403),
)
def list_checks(query: CheckQuery) -> CheckList:
    checks = patrols.list_checks(
        db_session(),
        current_user(),
        hotspot_id=query.hotspot_id,
        patroller=query.patroller,
        since=query.since,
        limit=query.limit,
    )
    return _show(CheckList, {"checks": _checks_json(checks)})


@bp.get("/patrollers/me/cases")
@endpoint(
    summary="The cases the calling patroller reported (all a patroller sees of cases)",
    tags=["field"],
    response=ReportedCaseList,
    errors=(401, 403),
)
def my_reported_cases() -> ReportedCaseList:
    return _show(ReportedCaseList, {"cases": patrols.reported_cases(db_session(), current_user())})


@bp.get("/patrollers")
@endpoint(
    summary="Patrollers with their checks and confirmed findings",
    tags=["field"],
    response=PatrollerList,
    errors=(401, 403),
)
def list_patrollers() -> PatrollerList:
    stats = patrols.patroller_stats(db_session(), current_user())
    return _show(
        PatrollerList,
        {
            "patrollers": [
                {
                    "username": s.user.username,
                    "display_name": s.user.display_name,
                    "role": s.user.role,
                    "town": s.user.town_code,
                    "checks": s.checks,
                    "clean": s.clean,
                    "findings": s.findings,
                    "confirmed_findings": s.confirmed_findings,
                    "last_checked_at": s.last_checked_at,
                }
                for s in stats
            ]
        },
    )


@bp.get("/hotspots/<id:hotspot_id>/checks")
@endpoint(
    summary="A hotspot's patrol checks: last checked, checks a week, recent checks",
    tags=["field"],
    response=HotspotChecks,
    errors=(401, 403, 404),
)
def hotspot_checks(hotspot_id: int) -> HotspotChecks:
    session = db_session()
    hotspot = get_hotspot(session, hotspot_id)
    coverage = patrols.hotspot_coverage(session, hotspot, now=_now())
    recent = patrols.list_checks(session, current_user(), hotspot_id=hotspot.id, limit=20)
    return _show(
        HotspotChecks,
        {
            "hotspot_id": hotspot.id,
            "name": hotspot.name,
            "last_checked_at": coverage.last_checked_at,
            "checks_4_weeks": coverage.checks,
            "checks_per_week": coverage.checks_per_week,
            "findings_4_weeks": coverage.findings,
            "recent": _checks_json(recent),
        },
    )


# The device routes live in their own module on the same blueprint (registered by importing it).
from coordinator.field import alert_review_views, device_views  # noqa: E402, F401
