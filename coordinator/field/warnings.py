"""Real-time warning (实时预警): a confirmed night-time alert in a border zone is told, through the webhook
outbox, to the squads on tonight's joint roster for that border pair — or, with no such patrol tonight,
to the lead squad's on-call contact (its `contact_channel`; a case in a dispatcher queue: the desk's).
The message carries the case number, a map link and the frame's URL; the time from detection (and from
receipt) to the queued notification is recorded, and delivery times come from the webhook deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.db import UtcDateTime
from coordinator.field.models import Alert, AlertClass, Device, RealtimeWarning
from coordinator.hotspots.models import Hotspot
from coordinator.notifications.models import OutboxMessage, WebhookDelivery
from coordinator.rosters.models import Roster, RosterShift
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime import SHANGHAI

WARNING_KIND = "realtime_warning"
NOON = 12  # a time before noon belongs to the previous evening's night


@dataclass(frozen=True)
class NightHours:
    """Night in Asia/Shanghai hours: from `start` (e.g. 20) to `end` (e.g. 6) the next morning."""

    start: int
    end: int

    def contains(self, when: datetime) -> bool:
        """Whether `when` falls in the night."""
        hour = when.astimezone(SHANGHAI).hour
        if self.start > self.end:
            return hour >= self.start or hour < self.end
        return self.start <= hour < self.end


def roster_night(when: datetime) -> date:
    """The roster night `when` belongs to (a shift's `night` is the evening's date)."""
    local = when.astimezone(SHANGHAI)
    return local.date() - timedelta(days=1) if local.hour < NOON else local.date()


def map_link(base_url: str, case: Case) -> str:
    """A link that opens the case on the web map."""
    return f"{base_url.rstrip('/')}/map?" + urlencode({"case": case.number, "lon": case.lon, "lat": case.lat})


def frame_link(base_url: str, alert: Alert) -> str | None:
    """The URL of the alert's frame, if it has one."""
    if alert.frame_evidence_id is None:
        return None
    return f"{base_url.rstrip('/')}/api/v1/evidence/{alert.frame_evidence_id}"


def tonight_squads(session: Session, pair: tuple[str, str], night: date) -> list[Squad]:
    """The squads of the published, planned patrols of `night` at hotspots of the border `pair`."""
    shifts = session.execute(
        select(RosterShift.squad_a_id, RosterShift.squad_b_id)
        .join(Roster, Roster.id == RosterShift.roster_id)
        .join(Hotspot, Hotspot.id == RosterShift.hotspot_id)
        .where(
            Roster.status == "published",
            RosterShift.status == "planned",
            RosterShift.night == night,
            Hotspot.district_a == pair[0],
            Hotspot.district_b == pair[1],
        )
        .order_by(RosterShift.id)
    ).all()
    ids = list(dict.fromkeys(q for row in shifts for q in row))
    if not ids:
        return []
    squads = {s.id: s for s in session.scalars(select(Squad).where(Squad.id.in_(ids)))}
    return [squads[i] for i in ids]


def warn(
    session: Session,
    alert: Alert,
    *,
    night: NightHours,
    base_url: str,
    now: datetime,
) -> RealtimeWarning | None:
    """Queue the real-time warning of a confirmed alert with a case, if it is a night-time border alert
    (once per alert). None when it is not."""
    if alert.case_id is None or alert.status != "confirmed" or not night.contains(alert.detected_at):
        return None
    case = session.get_one(Case, alert.case_id)
    if not case.in_border_zone or case.border_pair_a is None or case.border_pair_b is None:
        return None
    if session.scalar(select(RealtimeWarning.id).where(RealtimeWarning.alert_id == alert.id)) is not None:
        return None
    pair = (min(case.border_pair_a, case.border_pair_b), max(case.border_pair_a, case.border_pair_b))
    squads = tonight_squads(session, pair, roster_night(alert.detected_at))
    recipients: list[dict[str, Any]]
    if squads:
        via = "roster"
        recipients = [{"squad": s.code, "name": s.name_zh, "contact": s.contact_channel} for s in squads]
    else:
        via = "on_call"
        lead = session.get(Squad, case.lead_squad_id) if case.lead_squad_id else None
        if lead is not None:
            recipients = [{"squad": lead.code, "name": lead.name_zh, "contact": lead.contact_channel}]
        else:
            unit = session.get(DispatchUnit, case.queue_unit_id) if case.queue_unit_id else None
            recipients = (
                [{"unit": unit.code, "name": unit.name_zh, "contact": unit.contact_channel}] if unit else []
            )
    device = session.get_one(Device, alert.device_id)
    cls = session.get_one(AlertClass, alert.class_code)
    payload = {
        "alert_id": alert.id,
        "case_number": case.number,
        "map_link": map_link(base_url, case),
        "frame_url": frame_link(base_url, alert),
        "detection": cls.name_zh,
        "class": alert.class_code,
        "confidence": alert.confidence,
        "device": device.code,
        "detected_at": alert.detected_at.astimezone(SHANGHAI).isoformat(),
        "border_pair": list(pair),
        "via": via,
        "recipients": recipients,
        "message": f"【实时预警】{device.code} 于 {alert.detected_at.astimezone(SHANGHAI):%H:%M} 发现"
        f"{cls.name_zh}，案件 {case.number}，请就近处置",
    }
    message = OutboxMessage(kind=WARNING_KIND, case_id=case.id, payload=payload, created_at=now)
    session.add(message)
    session.flush()
    warning = RealtimeWarning(
        alert_id=alert.id,
        case_id=case.id,
        outbox_message_id=message.id,
        via=via,
        recipients=[r.get("squad") or r.get("unit") for r in recipients],
        detected_at=alert.detected_at,
        received_at=alert.received_at,
        queued_at=now,
    )
    session.add(warning)
    session.flush()
    return warning


@dataclass(frozen=True)
class WarningTiming:
    """One warning and how long it took."""

    warning: RealtimeWarning
    case_number: str
    delivered_at: datetime | None


def list_warnings(
    session: Session, *, since: datetime | None = None, limit: int = 100
) -> list[WarningTiming]:
    """Recent warnings, newest first, with the first successful webhook delivery of each."""
    delivered = (
        select(
            WebhookDelivery.message_id,
            func.min(WebhookDelivery.delivered_at, type_=UtcDateTime()).label("delivered_at"),
        )
        .where(WebhookDelivery.state == "delivered")
        .group_by(WebhookDelivery.message_id)
        .subquery()
    )
    stmt = (
        select(RealtimeWarning, Case.number, delivered.c.delivered_at)
        .join(Case, Case.id == RealtimeWarning.case_id)
        .outerjoin(delivered, delivered.c.message_id == RealtimeWarning.outbox_message_id)
        .order_by(RealtimeWarning.queued_at.desc(), RealtimeWarning.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(RealtimeWarning.queued_at >= since)
    return [WarningTiming(w, number, at) for w, number, at in session.execute(stmt)]
