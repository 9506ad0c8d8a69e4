"""Feedback to reporters: outbox messages when their case is claimed, resolved and closed, and the
reporter's rating or dispute of a resolution within the feedback window.

A reporter is told only through the channel they chose and only if they consented (`report.notify_*`):
we emit the event into the webhook outbox (coordinator.notifications) and an SMS or 随申办 gateway — a
separate system subscribed to the `reporter_*` kinds — delivers it. A dispute is the lifecycle's
`dispute` transition (coordinator.cases.lifecycle): the case goes back to `resolved`, on the
dispatcher's desk, who verifies (dispute rejected) or reopens it (upheld).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases import workflow
from coordinator.cases.models import Case, Report
from coordinator.community.models import ReportFeedback
from coordinator.errors import Conflict
from coordinator.notifications.services import enqueue
from coordinator.permissions import STATUS_LINK_ACTOR
from coordinator.privacy import redact_free_text
from coordinator.worktime import SHANGHAI

REPORTER_EVENTS = {
    "claimed": "reporter_claimed",
    "resolved": "reporter_resolved",
    "closed": "reporter_closed",
}
REPORTER_MESSAGES = {
    "claimed": "您反映的问题（{number}）已由执法中队认领，正在处置。",
    "resolved": "您反映的问题（{number}）已处置完毕：{note}",
    "closed": "您反映的问题（{number}）已结案。感谢您的参与，如对处置结果有异议，可在期限内评价或提出异议。",
}
RATEABLE = ("resolved", "verified", "closed")


def after_photos(session: Session, case: Case) -> list[str]:
    """The photos the squad filed with its resolution: the URLs it gave and its uploaded `after` photos
    (coordinator/evidence; fetched with the caller's rights, or through the status link)."""
    from coordinator.evidence.presenters import evidence_url
    from coordinator.evidence.services import list_evidence

    uploaded = [evidence_url(e) for e in list_evidence(session, "case", case.id, purpose="after")]
    return list(case.resolution_photos or []) + uploaded


def squad_feedback(case: Case) -> str | None:
    """The squad's resolution note as a citizen may read it (contact details in it masked)."""
    if case.resolution_note is None:
        return None
    return redact_free_text(case.resolution_note)


def recipient(report: Report) -> dict[str, Any] | None:
    """Where to tell a report's reporter, or None (no consent, no channel, or nothing to reach)."""
    if not report.notify_consent or report.notify_channel is None:
        return None
    if report.notify_channel == "app":
        if report.submitted_by_id is None:
            return None
        return {"channel": "app", "user_id": report.submitted_by_id}
    if not report.reporter_phone:
        return None
    return {"channel": report.notify_channel, "phone": report.reporter_phone}


def notify_reporters(session: Session, case: Case, kind: str, *, at: datetime) -> int:
    """One outbox message per consenting reporter of `case` (a reporter who sent several reports hears
    once); how many."""
    outbox_kind = REPORTER_EVENTS[kind]
    told: set[tuple[Any, ...]] = set()
    note = squad_feedback(case) or ""
    photos = after_photos(session, case) if kind in ("resolved", "closed") else []
    for report in case.reports:
        to = recipient(report)
        if to is None:
            continue
        key = tuple(sorted(to.items()))
        if key in told:
            continue
        told.add(key)
        payload = {
            "case_number": case.number,
            "report_id": report.id,
            "status": case.status,
            "recipient": to,
            "consent": True,
            "message": REPORTER_MESSAGES[kind].format(number=case.number, note=note),
            "feedback": note if kind in ("resolved", "closed") else None,
            "after_photos": photos,
            "at": at.astimezone(SHANGHAI).isoformat(),
        }
        enqueue(session, outbox_kind, case.id, payload, now=at)
    return len(told)


# -- rating and dispute ---------------------------------------------------------------------------------


def status_link_actor(report: Report) -> User:
    """The actor a secret status link stands for: an unsaved reporter that the case lifecycle's
    `reporter` predicate recognises as the reporter of exactly this report (never added to a session)."""
    return User(id=None, username=f"{STATUS_LINK_ACTOR}{report.id}", role="reporter", display_name="")


def window_closes(case: Case, window_days: int) -> datetime | None:
    """Until when the case's reporters may rate or dispute its resolution (None: nothing resolved)."""
    if case.status not in RATEABLE or case.resolved_at is None:
        return None
    return case.resolved_at + timedelta(days=window_days)


def _check_window(case: Case, *, now: datetime, window_days: int) -> None:
    closes = window_closes(case, window_days)
    if closes is None:
        raise Conflict(
            f"case {case.number} has no resolution to rate or dispute yet",
            code="not_resolved",
            details={"case": case.number, "status": case.status},
        )
    if now > closes:
        raise Conflict(
            f"the {window_days}-day window to rate or dispute case {case.number} has closed",
            code="feedback_window_closed",
            details={"case": case.number, "closed_at": closes.astimezone(SHANGHAI).isoformat()},
        )


def existing_feedback(session: Session, report_id: int) -> dict[str, ReportFeedback]:
    """The report's rating and dispute, by kind."""
    rows = session.scalars(select(ReportFeedback).where(ReportFeedback.report_id == report_id))
    return {f.kind: f for f in rows}


def _once(session: Session, report: Report, kind: str) -> None:
    if kind in existing_feedback(session, report.id):
        raise Conflict(
            f"this report's {kind} was already given",
            code=f"already_{'rated' if kind == 'rating' else 'disputed'}",
            details={"report_id": report.id},
        )


def rate(
    session: Session,
    report: Report,
    *,
    stars: int,
    comment: str,
    via: str,
    now: datetime,
    window_days: int,
) -> ReportFeedback:
    """Record the reporter's rating (1–5) of the resolution: once per report, within the window."""
    case = report.case
    _check_window(case, now=now, window_days=window_days)
    _once(session, report, "rating")
    row = ReportFeedback(
        report_id=report.id, case_id=case.id, kind="rating", stars=stars, comment=comment, via=via, at=now
    )
    session.add(row)
    session.flush()  # the unique constraint settles a race
    return row


def dispute(
    session: Session,
    report: Report,
    actor: User,
    *,
    reason: str,
    via: str,
    now: datetime,
    window_days: int,
) -> Case:
    """The reporter disputes the resolution: once per report, within the window; the case goes back to
    the dispatcher through the lifecycle's `dispute` transition."""
    case = report.case
    _check_window(case, now=now, window_days=window_days)
    _once(session, report, "dispute")
    session.add(
        ReportFeedback(report_id=report.id, case_id=case.id, kind="dispute", comment=reason, via=via, at=now)
    )
    session.flush()
    return workflow.dispute(session, case.id, actor, now=now, reason=reason)


def my_reports(session: Session, user: User, *, limit: int = 100) -> list[Report]:
    """The reports an account submitted, newest first."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.submitted_by_id == user.id)
            .order_by(Report.received_at.desc(), Report.id.desc())
            .limit(limit)
        )
    )
