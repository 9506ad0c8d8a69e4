"""Eyes on the border: patrollers' checks, field devices (cameras, drones) with their flights, the alerts
they send, and the real-time warnings those alerts raised.

- `PatrolCheck`: a grid worker's or volunteer's check of a hotspot or any point — "clean" (kept as
  evidence of coverage) or "found" (a report through the normal intake, its case linked).
- `Device`: a camera (fixed position, view direction, owner district, the border pair it watches) or a
  drone (an operator squad), with its own signing secret, stored encrypted (HMAC needs the secret
  itself; a hash could not check a signature), and its flood counters.
- `DeviceNonce`: the nonces of accepted signed requests, kept while their timestamp is fresh (replays).
- `DroneFlight`: one flight's GPS track (time-ordered points), uploaded as GeoJSON or GPX.
- `AlertClass`: a detection class (dumping, vehicle unloading, …), the category its cases get and the
  confidence threshold above which an alert opens or joins a case without review (data).
- `Alert`: one detection, or several repeats folded into one (`count`); `AlertReceipt` maps each
  device alert id to the alert it became (a re-sent batch creates nothing).
- `RealtimeWarning`: the outbox message a confirmed night-time border alert raised, and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

CHECK_OUTCOMES = ("clean", "found")
DEVICE_KINDS = ("camera", "drone")
ALERT_STATUSES = ("pending_review", "confirmed", "dismissed")
LOCATION_SOURCES = ("device", "track", "payload")
TRACK_FORMATS = ("geojson", "gpx")
WARNING_VIA = ("roster", "on_call")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class PatrolCheck(Base):
    """One check by a patroller: where and when, clean or what was found (then a report and its case)."""

    __tablename__ = "patrol_check"
    __table_args__ = (
        CheckConstraint(f"outcome IN {_sql_list(CHECK_OUTCOMES)}", name="outcome"),
        CheckConstraint("(outcome = 'found') = (report_id IS NOT NULL)", name="finding_has_report"),
        Index("ix_patrol_check_hotspot_at", "hotspot_id", "checked_at"),
        Index("ix_patrol_check_patroller_at", "patroller_id", "checked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patroller_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    hotspot_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot.id"))
    town_code: Mapped[str] = mapped_column(String(32))
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Device(Base):
    """A camera or a drone that sends alerts, each request signed with its own secret."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(DEVICE_KINDS)}", name="kind"),
        CheckConstraint(
            "kind <> 'camera' OR (lon IS NOT NULL AND lat IS NOT NULL AND district_code IS NOT NULL)",
            name="camera_placed",
        ),
        CheckConstraint("kind <> 'drone' OR operator_squad_id IS NOT NULL", name="drone_operated"),
        CheckConstraint("(border_a IS NULL) = (border_b IS NULL)", name="border_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    # Fernet token of the signing secret (coordinator.field.devices.seal); never shown after creation.
    secret_sealed: Mapped[str] = mapped_column(String(400))
    secret_prefix: Mapped[str] = mapped_column(String(16))
    # Cameras: where it stands (WGS-84), which way it looks (degrees from north), whose it is, and the
    # border pair it watches (district codes, ascending).
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    view_direction_deg: Mapped[float | None] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(32))
    border_a: Mapped[str | None] = mapped_column(String(32))
    border_b: Mapped[str | None] = mapped_column(String(32))
    # Drones: the squad that flies it.
    operator_squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flood control: alerts counted in the current window; throttled until (the dispatcher was told).
    window_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_alerts: Mapped[int] = mapped_column(Integer, default=0)
    throttled_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    throttle_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DeviceNonce(Base):
    """The nonce of an accepted signed request; a second request with it is a replay."""

    __tablename__ = "device_nonce"
    __table_args__ = (UniqueConstraint("device_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class DroneFlight(Base):
    """A drone's flight: its GPS track as [unix seconds, lon, lat] points, time-ordered (WGS-84)."""

    __tablename__ = "drone_flight"
    __table_args__ = (
        CheckConstraint(f"format IN {_sql_list(TRACK_FORMATS)}", name="format"),
        CheckConstraint("ended_at >= started_at", name="period"),
        UniqueConstraint("device_id", "external_id"),
        Index("ix_drone_flight_device_period", "device_id", "started_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    points: Mapped[int] = mapped_column(Integer)
    track: Mapped[list[list[float]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AlertClass(Base):
    """A detection class, the category of the cases it opens and its confidence threshold (0–1)."""

    __tablename__ = "alert_class"
    __table_args__ = (CheckConstraint("threshold BETWEEN 0 AND 1", name="threshold"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    threshold: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Alert(Base):
    """One detection — or a storm of repeats of one device and class folded into it (`count`)."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(f"status IN {_sql_list(ALERT_STATUSES)}", name="status"),
        CheckConstraint(f"location_source IN {_sql_list(LOCATION_SOURCES)}", name="location_source"),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence"),
        CheckConstraint("status <> 'dismissed' OR dismiss_reason IS NOT NULL", name="dismiss_reason"),
        Index("ix_alert_storm", "device_id", "class_code", "last_detected_at"),
        Index("ix_alert_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    class_code: Mapped[str] = mapped_column(ForeignKey("alert_class.code"))
    confidence: Mapped[float] = mapped_column(Float)  # the highest of the folded detections
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the first detection
    last_detected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)
    lon: Mapped[float] = mapped_column(Float)  # WGS-84
    lat: Mapped[float] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(32), index=True)
    in_border_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    border_a: Mapped[str | None] = mapped_column(String(32))
    border_b: Mapped[str | None] = mapped_column(String(32))
    # The frame sent with the (first) detection, kept by the evidence store (subject "alert").
    frame_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    status: Mapped[str] = mapped_column(String(20))
    # "auto" (above the class threshold) or the dispatcher who confirmed or dismissed it.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dismiss_reason: Mapped[str | None] = mapped_column(String(500))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AlertReceipt(Base):
    """A device's own alert id and the alert it became (idempotency: a re-sent alert finds it here)."""

    __tablename__ = "alert_receipt"
    __table_args__ = (UniqueConstraint("device_id", "device_alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    device_alert_id: Mapped[str] = mapped_column(String(100))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RealtimeWarning(Base):
    """A real-time warning: a confirmed night-time border alert told, through the webhook outbox, to the
    squads on tonight's joint roster for its border pair, or else to the lead squad's on-call contact."""

    __tablename__ = "realtime_warning"
    __table_args__ = (CheckConstraint(f"via IN {_sql_list(WARNING_VIA)}", name="via"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    outbox_message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
