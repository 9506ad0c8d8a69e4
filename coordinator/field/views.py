"""Field API: patrollers' checks, the device registry, drone flights, alert intake and review, and the
real-time warnings' timings. Thin views: parse, call a service, serialize.

`POST /alerts` and `POST /flights` are called by devices, not people: the policy hook lets them through
(public there) and the view authenticates the device's HMAC signature itself (coordinator.field.devices),
answering 401 without a valid one — like Open311's api_key routes.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, request
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from coordinator import permissions
from coordinator.api import ViewFunc, endpoint
from coordinator.auth.models import User
from coordinator.cases.views import current_calendar
from coordinator.errors import (
    ApiError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    ValidationFailed,
    render_error,
)
from coordinator.evidence import services as evidence
from coordinator.evidence.access import register_viewer
from coordinator.evidence.files import Limits
from coordinator.evidence.schemas import PHOTOS_PART
from coordinator.extensions import db_session
from coordinator.field import alerts as alert_service
from coordinator.field import devices, flights, patrols
from coordinator.field.frames import decode_frame
from coordinator.field.models import AlertClass, Device, DroneFlight, PatrolCheck
from coordinator.field.schemas import (
    AlertBatchIn,
    AlertBatchOut,
    AlertClassList,
    AlertClassPatch,
    AlertOut,
    AlertPage,
    AlertQuery,
    CheckIn,
    CheckList,
    CheckOut,
    CheckQuery,
    DeviceIn,
    DeviceList,
    DeviceOut,
    DevicePatch,
    DeviceQuery,
    DeviceSecret,
    DismissIn,
    FlightList,
    FlightOut,
    FlightQuery,
    HotspotChecks,
    PatrollerList,
    ReportedCaseList,
    WarningList,
    WarningQuery,
)
from coordinator.field.warnings import NightHours, list_warnings
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.hotspots.services import get_hotspot
from coordinator.policy import current_user
from coordinator.settings import get_settings
from coordinator.squads.models import Squad
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


# -- devices ---------------------------------------------------------------------------------------


def _device_json(device: Device, squad_codes: dict[int, str] | None = None) -> dict[str, Any]:
    squad_code = None
    if device.operator_squad_id is not None:
        if squad_codes is not None and device.operator_squad_id in squad_codes:
            squad_code = squad_codes[device.operator_squad_id]
        else:
            squad = db_session().get(Squad, device.operator_squad_id)
            squad_code = squad.code if squad else None
    return {
        "code": device.code,
        "kind": device.kind,
        "name": device.name,
        "active": device.active,
        "secret_prefix": device.secret_prefix,
        "lon": device.lon,
        "lat": device.lat,
        "view_direction_deg": device.view_direction_deg,
        "district": device.district_code,
        "border_pair": [device.border_a, device.border_b] if device.border_a and device.border_b else None,
        "operator_squad": squad_code,
        "throttled_until": device.throttled_until,
        "throttle_count": device.throttle_count,
        "last_seen_at": device.last_seen_at,
        "created_at": device.created_at,
    }


def _device_district(device: Device) -> str | None:
    if device.district_code is not None:
        return device.district_code
    squad = db_session().get(Squad, device.operator_squad_id) if device.operator_squad_id else None
    return squad.district_code if squad else None


def _require_manage_device(user: User, district: str | None) -> None:
    """Admins and alliance dispatchers manage every device; a district's dispatcher its district's."""
    if user.role == "admin" or user.district_code is None or district in (None, user.district_code):
        return  # (no district: the registration itself is refused as incomplete)
    raise Forbidden(
        "a district's dispatcher manages only its district's devices", details={"district": district}
    )


@bp.post("/devices")
@endpoint(
    summary="Register a camera or a drone; its signing secret is shown once",
    tags=["field"],
    body=DeviceIn,
    response=DeviceSecret,
    status=201,
    errors=(401, 403, 409, 422),
)
def register_device(body: DeviceIn) -> tuple[DeviceSecret, int]:
    session = db_session()
    user = current_user()
    district = body.district
    if district is None and body.operator_squad is not None:
        district = session.scalar(select(Squad.district_code).where(Squad.code == body.operator_squad))
    _require_manage_device(user, district)
    device, secret = devices.register_device(
        session,
        devices.DeviceInput(
            code=body.code,
            kind=body.kind,
            name=body.name,
            lon=body.lon,
            lat=body.lat,
            view_direction_deg=body.view_direction_deg,
            district=body.district,
            border_pair=(body.border_pair[0], body.border_pair[1]) if body.border_pair else None,
            operator_squad=body.operator_squad,
        ),
        key_material=_key_material(),
        created_by_id=user.id,
        now=_now(),
    )
    return _show(DeviceSecret, {"device": _device_json(device), "secret": secret}), 201


@bp.get("/devices")
@endpoint(summary="List devices", tags=["field"], query=DeviceQuery, response=DeviceList, errors=(401, 403))
def list_devices(query: DeviceQuery) -> DeviceList:
    session = db_session()
    squads = {k: v for k, v in session.execute(select(Squad.id, Squad.code))}
    return _show(
        DeviceList,
        {"devices": [_device_json(d, squads) for d in devices.list_devices(session, kind=query.kind)]},
    )


@bp.get("/devices/<code>")
@endpoint(summary="A device", tags=["field"], response=DeviceOut, errors=(401, 403, 404))
def get_device(code: str) -> DeviceOut:
    return _show(DeviceOut, _device_json(devices.get_device(db_session(), code)))


@bp.patch("/devices/<code>")
@endpoint(
    summary="Rename, (de)activate or turn a device",
    tags=["field"],
    body=DevicePatch,
    response=DeviceOut,
    errors=(401, 403, 404, 422),
)
def update_device(code: str, body: DevicePatch) -> DeviceOut:
    device = devices.get_device(db_session(), code)
    _require_manage_device(current_user(), _device_district(device))
    if body.name is not None:
        device.name = body.name
    if body.active is not None:
        device.active = body.active
    if body.view_direction_deg is not None:
        device.view_direction_deg = body.view_direction_deg
    db_session().flush()
    return _show(DeviceOut, _device_json(device))


@bp.post("/devices/<code>/secret")
@endpoint(
    summary="Issue a device a new signing secret (the old one stops working); shown once",
    tags=["field"],
    response=DeviceSecret,
    errors=(401, 403, 404),
)
def rotate_device_secret(code: str) -> DeviceSecret:
    session = db_session()
    device = devices.get_device(session, code)
    _require_manage_device(current_user(), _device_district(device))
    secret = devices.rotate_secret(session, device, key_material=_key_material())
    return _show(DeviceSecret, {"device": _device_json(device), "secret": secret})


def _flight_json(flight: DroneFlight, code: str) -> dict[str, Any]:
    return {
        "id": flight.id,
        "device": code,
        "flight_id": flight.external_id,
        "format": flight.format,
        "started_at": flight.started_at,
        "ended_at": flight.ended_at,
        "points": flight.points,
    }


@bp.get("/devices/<code>/flights")
@endpoint(summary="A drone's flights", tags=["field"], response=FlightList, errors=(401, 403, 404))
def list_flights(code: str) -> FlightList:
    session = db_session()
    device = devices.get_device(session, code)
    rows = session.scalars(
        select(DroneFlight).where(DroneFlight.device_id == device.id).order_by(DroneFlight.started_at.desc())
    )
    return _show(FlightList, {"flights": [_flight_json(f, device.code) for f in rows]})


# -- signed device requests ------------------------------------------------------------------------


def _signed_path() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _signed_device(body: bytes) -> Device:
    settings = get_settings()
    req = devices.SignedRequest(
        device_code=request.headers.get(devices.DEVICE_HEADER),
        timestamp=request.headers.get(devices.TIMESTAMP_HEADER),
        nonce=request.headers.get(devices.NONCE_HEADER),
        signature=request.headers.get(devices.SIGNATURE_HEADER),
        method=request.method,
        path=_signed_path(),
        body=body,
    )
    return devices.verify(
        db_session(), req, key_material=_key_material(), skew_s=settings.device_clock_skew_s, now=_now()
    )


def _claim_nonce(device: Device) -> None:
    devices.claim_nonce(
        db_session(),
        device,
        request.headers.get(devices.NONCE_HEADER, ""),
        now=_now(),
        keep_s=get_settings().device_clock_skew_s,
    )


def device_signed(limit: int) -> Callable[[ViewFunc], ViewFunc]:
    """Authenticate the device's signature before anything else of the request is looked at (its body
    is parsed only then): a request without a valid one is 401 whatever it holds. The device is in
    `g.device` for the view."""

    def decorate(fn: ViewFunc) -> ViewFunc:
        @wraps(fn)  # keeps the API operation and locator marks for the app and the OpenAPI document
        def view(*args: Any, **kwargs: Any) -> Any:
            g.device = _signed_device(_body_limit(limit))
            return fn(*args, **kwargs)

        return view

    return decorate


def _body_limit(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes", details={"max_bytes": limit})
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes", details={"max_bytes": limit})
    return body


@bp.post("/flights")
@device_signed(MAX_TRACK_BYTES)
@endpoint(
    summary="Upload a drone flight's GPS track (GeoJSON or GPX), signed by the drone",
    description="Body: GeoJSON (`application/geo+json`: a LineString Feature with `properties.coordTimes`, "
    "or Point Features with `properties.time`) or GPX (`application/gpx+xml`). Signed with the device "
    "headers (docs/field.md); the same `flight_id` with the same track again is a retry.",
    tags=["field"],
    query=FlightQuery,
    response=FlightOut,
    status=201,
    errors=(400, 401, 403, 409, 413, 415, 422),
)
def upload_flight(query: FlightQuery) -> tuple[FlightOut, int]:
    body = request.get_data(cache=True)
    device: Device = g.device
    mimetype = request.mimetype
    if mimetype in GEOJSON_TYPES:
        track, fmt = flights.parse_geojson(body), "geojson"
    elif mimetype in GPX_TYPES:
        track, fmt = flights.parse_gpx(body), "gpx"
    else:
        raise ApiError(
            "a track is GeoJSON (application/geo+json) or GPX (application/gpx+xml)",
            code="unsupported_media_type",
            status=415,
        )
    _claim_nonce(device)
    flight = flights.store_flight(
        db_session(), device, external_id=query.flight_id, fmt=fmt, track=track, now=_now()
    )
    return _show(FlightOut, _flight_json(flight, device.code)), 201


@bp.post("/alerts")
@needs_locator
@device_signed(MAX_ALERTS_BYTES)
@endpoint(
    summary="Send detections (one or a batch), signed by the camera or drone",
    description="Idempotent by device + `alert_id`; repeats within the storm window fold into one alert "
    "with a count; at or above the class threshold an alert opens or joins a case (source `camera` / "
    "`drone`), below it waits for review. Signature headers: docs/field.md. A flooding device gets 429 "
    "and the dispatcher is told.",
    tags=["field"],
    body=AlertBatchIn,
    response=AlertBatchOut,
    errors=(400, 401, 403, 409, 413, 415, 422, 429),
)
def receive_alerts(body: AlertBatchIn) -> Any:
    settings = get_settings()
    session = db_session()
    device: Device = g.device
    if len(body.alerts) > settings.alert_batch_max:
        raise ValidationFailed(
            f"at most {settings.alert_batch_max} alerts per request", code="batch_too_large"
        )
    limits = Limits(
        max_bytes=settings.alert_frame_max_bytes,
        max_pixels=settings.evidence_max_pixels,
        thumbnail_px=settings.evidence_thumbnail_px,
    )
    items = [
        alert_service.AlertInput(
            device_alert_id=a.alert_id,
            class_code=a.detection_class,
            confidence=a.confidence,
            detected_at=a.detected_at,
            lon=a.lon,
            lat=a.lat,
            crs=a.crs,
            frame=decode_frame(a.frame, limits=limits, index=i) if a.frame else None,
            note=a.note,
        )
        for i, a in enumerate(body.alerts)
    ]
    now = _now()
    throttled = alert_service.admit(
        session,
        device,
        len(items),
        limit=settings.device_alert_limit,
        window_s=settings.device_alert_window_s,
        throttle_s=settings.device_throttle_s,
        now=now,
    )
    if throttled is not None:
        # The throttle (and the dispatcher's notice) is kept; the alerts are not: the device retries later.
        session.commit()
        return render_error(
            TooManyRequests(
                f"device {device.code} is throttled until {throttled.until.isoformat()}: too many alerts",
                retry_after=throttled.retry_after,
                details={"throttled_until": throttled.until.isoformat()},
            )
        )
    _claim_nonce(device)
    outcomes = alert_service.receive_alerts(
        session,
        device,
        items,
        locator=current_locator(),
        calendar=current_calendar(),
        policy=_policy(),
        now=now,
    )
    return _show(
        AlertBatchOut,
        {
            "results": [
                {
                    "alert_id": o.device_alert_id,
                    "id": o.alert.id,
                    "status": o.alert.status,
                    "duplicate": o.duplicate,
                    "folded": o.folded,
                    "count": o.alert.count,
                    "case_number": o.case_number,
                }
                for o in outcomes
            ]
        },
    )


# -- review ----------------------------------------------------------------------------------------


def _alerts_json(alerts: list[Any]) -> list[dict[str, Any]]:
    session = db_session()
    device_ids = {a.device_id for a in alerts}
    codes = (
        {k: v for k, v in session.execute(select(Device.id, Device.code).where(Device.id.in_(device_ids)))}
        if device_ids
        else {}
    )
    numbers = {
        cid: number
        for cid, (number, _) in patrols.case_summaries(
            session, [a.case_id for a in alerts if a.case_id]
        ).items()
    }
    base = get_settings().public_base_url
    return [alert_service.alert_json(a, codes, numbers, base) for a in alerts]


@bp.get("/alerts")
@endpoint(
    summary="Alerts, newest first; the dispatcher's review queue is `status=pending_review`",
    tags=["field"],
    query=AlertQuery,
    response=AlertPage,
    errors=(401, 403),
)
def list_alerts(query: AlertQuery) -> AlertPage:
    alerts, total = alert_service.list_alerts(
        db_session(),
        current_user(),
        status=query.status,
        device=query.device,
        page=query.page,
        per_page=query.per_page,
    )
    return _show(
        AlertPage,
        {"alerts": _alerts_json(alerts), "total": total, "page": query.page, "per_page": query.per_page},
    )


def _visible_alert(alert_id: int) -> Any:
    alert = alert_service.get_alert(db_session(), alert_id)
    user = current_user()
    if user.role in ("dispatcher", "admin") and not alert_service.can_review(user, alert):
        raise NotFound(f"no alert {alert_id}", details={"id": alert_id})
    return alert


@bp.get("/alerts/<id:alert_id>")
@endpoint(summary="An alert", tags=["field"], response=AlertOut, errors=(401, 403, 404))
def get_alert(alert_id: int) -> AlertOut:
    return _show(AlertOut, _alerts_json([_visible_alert(alert_id)])[0])


@bp.post("/alerts/<id:alert_id>/confirm")
@needs_locator
@endpoint(
    summary="Confirm an alert from the review queue: it opens or joins a case",
    tags=["field"],
    response=AlertOut,
    errors=(401, 403, 404, 409),
)
def confirm_alert(alert_id: int) -> AlertOut:
    session = db_session()
    alert = alert_service.review_confirm(
        session,
        alert_service.get_alert(session, alert_id),
        current_user(),
        locator=current_locator(),
        calendar=current_calendar(),
        policy=_policy(),
        now=_now(),
    )
    return _show(AlertOut, _alerts_json([alert])[0])


@bp.post("/alerts/<id:alert_id>/dismiss")
@endpoint(
    summary="Dismiss an alert from the review queue, with a reason",
    tags=["field"],
    body=DismissIn,
    response=AlertOut,
    errors=(401, 403, 404, 409, 422),
)
def dismiss_alert(alert_id: int, body: DismissIn) -> AlertOut:
    session = db_session()
    alert = alert_service.review_dismiss(
        session, alert_service.get_alert(session, alert_id), current_user(), reason=body.reason, now=_now()
    )
    return _show(AlertOut, _alerts_json([alert])[0])


def _class_json(c: AlertClass) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name_zh,
        "category": c.category_code,
        "threshold": c.threshold,
        "active": c.active,
    }


@bp.get("/alert-classes")
@endpoint(
    summary="Detection classes and their confidence thresholds",
    tags=["field"],
    response=AlertClassList,
    errors=(401, 403),
)
def list_alert_classes() -> AlertClassList:
    classes = db_session().scalars(select(AlertClass).order_by(AlertClass.code))
    return _show(AlertClassList, {"classes": [_class_json(c) for c in classes]})


@bp.patch("/alert-classes/<code>")
@endpoint(
    summary="Change a detection class's confidence threshold (or switch it off)",
    tags=["field"],
    body=AlertClassPatch,
    response=AlertClassList,
    errors=(401, 403, 404, 422),
)
def update_alert_class(code: str, body: AlertClassPatch) -> AlertClassList:
    session = db_session()
    cls = session.get(AlertClass, code)
    if cls is None:
        raise NotFound(f"no detection class {code!r}", details={"code": code})
    if body.threshold is not None:
        cls.threshold = body.threshold
    if body.active is not None:
        cls.active = body.active
    cls.updated_at = _now()
    session.flush()
    return _show(AlertClassList, {"classes": [_class_json(cls)]})


# -- real-time warnings ----------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


@bp.get("/alerts/warnings")
@endpoint(
    summary="Real-time warnings: who was told, and the time from alert to notification",
    tags=["field"],
    query=WarningQuery,
    response=WarningList,
    errors=(401, 403),
)
def list_realtime_warnings(query: WarningQuery) -> WarningList:
    rows = list_warnings(db_session(), since=query.since, limit=query.limit)
    out: list[dict[str, Any]] = []
    queue: list[float] = []
    delivery: list[float] = []
    for row in rows:
        w = row.warning
        to_delivery = (row.delivered_at - w.detected_at).total_seconds() if row.delivered_at else None
        out.append(
            {
                "alert_id": w.alert_id,
                "case_number": row.case_number,
                "via": w.via,
                "recipients": w.recipients,
                "detected_at": w.detected_at,
                "received_at": w.received_at,
                "queued_at": w.queued_at,
                "delivered_at": row.delivered_at,
                "detection_to_queue_s": round((w.queued_at - w.detected_at).total_seconds(), 3),
                "receipt_to_queue_s": round((w.queued_at - w.received_at).total_seconds(), 3),
                "detection_to_delivery_s": round(to_delivery, 3) if to_delivery is not None else None,
            }
        )
        queue.append(out[-1]["detection_to_queue_s"])
        if to_delivery is not None:
            delivery.append(out[-1]["detection_to_delivery_s"])
    return _show(
        WarningList,
        {
            "summary": {
                "warnings": len(out),
                "delivered": len(delivery),
                "median_detection_to_queue_s": _median(queue),
                "max_detection_to_queue_s": max(queue) if queue else None,
                "median_detection_to_delivery_s": _median(delivery),
                "max_detection_to_delivery_s": max(delivery) if delivery else None,
            },
            "warnings": out,
        },
    )
