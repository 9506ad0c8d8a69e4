"""The pages of camera and drone alerts (issue 20), on the `web` blueprint:

- `/alerts`: the dispatcher's review queue — alerts below their class's threshold, in the dispatcher's
  scope (its district; alliance dispatchers and admins: all) — with the frame, device, detection,
  confidence, time, place and storm-folded count; tabs for the reviewed ones (confirmed, dismissed).
  Confirming and dismissing are fetches to `POST /api/v1/alerts/{id}/confirm|dismiss`
  (static/web/alerts.js), under the API's rules.
- `/devices`: the read-only registry of cameras and drones, with each one's latest alert; devices are
  registered through `POST /api/v1/devices` (docs/field.md), never here.

The pages only read, through coordinator.field's services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from flask import render_template
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.api import parse_query
from coordinator.auth.models import User
from coordinator.boundaries import services as boundaries
from coordinator.cases.models import Case
from coordinator.extensions import db_session
from coordinator.field import alerts as alert_service
from coordinator.field import devices as device_service
from coordinator.field.models import Alert, AlertClass, Device, DroneFlight
from coordinator.policy import current_user
from coordinator.squads.models import Squad
from coordinator.validation import MAX_PAGE, QueryModel
from coordinator.web import bp

PER_PAGE = 30
FLIGHTS_SHOWN = 3
EVIDENCE = "/api/v1/evidence"


class AlertsPageQuery(QueryModel):
    """The review page's tab (an alert status) and page."""

    status: Literal["pending_review", "confirmed", "dismissed"] = "pending_review"
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


@dataclass(frozen=True)
class AlertRow:
    """One alert as the review page shows it."""

    alert: Alert
    device: Device | None
    class_name: str
    threshold: float | None
    district: str
    border_pair: str
    case_number: str | None
    reviewer: str | None

    @property
    def confidence_pct(self) -> int:
        """The confidence in whole percent."""
        return round(self.alert.confidence * 100)

    @property
    def threshold_pct(self) -> int | None:
        """The class's threshold in whole percent."""
        return None if self.threshold is None else round(self.threshold * 100)

    @property
    def frame(self) -> str | None:
        """The frame's URL on this site (the API's `frame_url` names the configured public host)."""
        return f"{EVIDENCE}/{self.alert.frame_evidence_id}" if self.alert.frame_evidence_id else None

    @property
    def thumbnail(self) -> str | None:
        """The frame's thumbnail URL on this site."""
        return f"{self.frame}/thumbnail" if self.frame else None

    @property
    def map_link(self) -> str:
        """The web map zoomed in at the alert's place."""
        return f"/map#17/{self.alert.lat:.5f}/{self.alert.lon:.5f}"


def _district_names(session: Session) -> dict[str, str]:
    return {a.code: a.name_zh for a in boundaries.current_areas(session, level="district")}


def _pair(names: dict[str, str], a: str | None, b: str | None) -> str:
    return f"{names.get(a, a)}–{names.get(b, b)}" if a and b else ""


def alert_rows(session: Session, alerts: list[Alert]) -> list[AlertRow]:
    """The alerts with what the page shows of their device, class, place, case and reviewer."""
    device_ids = {a.device_id for a in alerts}
    devices = (
        {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(device_ids)))}
        if device_ids
        else {}
    )
    classes = {c.code: c for c in session.scalars(select(AlertClass))}
    case_ids = {a.case_id for a in alerts if a.case_id is not None}
    numbers = (
        {k: v for k, v in session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))}
        if case_ids
        else {}
    )
    reviewer_ids = {a.reviewed_by_id for a in alerts if a.reviewed_by_id is not None}
    reviewers = (
        {k: v for k, v in session.execute(select(User.id, User.username).where(User.id.in_(reviewer_ids)))}
        if reviewer_ids
        else {}
    )
    names = _district_names(session)
    rows = []
    for a in alerts:
        cls = classes.get(a.class_code)
        rows.append(
            AlertRow(
                alert=a,
                device=devices.get(a.device_id),
                class_name=cls.name_zh if cls else a.class_code,
                threshold=cls.threshold if cls else None,
                district=names.get(a.district_code or "", a.district_code or ""),
                border_pair=_pair(names, a.border_a, a.border_b),
                case_number=numbers.get(a.case_id) if a.case_id else None,
                reviewer=reviewers.get(a.reviewed_by_id) if a.reviewed_by_id else None,
            )
        )
    return rows


def status_tabs() -> list[tuple[str, str]]:
    """The page's tabs: (alert status, label)."""
    return [
        ("pending_review", _("Awaiting review")),
        ("confirmed", _("Confirmed")),
        ("dismissed", _("Dismissed")),
    ]


@bp.get("/alerts")
def alerts_page() -> str:
    """The alert review queue (`?status=pending_review`, the default) and the reviewed alerts."""
    query = parse_query(AlertsPageQuery)
    assert isinstance(query, AlertsPageQuery)
    session = db_session()
    user = current_user()
    alerts, total = alert_service.list_alerts(
        session, user, status=query.status, device=None, page=query.page, per_page=PER_PAGE
    )
    return render_template(
        "web/alerts.html",
        status=query.status,
        tabs=status_tabs(),
        counts=alert_service.count_by_status(session, user),
        rows=alert_rows(session, alerts),
        total=total,
        page=query.page,
        pages=max(1, -(-total // PER_PAGE)),
        kind_labels=device_kind_labels(),
        alert_texts={
            "confirmed": _("Confirmed: case"),
            "dismissed": _("Alert dismissed"),
            "reason_required": _("Please give a reason"),
            "not_pending": _("Someone has already reviewed this alert; reload the page"),
            "empty": _("No alert is waiting for review."),
        },
    )


def device_kind_labels() -> dict[str, str]:
    """Device kinds in the page's language."""
    return {"camera": _("Camera"), "drone": _("Drone")}


def compass(degrees: float | None) -> str:
    """A view direction (degrees from north) as one of eight compass points, in the page's language."""
    if degrees is None:
        return ""
    points = [_("N"), _("NE"), _("E"), _("SE"), _("S"), _("SW"), _("W"), _("NW")]
    return str(points[round((degrees % 360) / 45) % 8])


@dataclass(frozen=True)
class DeviceRow:
    """One device as the registry page shows it."""

    device: Device
    district: str
    border_pair: str
    squad: str
    last_alert: datetime | None
    flights: list[DroneFlight]


def device_rows(session: Session) -> list[DeviceRow]:
    """Every device with its owner district, border pair, operator squad, latest alert and, for drones,
    the latest flights."""
    devices = device_service.list_devices(session)
    names = _district_names(session)
    squads = {s.id: s for s in session.scalars(select(Squad))}
    last = alert_service.last_alert_times(session)
    flights: dict[int, list[DroneFlight]] = {}
    drone_ids = [d.id for d in devices if d.kind == "drone"]
    if drone_ids:
        for flight in session.scalars(
            select(DroneFlight)
            .where(DroneFlight.device_id.in_(drone_ids))
            .order_by(DroneFlight.started_at.desc())
        ):
            shown = flights.setdefault(flight.device_id, [])
            if len(shown) < FLIGHTS_SHOWN:
                shown.append(flight)
    rows = []
    for d in devices:
        squad = squads.get(d.operator_squad_id) if d.operator_squad_id else None
        district = d.district_code or (squad.district_code if squad else None)
        rows.append(
            DeviceRow(
                device=d,
                district=names.get(district or "", district or ""),
                border_pair=_pair(names, d.border_a, d.border_b),
                squad=f"{squad.name_zh} ({squad.code})" if squad else "",
                last_alert=last.get(d.id),
                flights=flights.get(d.id, []),
            )
        )
    return rows


@bp.get("/devices")
def devices_page() -> str:
    """The registry of cameras and drones (read-only)."""
    rows = device_rows(db_session())
    context: dict[str, Any] = {
        "cameras": [r for r in rows if r.device.kind == "camera"],
        "drones": [r for r in rows if r.device.kind == "drone"],
        "compass": compass,
    }
    return render_template("web/devices.html", **context)
