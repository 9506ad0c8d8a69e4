"""What the dispatcher desk shows: the dispatcher queue, pending transfers and overdue cases per squad,
within the dispatcher's scope (its district; an alliance dispatcher or an admin sees all). Plain functions
over a Session, like every service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.boundaries.services import current_areas
from coordinator.cases import queries
from coordinator.cases.models import OPEN_STATUSES, Case, CaseTransfer
from coordinator.squads.models import Squad


@dataclass(frozen=True)
class OverdueCount:
    """Open overdue cases led by one squad."""

    squad_code: str
    squad_name: str
    district: str
    count: int


def _scope(user: User) -> list[object]:
    """SQL conditions limiting cases to the user's district (none for admins and alliance dispatchers)."""
    if user.role == "dispatcher" and user.district_code is not None:
        return [Case.district_code == user.district_code]
    return []


def _overdue(now: datetime) -> object:
    return or_(
        and_(Case.claimed_by_id.is_(None), Case.claim_by < now),
        Case.resolve_by < now,
        Case.escalated_at.isnot(None),
    )


def dispatcher_queue(session: Session, user: User, *, now: datetime) -> list[Case]:
    """Cases that need a dispatcher: owned by a desk's queue (no squad), escalated by the SLA sweep, or
    outside the alliance's four districts — from the dispatcher's inbox, in its order."""
    members = {a.code for a in current_areas(session, level="district") if a.member}
    return [
        case
        for case in queries.inbox(session, user, now=now)
        if case.lead_squad_id is None or case.escalated_at is not None or case.district_code not in members
    ]


def pending_transfer_cases(session: Session, user: User) -> list[Case]:
    """Open cases with a pending transfer request — of the user's district, or addressed to one of its
    squads (whose dispatcher may decide it for the squad) — oldest request first."""
    scope: list[object] = []
    if user.role == "dispatcher" and user.district_code is not None:
        scope = [or_(Case.district_code == user.district_code, Squad.district_code == user.district_code)]
    stmt = (
        select(Case)
        .join(CaseTransfer, and_(CaseTransfer.case_id == Case.id, CaseTransfer.state == "pending"))
        .join(Squad, Squad.id == CaseTransfer.to_squad_id)
        .where(Case.status.in_(OPEN_STATUSES), *scope)  # type: ignore[arg-type]
        .order_by(CaseTransfer.requested_at, Case.id)
        .limit(200)
    )
    return list(session.scalars(stmt).all())


def overdue_per_squad(session: Session, user: User, *, now: datetime) -> list[OverdueCount]:
    """Open overdue (or escalated) cases per lead squad, most first."""
    count = func.count(Case.id)
    stmt = (
        select(Squad.code, Squad.name_zh, Squad.district_code, count)
        .join(Case, Case.lead_squad_id == Squad.id)
        .where(Case.status.in_(OPEN_STATUSES), _overdue(now), *_scope(user))  # type: ignore[arg-type]
        .group_by(Squad.code, Squad.name_zh, Squad.district_code)
        .order_by(count.desc(), Squad.code)
    )
    return [OverdueCount(code, name, district, n) for code, name, district, n in session.execute(stmt)]


def transfer_targets(session: Session, first_district: str | None = None) -> list[Squad]:
    """Active squads a case can be reassigned to: those of `first_district` first, then by district and
    code."""
    stmt = select(Squad).where(Squad.active.is_(True)).order_by(Squad.district_code, Squad.code)
    squads = list(session.scalars(stmt).all())
    return sorted(squads, key=lambda s: s.district_code != first_district)  # stable: keeps the order
