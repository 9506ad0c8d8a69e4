"""Alert intake from cameras and drones: idempotent, storm-folded, thresholded, and reviewed.

`receive_alerts` takes one signed request's alerts (already checked for shape and frames):

1. A device alert id seen before (`AlertReceipt`) answers with the alert it became: a re-sent batch
   creates nothing.
2. The location: a point in the payload; else the camera's registered position; else, for a drone, its
   position at the detection time interpolated on the flight track that covers it (422 without one).
3. Storm control: a detection of the same device and class within `alert_storm_window_s` (and
   `alert_storm_radius_m`) of an alert that is not dismissed folds into it (`count` + 1, latest time,
   highest confidence) instead of making a new one.
4. At or above its class's threshold an alert is confirmed at once and opens or joins a case through
   the normal intake (source `camera` / `drone`); below it waits for a dispatcher (`confirm` → case,
   `dismiss` with a reason). A confirmed night-time border alert raises the real-time warning.

Flood control (`admit`) counts each device's alerts per window; a device over the limit is throttled
(429 with Retry-After) for `device_throttle_s`, and the dispatcher is told once per episode through the
outbox (`device_throttled`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.auth.services import Actor
from coordinator.cases.intake import ReportInput, submit_report
from coordinator.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coordinator.evidence.files import PreparedFile
from coordinator.field.flights import position_at
from coordinator.field.frames import store_frame
from coordinator.field.models import ALERT_STATUSES, Alert, AlertClass, AlertReceipt, Device
from coordinator.field.warnings import NightHours, frame_link, warn
from coordinator.geolocation.services import check_and_locate
from coordinator.notifications.models import OutboxMessage
from coordinator.worktime import WorkCalendar
from geo.locator import Locator

EARTH_RADIUS_M = 6_371_008.8
THROTTLE_KIND = "device_throttled"


@dataclass(frozen=True)
class AlertInput:
    """One alert as a device sends it (validated for shape; the frame decoded and checked)."""

    device_alert_id: str
    class_code: str
    confidence: float
    detected_at: datetime
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    frame: PreparedFile | None = None
    note: str = ""


@dataclass(frozen=True)
class AlertPolicy:
    """The knobs of alert intake (from the settings)."""

    storm_window_s: int
    storm_radius_m: float
    night: NightHours
    base_url: str


@dataclass
class AlertOutcome:
    """What became of one alert of the request."""

    device_alert_id: str
    alert: Alert
    duplicate: bool = False
    folded: bool = False
    case_number: str | None = None


@dataclass(frozen=True)
class Throttled:
    """The device is throttled: retry after this many seconds."""

    retry_after: int
    until: datetime


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# -- flood control ---------------------------------------------------------------------------------


def admit(
    session: Session,
    device: Device,
    alerts: int,
    *,
    limit: int,
    window_s: int,
    throttle_s: int,
    now: datetime,
) -> Throttled | None:
    """Count `alerts` new alerts against the device's window; None if admitted. Over the limit the device
    is throttled for `throttle_s` (the dispatcher told once per episode) and the caller answers 429."""
    if device.throttled_until is not None and device.throttled_until > now:
        return Throttled(math.ceil((device.throttled_until - now).total_seconds()), device.throttled_until)
    if device.window_started_at is None or (now - device.window_started_at).total_seconds() >= window_s:
        device.window_started_at = now
        device.window_alerts = 0
    device.window_alerts += alerts
    device.last_seen_at = now
    if device.window_alerts <= limit:
        session.flush()
        return None
    until = now + timedelta(seconds=throttle_s)
    device.throttled_until = until
    device.throttle_count += 1
    device.window_started_at, device.window_alerts = None, 0
    session.add(
        OutboxMessage(
            kind=THROTTLE_KIND,
            case_id=None,
            payload={
                "device": device.code,
                "kind": device.kind,
                "district": device.district_code,
                "limit": limit,
                "window_s": window_s,
                "throttled_until": until.isoformat(),
                "message": f"设备 {device.code} 告警过于频繁（{window_s} 秒内超过 {limit} 条），"
                f"已限流至 {until:%H:%M}，请检查设备",
            },
            created_at=now,
        )
    )
    session.flush()
    return Throttled(throttle_s, until)


# -- intake ----------------------------------------------------------------------------------------


def alert_classes(session: Session) -> dict[str, AlertClass]:
    """The active detection classes by code."""
    return {c.code: c for c in session.scalars(select(AlertClass).where(AlertClass.active.is_(True)))}


def _locate(
    session: Session, locator: Locator, device: Device, item: AlertInput, index: int
) -> tuple[float, float, str]:
    if item.lon is not None and item.lat is not None:
        loc = check_and_locate(locator, item.lon, item.lat, item.crs)
        return loc.lon, loc.lat, "payload"
    if device.kind == "camera" and device.lon is not None and device.lat is not None:
        return device.lon, device.lat, "device"
    if device.kind == "drone":
        position = position_at(session, device, item.detected_at)
        if position is not None:
            return position[0], position[1], "track"
    raise ValidationFailed(
        f"alerts[{index}]: no position — send lon/lat, or upload the flight track covering "
        f"{item.detected_at.isoformat()} first",
        code="no_position",
        details={"index": index, "device_alert_id": item.device_alert_id},
    )


def receive_alerts(
    session: Session,
    device: Device,
    items: Sequence[AlertInput],
    *,
    locator: Locator,
    calendar: WorkCalendar,
    policy: AlertPolicy,
    now: datetime,
) -> list[AlertOutcome]:
    """Take a request's alerts (see the module docstring). Every check comes before the first write."""
    classes = alert_classes(session)
    for i, item in enumerate(items):
        if item.class_code not in classes:
            raise ValidationFailed(
                f"alerts[{i}]: unknown detection class {item.class_code!r}",
                code="unknown_class",
                details={"index": i, "known": sorted(classes)},
            )
    ids = [item.device_alert_id for item in items]
    receipts = {
        r.device_alert_id: r
        for r in session.scalars(
            select(AlertReceipt).where(
                AlertReceipt.device_id == device.id, AlertReceipt.device_alert_id.in_(ids)
            )
        )
    }
    fresh: list[tuple[AlertInput, tuple[float, float, str]]] = []
    seen: set[str] = set(receipts)
    for i, item in enumerate(items):
        if item.device_alert_id not in seen:
            seen.add(item.device_alert_id)
            fresh.append((item, _locate(session, locator, device, item, i)))
    outcomes: dict[str, AlertOutcome] = {
        key: AlertOutcome(key, session.get_one(Alert, r.alert_id), duplicate=True)
        for key, r in receipts.items()
    }
    for item, (lon, lat, source) in fresh:
        cls = classes[item.class_code]
        target = _storm_target(session, device, item, lon, lat, policy)
        if target is not None:
            _fold(target, item)
            outcome = AlertOutcome(item.device_alert_id, target, folded=True)
        else:
            target = _new_alert(session, locator, device, item, lon, lat, source, now=now)
            outcome = AlertOutcome(item.device_alert_id, target)
        session.add(
            AlertReceipt(
                device_id=device.id, device_alert_id=item.device_alert_id, alert_id=target.id, received_at=now
            )
        )
        if item.frame is not None and target.frame_evidence_id is None:
            target.frame_evidence_id = store_frame(session, item.frame, target.id).id
        if target.status == "pending_review" and target.confidence >= cls.threshold:
            confirm(
                session, target, cls, device, None, locator=locator, calendar=calendar, policy=policy, now=now
            )
        outcomes[item.device_alert_id] = outcome
    session.flush()
    result = [outcomes[key] for key in dict.fromkeys(ids)]
    numbers = _case_numbers(session, [o.alert.case_id for o in result if o.alert.case_id is not None])
    for o in result:
        o.case_number = numbers.get(o.alert.case_id) if o.alert.case_id else None
    return result


def _case_numbers(session: Session, case_ids: list[int]) -> dict[int, str]:
    from coordinator.cases.models import Case

    if not case_ids:
        return {}
    return {k: v for k, v in session.execute(select(Case.id, Case.number).where(Case.id.in_(set(case_ids))))}


def _storm_target(
    session: Session, device: Device, item: AlertInput, lon: float, lat: float, policy: AlertPolicy
) -> Alert | None:
    window = timedelta(seconds=policy.storm_window_s)
    candidates = session.scalars(
        select(Alert)
        .where(
            Alert.device_id == device.id,
            Alert.class_code == item.class_code,
            Alert.status != "dismissed",
            Alert.last_detected_at >= item.detected_at - window,
            Alert.detected_at <= item.detected_at + window,
        )
        .order_by(Alert.last_detected_at.desc())
        .limit(5)
    )
    for alert in candidates:
        if _distance_m(alert.lon, alert.lat, lon, lat) <= policy.storm_radius_m:
            return alert
    return None


def _fold(alert: Alert, item: AlertInput) -> None:
    alert.count += 1
    alert.last_detected_at = max(alert.last_detected_at, item.detected_at)
    alert.detected_at = min(alert.detected_at, item.detected_at)
    alert.confidence = max(alert.confidence, item.confidence)


def _new_alert(
    session: Session,
    locator: Locator,
    device: Device,
    item: AlertInput,
    lon: float,
    lat: float,
    source: str,
    *,
    now: datetime,
) -> Alert:
    loc = locator.locate(lon, lat, with_distance=False)
    pair = sorted(loc.border_pair) if loc.border_pair else None
    alert = Alert(
        device_id=device.id,
        class_code=item.class_code,
        confidence=item.confidence,
        detected_at=item.detected_at,
        last_detected_at=item.detected_at,
        received_at=now,
        count=1,
        lon=lon,
        lat=lat,
        location_source=source,
        district_code=loc.district.code if loc.district else device.district_code,
        in_border_zone=loc.in_border_zone,
        border_a=pair[0] if pair else None,
        border_b=pair[1] if pair else None,
        status="pending_review",
        payload={"note": item.note} if item.note else {},
    )
    session.add(alert)
    session.flush()
    return alert


# -- confirming and dismissing ---------------------------------------------------------------------


def confirm(
    session: Session,
    alert: Alert,
    cls: AlertClass,
    device: Device,
    reviewer: Actor | None,
    *,
    locator: Locator,
    calendar: WorkCalendar,
    policy: AlertPolicy,
    now: datetime,
) -> Alert:
    """Confirm an alert: its report goes through the normal intake (opens or joins a case); a night-time
    border alert raises the real-time warning. `reviewer` None: confirmed automatically (threshold)."""
    when = alert.detected_at
    result = submit_report(
        session,
        locator,
        ReportInput(
            category=cls.category_code,
            lon=alert.lon,
            lat=alert.lat,
            description=f"{'摄像头' if device.kind == 'camera' else '无人机'} {device.code} 检测到"
            f"{cls.name_zh}（置信度 {alert.confidence:.2f}，{alert.count} 次）",
            source=device.kind,
            observed_at=when if when <= now else now,
            photos=[link] if (link := frame_link(policy.base_url, alert)) else [],
            external_id=f"alert-{alert.id}",
        ),
        submitter=reviewer,
        calendar=calendar,
        now=now,
    )
    alert.status = "confirmed"
    alert.reviewed_by_id = reviewer.id if reviewer is not None else None
    alert.reviewed_at = now
    alert.report_id = result.report_id
    alert.case_id = result.case_facts.id
    session.flush()
    warn(session, alert, night=policy.night, base_url=policy.base_url, now=now)
    return alert


def can_review(user: User, alert: Alert) -> bool:
    """Admins and alliance dispatchers review every alert; a district's dispatcher those located in it."""
    if user.role == "admin":
        return True
    return user.role == "dispatcher" and user.district_code in (None, alert.district_code)


def get_alert(session: Session, alert_id: int) -> Alert:
    """An alert by id, or 404."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}", details={"id": alert_id})
    return alert


def _reviewable(user: User, alert: Alert) -> None:
    if not can_review(user, alert):
        raise Forbidden(
            "only the dispatcher of the alert's district (or the alliance's, or an admin) reviews it",
            details={"district": alert.district_code},
        )
    if alert.status != "pending_review":
        raise Conflict(
            f"alert {alert.id} is {alert.status}, not waiting for review",
            code="not_pending",
            details={"status": alert.status},
        )


def review_confirm(
    session: Session,
    alert: Alert,
    user: User,
    *,
    locator: Locator,
    calendar: WorkCalendar,
    policy: AlertPolicy,
    now: datetime,
) -> Alert:
    """A dispatcher confirms a pending alert: it becomes a case (opened or joined)."""
    _reviewable(user, alert)
    cls = session.get_one(AlertClass, alert.class_code)
    device = session.get_one(Device, alert.device_id)
    return confirm(
        session, alert, cls, device, user, locator=locator, calendar=calendar, policy=policy, now=now
    )


def review_dismiss(session: Session, alert: Alert, user: User, *, reason: str, now: datetime) -> Alert:
    """A dispatcher dismisses a pending alert with a reason (a false positive, a known activity…)."""
    _reviewable(user, alert)
    alert.status = "dismissed"
    alert.dismiss_reason = reason
    alert.reviewed_by_id = user.id
    alert.reviewed_at = now
    session.flush()
    return alert


def _review_scope(user: User) -> list[Any]:
    """SQL conditions limiting alerts to those `user` may review (a district's dispatcher: its district)."""
    if user.role == "dispatcher" and user.district_code is not None:
        return [Alert.district_code == user.district_code]
    return []


def count_by_status(session: Session, user: User) -> dict[str, int]:
    """How many alerts the user may review are in each status (every status present, 0 if none): the
    review queue's size is `pending_review`."""
    from sqlalchemy import func

    rows = session.execute(
        select(Alert.status, func.count()).where(*_review_scope(user)).group_by(Alert.status)
    )
    counts = dict.fromkeys(ALERT_STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


def last_alert_times(session: Session) -> dict[int, datetime]:
    """Per device id, the time of its latest detection."""
    from sqlalchemy import func

    rows = session.execute(
        select(Alert.device_id, func.max(Alert.last_detected_at)).group_by(Alert.device_id)
    )
    return {device_id: at for device_id, at in rows if at is not None}


def list_alerts(
    session: Session,
    user: User,
    *,
    status: str | None,
    device: str | None,
    page: int,
    per_page: int,
) -> tuple[list[Alert], int]:
    """Alerts the user may review (a district's dispatcher: those in its district), newest first."""
    from sqlalchemy import func

    stmt = select(Alert).where(*_review_scope(user))
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if device is not None:
        stmt = stmt.join(Device, Device.id == Alert.device_id).where(Device.code == device)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Alert.received_at.desc(), Alert.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total


def alert_json(
    alert: Alert, device_codes: dict[int, str], numbers: dict[int, str], base_url: str
) -> dict[str, Any]:
    """An alert as the API shows it."""
    return {
        "id": alert.id,
        "device": device_codes.get(alert.device_id),
        "detection_class": alert.class_code,
        "confidence": alert.confidence,
        "count": alert.count,
        "detected_at": alert.detected_at,
        "last_detected_at": alert.last_detected_at,
        "received_at": alert.received_at,
        "lon": alert.lon,
        "lat": alert.lat,
        "location_source": alert.location_source,
        "district": alert.district_code,
        "in_border_zone": alert.in_border_zone,
        "border_pair": [alert.border_a, alert.border_b] if alert.border_a and alert.border_b else None,
        "status": alert.status,
        "reviewed_at": alert.reviewed_at,
        "dismiss_reason": alert.dismiss_reason,
        "case_id": alert.case_id,
        "case_number": numbers.get(alert.case_id) if alert.case_id else None,
        "frame_url": frame_link(base_url, alert),
    }
