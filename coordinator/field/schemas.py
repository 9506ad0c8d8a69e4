"""Requests and answers of the field API: patrollers' checks, devices and flights, alerts and their
review, real-time warnings (they validate requests and generate the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coordinator.geolocation.schemas import CRS_HELP, CrsName
from coordinator.validation import (
    MAX_PAGE,
    Latitude,
    Longitude,
    PatchModel,
    QueryModel,
    Rfc3339DateTime,
    RowId,
    WebUrl,
    check_input_datetime,
)

CLOCK_SKEW = timedelta(hours=1)
DistrictCode = Literal["310116", "310117", "310115", "310120"]


def _past(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} needs a timezone offset")
    if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"{name} is in the future")
    return check_input_datetime(value)


# -- patrollers ------------------------------------------------------------------------------------


class CheckIn(BaseModel):
    """A patroller's check of a hotspot or any point of their town."""

    model_config = ConfigDict(extra="forbid")
    lon: Longitude = Field(description="Longitude (经度) from the phone's GPS.")
    lat: Latitude = Field(description="Latitude (纬度).")
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)
    accuracy_m: float | None = Field(default=None, ge=0, le=10_000, allow_inf_nan=False)
    checked_at: Rfc3339DateTime = Field(description="When the check was made (RFC 3339 with offset).")
    outcome: Literal["clean", "found"] = Field(description="`clean` (无异常) or `found` (发现问题).")
    hotspot_id: RowId | None = Field(default=None, description="The hotspot checked, if any.")
    category: str | None = Field(
        default=None, min_length=1, max_length=16, description="For `found`: a category code."
    )
    note: str = Field(default="", max_length=4000)
    photos: list[WebUrl] = Field(default_factory=list, max_length=9, description="Photo URLs.")

    @field_validator("checked_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime | None:
        return _past(value, "checked_at")


class CheckOut(BaseModel):
    """A recorded check."""

    id: int
    patroller: str
    town: str
    hotspot_id: int | None
    lon: float
    lat: float
    accuracy_m: float | None
    checked_at: datetime
    outcome: Literal["clean", "found"]
    note: str
    photos: list[str]
    report_id: int | None
    case_id: int | None
    case_number: str | None
    case_status: str | None


class CheckList(BaseModel):
    """Checks, newest first."""

    checks: list[CheckOut]


class CheckQuery(QueryModel):
    """Filters of the check list (patrollers always get only their own)."""

    hotspot_id: RowId | None = None
    patroller: str | None = Field(default=None, max_length=64, description="Username (staff only).")
    since: datetime | None = None
    limit: int = Field(default=100, ge=1, le=500)


class ReportedCase(BaseModel):
    """A case the caller reported (what a patroller sees of cases)."""

    number: str
    status: str
    category: str
    created_at: datetime
    reported_at: datetime


class ReportedCaseList(BaseModel):
    """The caller's reported cases, newest report first."""

    cases: list[ReportedCase]


class HotspotChecks(BaseModel):
    """How a hotspot is checked by patrollers, and its recent checks."""

    hotspot_id: int
    name: str
    last_checked_at: datetime | None
    checks_4_weeks: int = Field(description="Checks in the last four weeks.")
    checks_per_week: float = Field(description="Checks a week over the last four weeks.")
    findings_4_weeks: int
    recent: list[CheckOut]


class PatrollerOut(BaseModel):
    """One patroller's work."""

    username: str
    display_name: str
    role: Literal["grid_worker", "volunteer"]
    town: str
    checks: int
    clean: int
    findings: int
    confirmed_findings: int = Field(description="Findings whose case was verified or closed.")
    last_checked_at: datetime | None


class PatrollerList(BaseModel):
    """Patrollers with their checks and confirmed findings."""

    patrollers: list[PatrollerOut]


# -- devices and flights ---------------------------------------------------------------------------


class DeviceIn(BaseModel):
    """A camera (position, view direction, owner district, watched border pair) or a drone (operator)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["camera", "drone"]
    name: str = Field(default="", max_length=100)
    lon: Longitude | None = Field(default=None, description="Camera: WGS-84 longitude.")
    lat: Latitude | None = Field(default=None, description="Camera: WGS-84 latitude.")
    view_direction_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)
    district: DistrictCode | None = Field(default=None, description="Camera: the owner district.")
    border_pair: list[DistrictCode] | None = Field(
        default=None, min_length=2, max_length=2, description="Camera: the border pair it watches."
    )
    operator_squad: str | None = Field(default=None, max_length=32, description="Drone: the squad code.")


class DevicePatch(PatchModel):
    """Edits (omitted fields stay)."""

    name: str | None = Field(default=None, max_length=100)
    active: bool | None = None
    view_direction_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)


class DeviceOut(BaseModel):
    """A device (never its secret)."""

    code: str
    kind: Literal["camera", "drone"]
    name: str
    active: bool
    secret_prefix: str = Field(description="The first characters of its secret, to tell them apart.")
    lon: float | None
    lat: float | None
    view_direction_deg: float | None
    district: str | None
    border_pair: list[str] | None
    operator_squad: str | None
    throttled_until: datetime | None
    throttle_count: int
    last_seen_at: datetime | None
    created_at: datetime


class DeviceList(BaseModel):
    """Devices by code."""

    devices: list[DeviceOut]


class DeviceQuery(QueryModel):
    """Filters of the device list."""

    kind: Literal["camera", "drone"] | None = None


class DeviceSecret(BaseModel):
    """A device with its signing secret — shown this once; only an encrypted copy is kept."""

    device: DeviceOut
    secret: str = Field(description="HMAC-SHA256 key of the device's requests (see docs/field.md).")


class FlightOut(BaseModel):
    """A drone flight's track summary."""

    id: int
    device: str
    flight_id: str
    format: Literal["geojson", "gpx"]
    started_at: datetime
    ended_at: datetime
    points: int


class FlightList(BaseModel):
    """A drone's flights, latest first."""

    flights: list[FlightOut]


class FlightQuery(QueryModel):
    """The flight id of an upload (the device's own; the same id again with the same track is a retry)."""

    flight_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


# -- alerts ----------------------------------------------------------------------------------------


class AlertIn(BaseModel):
    """One detection."""

    model_config = ConfigDict(extra="forbid")
    alert_id: str = Field(
        min_length=1, max_length=100, description="The device's own id: sending it again creates nothing."
    )
    detection_class: str = Field(min_length=1, max_length=32, description="See GET /api/v1/alert-classes.")
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    detected_at: Rfc3339DateTime = Field(description="When it was detected (RFC 3339 with offset).")
    lon: Longitude | None = Field(default=None, description="A point; else the camera's or the track's.")
    lat: Latitude | None = None
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)
    frame: str | None = Field(default=None, description="The frame: a base64 JPEG.")
    note: str = Field(default="", max_length=500)

    @field_validator("detected_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime | None:
        return _past(value, "detected_at")


class AlertBatchIn(BaseModel):
    """A device's alerts (one or a batch)."""

    model_config = ConfigDict(extra="forbid")
    alerts: list[AlertIn] = Field(min_length=1, max_length=50)


class AlertOut(BaseModel):
    """An alert (one detection or a folded storm of repeats)."""

    id: int
    device: str | None
    detection_class: str
    confidence: float = Field(description="The highest confidence of its detections.")
    count: int = Field(description="Detections folded into it (storm control).")
    detected_at: datetime
    last_detected_at: datetime
    received_at: datetime
    lon: float
    lat: float
    location_source: Literal["device", "track", "payload"]
    district: str | None
    in_border_zone: bool
    border_pair: list[str] | None
    status: Literal["pending_review", "confirmed", "dismissed"]
    reviewed_at: datetime | None
    dismiss_reason: str | None
    case_id: int | None
    case_number: str | None
    frame_url: str | None


class AlertResult(BaseModel):
    """What became of one sent alert."""

    alert_id: str = Field(description="The device's own id.")
    id: int = Field(description="The alert it is (or was folded into).")
    status: Literal["pending_review", "confirmed", "dismissed"]
    duplicate: bool = Field(description="Sent before: nothing new was stored.")
    folded: bool = Field(description="Folded into an earlier alert of a storm.")
    count: int
    case_number: str | None


class AlertBatchOut(BaseModel):
    """The outcome of each sent alert, in the order sent."""

    results: list[AlertResult]


class AlertPage(BaseModel):
    """Alerts, newest first (the review queue: `status=pending_review`)."""

    alerts: list[AlertOut]
    total: int
    page: int
    per_page: int


class AlertQuery(QueryModel):
    """Filters of the alert list."""

    status: Literal["pending_review", "confirmed", "dismissed"] | None = None
    device: str | None = Field(default=None, max_length=64)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    per_page: int = Field(default=50, ge=1, le=200)


class DismissIn(BaseModel):
    """Why a pending alert is dismissed."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class AlertClassOut(BaseModel):
    """A detection class and its confidence threshold."""

    code: str
    name: str
    category: str
    threshold: float = Field(description="At or above: a case at once; below: the review queue.")
    active: bool


class AlertClassList(BaseModel):
    """Detection classes."""

    classes: list[AlertClassOut]


class AlertClassPatch(PatchModel):
    """A new threshold (or switch a class off)."""

    threshold: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    active: bool | None = None


class WarningOut(BaseModel):
    """A real-time warning and how long it took."""

    alert_id: int
    case_number: str
    via: Literal["roster", "on_call"]
    recipients: list[str | None]
    detected_at: datetime
    received_at: datetime
    queued_at: datetime
    delivered_at: datetime | None = Field(description="First successful webhook delivery, if any yet.")
    detection_to_queue_s: float
    receipt_to_queue_s: float
    detection_to_delivery_s: float | None


class WarningSummary(BaseModel):
    """Alert → notification times over the listed warnings (seconds)."""

    warnings: int
    delivered: int
    median_detection_to_queue_s: float | None
    max_detection_to_queue_s: float | None
    median_detection_to_delivery_s: float | None
    max_detection_to_delivery_s: float | None


class WarningList(BaseModel):
    """Recent real-time warnings with their timings, and a summary."""

    summary: WarningSummary
    warnings: list[WarningOut]


class WarningQuery(QueryModel):
    """Filters of the warning list."""

    since: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)
