"""The device side of coordinator/field's routes: the registry of cameras and drones, their signed
requests (flights, alerts) and the dispatcher's alert review. Registered on the `field` blueprint by
coordinator/field/views.py (same endpoint names), kept apart so each module stays readable."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from sqlalchemy import select

from coordinator.api import ViewFunc, endpoint
from coordinator.auth.models import User
from coordinator.cases.views import current_calendar
from coordinator.errors import (
    ApiError,
    Forbidden,
    PayloadTooLarge,
    TooManyRequests,
    ValidationFailed,
    render_error,
)
from coordinator.evidence.files import Limits
from coordinator.extensions import db_session
from coordinator.field import alerts as alert_service
from coordinator.field import devices, flights
from coordinator.field.frames import decode_frame
from coordinator.field.models import Device, DroneFlight
from coordinator.field.schemas import (
    AlertBatchIn,
    AlertBatchOut,
    DeviceIn,
    DeviceList,
    DeviceOut,
    DevicePatch,
    DeviceQuery,
    DeviceSecret,
    FlightList,
    FlightOut,
    FlightQuery,
)
from coordinator.field.views import (
    GEOJSON_TYPES,
    GPX_TYPES,
    MAX_ALERTS_BYTES,
    MAX_TRACK_BYTES,
    _key_material,
    _now,
    _policy,
    _show,
    bp,
)
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.policy import current_user
from coordinator.settings import get_settings
from coordinator.squads.models import Squad

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
