"""What the community domain does when a case changes: the one entry point the case trail calls
(coordinator.cases.events.add_event), so every lifecycle action — API, CLI, scheduler — behaves alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.community import feedback, rewards


def on_case_event(session: Session, case: Case, kind: str, at: datetime) -> None:
    """Tell the reporters of claims, resolutions and closes; credit rewards on verification and revoke
    them when the case is voided."""
    if kind in feedback.REPORTER_EVENTS:
        feedback.notify_reporters(session, case, kind, at=at)
    if kind == "verified":
        rewards.credit_case(session, case, now=at)
    elif kind == "voided":
        rewards.revoke_case(session, case, now=at)
