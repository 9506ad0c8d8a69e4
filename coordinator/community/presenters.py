"""Community payloads: reports as their reporter sees them, ledger lines, rules, compounds, filings (owner
contact per the caller's role, through coordinator.privacy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.models import Report
from coordinator.community import feedback, renovation
from coordinator.community.models import (
    Compound,
    Inspection,
    RenovationFiling,
    ReportFeedback,
    RewardEntry,
    RewardRule,
)
from coordinator.geojson import rfc7946
from coordinator.privacy import Contact, show_contact
from coordinator.worktime import SHANGHAI


def local(value: datetime | None) -> str | None:
    """A datetime in Asia/Shanghai, ISO 8601."""
    return value.astimezone(SHANGHAI).isoformat() if value else None


def feedback_out(row: ReportFeedback | None) -> dict[str, Any] | None:
    """A rating or dispute."""
    if row is None:
        return None
    return {"kind": row.kind, "stars": row.stars, "comment": row.comment, "at": local(row.at)}


def my_report(session: Session, report: Report, *, window_days: int) -> dict[str, Any]:
    """A report with its case's progress and the squad's feedback, as its reporter sees it."""
    case = report.case
    given = feedback.existing_feedback(session, report.id)
    resolved = case.status in feedback.RATEABLE
    return {
        "report_id": report.id,
        "case_number": case.number,
        "category": report.category_code,
        "status": case.status,
        "received_at": local(report.received_at),
        "feedback": feedback.squad_feedback(case) if resolved else None,
        "after_photos": feedback.after_photos(session, case) if resolved else [],
        "resolved_at": local(case.resolved_at) if resolved else None,
        "closed_at": local(case.closed_at),
        "feedback_until": local(feedback.window_closes(case, window_days)),
        "rating": feedback_out(given.get("rating")),
        "dispute": feedback_out(given.get("dispute")),
        "notify_channel": report.notify_channel,
        "notify_consent": report.notify_consent,
    }


def ledger_line(entry: RewardEntry) -> dict[str, Any]:
    """One ledger line."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "points": entry.points,
        "case_number": entry.case_number,
        "category": entry.category_code,
        "rule": entry.rule_name,
        "reference": entry.reference,
        "flag": entry.flag,
        "note": entry.note,
        "at": local(entry.at),
    }


def rule_out(rule: RewardRule) -> dict[str, Any]:
    """A reward rule."""
    return {
        "name": rule.name,
        "priority": rule.priority,
        "category": rule.category_code,
        "source": rule.source,
        "trigger": rule.trigger,
        "points": rule.points,
        "first_k": rule.first_k,
        "daily_cap": rule.daily_cap,
        "burst_count": rule.burst_count,
        "burst_minutes": rule.burst_minutes,
        "active": rule.active,
    }


def compound_out(session: Session, compound: Compound) -> dict[str, Any]:
    """A compound with its managers' usernames."""
    users = {m.user_id for m in compound.managers}
    names = sorted(session.get_one(User, uid).username for uid in users)
    return {
        "id": compound.id,
        "name": compound.name,
        "address": compound.address,
        "geometry": rfc7946(shape(compound.geometry)),  # rings wound as RFC 7946 says, whatever was sent
        "lon": compound.lon,
        "lat": compound.lat,
        "district": compound.district_code,
        "town": compound.town_code,
        "managers": names,
        "active": compound.active,
    }


def filing_summary(filing: RenovationFiling) -> dict[str, Any]:
    """A filing as listed: no personal data."""
    return {
        "id": filing.id,
        "number": filing.number,
        "state": filing.state,
        "compound_id": filing.compound_id,
        "compound": filing.compound.name,
        "flat": {"building": filing.building, "unit": filing.unit, "room": filing.room},
        "planned_start": filing.planned_start.isoformat(),
        "planned_end": filing.planned_end.isoformat(),
        "updated_at": local(filing.updated_at),
    }


def inspection_out(inspection: Inspection, photos: list[int] | None = None) -> dict[str, Any]:
    """An inspection."""
    return {
        "id": inspection.id,
        "kind": inspection.kind,
        "result": inspection.result,
        "notes": inspection.notes,
        "violation_category": inspection.violation_category,
        "case_number": inspection.case_number,
        "inspector": inspection.inspector,
        "at": local(inspection.at),
        "photos": photos or [],
    }


def filing_detail(
    session: Session,
    filing: RenovationFiling,
    viewer: User,
    *,
    documents: list[int] | None = None,
    photos: dict[int, list[int]] | None = None,
) -> dict[str, Any]:
    """A filing with the owner's contact as `viewer` may see it (unmasked reads are audited)."""
    owner = show_contact(
        session,
        viewer,
        Contact(name=filing.owner_name, phone=filing.owner_phone),
        subject_type="renovation_filing",
        subject_id=filing.id,
        purpose=f"renovation filing {filing.number}",
    )
    return {
        **filing_summary(filing),
        "owner": owner,
        "contractor": {"name": filing.contractor_name, "qualification": filing.contractor_qualification},
        "waste_plan": {
            "hauler": filing.waste_hauler,
            "schedule": filing.waste_schedule,
            "destination": filing.waste_destination,
        },
        "description": filing.description,
        "return_reasons": list(filing.return_reasons or []),
        "allowed_actions": renovation.allowed_filing_actions(viewer, filing),
        "events": [
            {
                "at": local(e.at),
                "actor": e.actor,
                "kind": e.kind,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
                "payload": e.payload,
            }
            for e in filing.events
        ],
        "inspections": [inspection_out(i, (photos or {}).get(i.id)) for i in filing.inspections],
        "documents": documents or [],
    }
