"""The dispatcher's side of coordinator/field's alerts: the review queue (confirm → case, dismiss with a
reason) and the real-time warnings with their times. Registered on the `field` blueprint by
coordinator/field/views.py (same endpoint names)."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import select

from coordinator.api import endpoint
from coordinator.cases.views import current_calendar
from coordinator.errors import (
    NotFound,
)
from coordinator.extensions import db_session
from coordinator.field import alerts as alert_service
from coordinator.field import patrols
from coordinator.field.models import AlertClass, Device
from coordinator.field.schemas import (
    AlertClassList,
    AlertClassPatch,
    AlertOut,
    AlertPage,
    AlertQuery,
    DismissIn,
    WarningList,
    WarningQuery,
)
from coordinator.field.views import (
    _now,
    _policy,
    _show,
    bp,
)
from coordinator.field.warnings import list_warnings
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.policy import current_user
from coordinator.settings import get_settings

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
