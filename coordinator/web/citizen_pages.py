"""What the reporters' pages show besides the case's progress: whether the reporter may still rate or
dispute the resolution (and what they already said), and their reward points. Plain functions over a
Session, like every service; the routes are in views.py, every change is a fetch to the community API
(`/api/v1/status/<token>/rating|dispute` for a status link, `/api/v1/my/reports/<id>/rating|dispute`
for an account), so the feedback window and the once-only rule are the API's alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.models import Case, Category, Report
from coordinator.community import feedback, rewards
from coordinator.community.presenters import feedback_out, ledger_line, my_report


def feedback_state(
    session: Session, report: Report, case: Case, *, now: datetime, window_days: int
) -> dict[str, Any]:
    """The report's rating and dispute (or None), until when they may be given (None: the case has no
    resolution yet), and whether that is still possible now."""
    given = feedback.existing_feedback(session, report.id)
    until = feedback.window_closes(case, window_days)
    return {
        "rating": feedback_out(given.get("rating")),
        "dispute": feedback_out(given.get("dispute")),
        "until": until,
        "open": until is not None and now <= until,
    }


def points(session: Session, who: rewards.Reporter | None) -> dict[str, Any] | None:
    """A reporter's balance and ledger lines (newest first); None when nobody can earn (no phone, no
    account)."""
    if who is None:
        return None
    return {
        "balance": rewards.balance(session, who),
        "history": [ledger_line(e) for e in rewards.history(session, who)],
    }


def status_link_points(session: Session, report: Report) -> dict[str, Any] | None:
    """The points of the phone a status link's report left (as `GET /api/v1/status/<token>/rewards`)."""
    if not report.reporter_phone:
        return None
    return points(session, rewards.Reporter(phone_hash=rewards.phone_hash(report.reporter_phone)))


def my_reports(session: Session, user: User, *, now: datetime, window_days: int) -> dict[str, Any]:
    """A reporter account's page: its reports as `GET /api/v1/my/reports` gives them, with the category's
    name and whether rating/dispute is open now, and the account's points."""
    rows = feedback.my_reports(session, user)
    names = {c.code: c.name_zh for c in session.scalars(select(Category))} if rows else {}
    reports = []
    for report in rows:
        entry = my_report(session, report, window_days=window_days)
        until = feedback.window_closes(report.case, window_days)
        entry["category_name"] = names.get(entry["category"], entry["category"])
        entry["feedback_open"] = until is not None and now <= until
        reports.append(entry)
    return {"reports": reports, "points": points(session, rewards.Reporter(user_id=user.id))}
