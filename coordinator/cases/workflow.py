"""Case actions after routing: claim, start, resolve, verify, close, reopen, void and transfers.

Every action follows one pattern: load the case, ask `lifecycle.check` (403/409), then move the row with
a conditional UPDATE (`… WHERE id = :id AND status = :seen [AND claimed_by_id IS NULL]`) and check the
row count. The database decides races: of fifty simultaneous claims exactly one UPDATE matches; the
others match nothing, re-read the case and answer 409 naming the holder. Each change appends a case
event (and an outbox message) in the same transaction. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases import lifecycle
from coordinator.cases.events import add_event
from coordinator.cases.models import Case, CasePartner, CaseTransfer, Category
from coordinator.cases.queries import get_case
from coordinator.dialects import begin_write
from coordinator.errors import Forbidden, NotFound, ValidationFailed
from coordinator.permissions import is_case_dispatcher
from coordinator.refcache import cached
from coordinator.squads.models import Squad
from coordinator.worktime import WorkCalendar
from coordinator.worktime.services import load_calendar

VOID_REASONS = ("duplicate", "not_actionable", "false_report")


@dataclass(frozen=True)
class Evidence:
    """What a resolution rests on: a note and photo URLs, or a dispatcher's waiver (with its reason)."""

    note: str = ""
    photos: Sequence[str] = ()
    waiver: str | None = None


def pending_transfer(session: Session, case_id: int) -> CaseTransfer | None:
    """The case's pending transfer request, if any (at most one: a partial unique index)."""
    return session.scalars(
        select(CaseTransfer).where(CaseTransfer.case_id == case_id, CaseTransfer.state == "pending")
    ).one_or_none()


def pending_transfers(session: Session, case_ids: Sequence[int]) -> dict[int, CaseTransfer]:
    """Pending transfers of many cases (for listings)."""
    if not case_ids:
        return {}
    rows = session.scalars(
        select(CaseTransfer).where(CaseTransfer.case_id.in_(case_ids), CaseTransfer.state == "pending")
    )
    return {t.case_id: t for t in rows}


def _move(
    session: Session,
    case: Case,
    action: str,
    user: User,
    *,
    now: datetime,
    values: dict[str, Any] | None = None,
    guard: Sequence[ColumnElement[bool]] = (),
) -> str:
    """Apply `action`'s state change with a conditional UPDATE; 409 if someone else moved first.
    Returns the status the case left."""
    begin_write(session)
    pending = pending_transfer(session, case.id)
    transition = lifecycle.check(case, action, user, pending)
    seen = case.status
    target = transition.target or seen
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == seen, *guard)
        .values(status=target, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(case)
        raise lifecycle.conflict(case, action, user, pending_transfer(session, case.id))
    session.refresh(case)
    return seen


def working_hours_since_created(
    session: Session, case: Case, now: datetime, calendar: WorkCalendar | None
) -> float:
    """Working hours on the SLA clock from the case's creation to `now` (the review's time to claim and
    time to close). Without a calendar, the stored one (holidays, 调休, overrides) through the cache."""
    if calendar is None:
        calendar = cached(session, "calendar", load_calendar)
    return round(calendar.working_hours_between(case.created_at, now), 4)


def claim(
    session: Session, case_id: int, user: User, *, now: datetime, calendar: WorkCalendar | None = None
) -> Case:
    """Claim a routed case for the caller (lead or partner squad). Exactly one concurrent claim wins."""
    case = get_case(session, case_id)
    work_h = working_hours_since_created(session, case, now, calendar)
    seen = _move(
        session,
        case,
        "claim",
        user,
        now=now,
        values={"claimed_by_id": user.id, "claimed_at": now, "claim_work_h": work_h},
        guard=[Case.claimed_by_id.is_(None)],
    )
    squad = "lead" if user.squad_id == case.lead_squad_id else "partner"
    add_event(
        session,
        case,
        kind="claimed",
        actor=user,
        from_status=seen,
        to_status=case.status,
        reason=f"{squad} squad claimed",
        payload={"squad_id": user.squad_id, "as": squad},
        at=now,
    )
    return case


def _simple(
    session: Session,
    case_id: int,
    action: str,
    user: User,
    *,
    now: datetime,
    reason: str = "",
    values: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> Case:
    case = get_case(session, case_id)
    seen = _move(session, case, action, user, now=now, values=values)
    add_event(
        session,
        case,
        kind=lifecycle.BY_ACTION[action].event,
        actor=user,
        from_status=seen,
        to_status=case.status,
        reason=reason,
        payload=payload,
        at=now,
    )
    return case


def start(session: Session, case_id: int, user: User, *, now: datetime, note: str = "") -> Case:
    """The squad is on its way / on site (claimed → in_progress)."""
    return _simple(session, case_id, "start", user, now=now, reason=note)


def resolve(session: Session, case_id: int, user: User, evidence: Evidence, *, now: datetime) -> Case:
    """Report the case handled. Needs a note and at least one photo, or a dispatcher's waiver."""
    case = get_case(session, case_id)
    if evidence.waiver is not None:
        if not is_case_dispatcher(user, case):
            raise Forbidden(
                "only the case's dispatcher may waive resolution evidence",
                details={"case": case.number},
            )
        if not evidence.waiver.strip():
            raise ValidationFailed("a waiver needs a reason", code="evidence_required")
    elif not evidence.note.strip() or not evidence.photos:
        raise ValidationFailed(
            "resolving needs evidence: a note and at least one photo URL (or a dispatcher's waiver)",
            code="evidence_required",
            details={"note": bool(evidence.note.strip()), "photos": len(evidence.photos)},
        )
    return _simple(
        session,
        case_id,
        "resolve",
        user,
        now=now,
        reason=evidence.note or f"证据豁免：{evidence.waiver}",
        values={
            "resolution_note": evidence.note,
            "resolution_photos": list(evidence.photos),
            "evidence_waived_by_id": user.id if evidence.waiver is not None else None,
            "resolved_at": now,
        },
        payload={"photos": list(evidence.photos), "waiver": evidence.waiver},
    )


def verify(session: Session, case_id: int, user: User, *, now: datetime, note: str = "") -> Case:
    """The dispatcher checked the result (resolved → verified)."""
    return _simple(session, case_id, "verify", user, now=now, reason=note)


def close(
    session: Session,
    case_id: int,
    user: User,
    *,
    now: datetime,
    note: str = "",
    calendar: WorkCalendar | None = None,
) -> Case:
    """Close a verified case (结案)."""
    work_h = working_hours_since_created(session, get_case(session, case_id), now, calendar)
    return _simple(
        session,
        case_id,
        "close",
        user,
        now=now,
        reason=note,
        values={"closed_at": now, "close_work_h": work_h},
    )


def reopen(session: Session, case_id: int, user: User, *, now: datetime, reason: str) -> Case:
    """Send a resolved/verified/closed case back to work (the claimant keeps it)."""
    if not reason.strip():
        raise ValidationFailed("reopening needs a reason")
    return _simple(
        session,
        case_id,
        "reopen",
        user,
        now=now,
        reason=reason,
        values={"closed_at": None, "close_work_h": None},
    )


def dispute(session: Session, case_id: int, user: User, *, now: datetime, reason: str) -> Case:
    """A reporter disputes the resolution: the case goes back to `resolved`, on its dispatcher's desk,
    who verifies it (the dispute is rejected) or reopens it (upheld). The feedback window and the one
    dispute per report are checked by coordinator.community.feedback, which calls this."""
    if not reason.strip():
        raise ValidationFailed("a dispute needs a reason")
    return _simple(
        session,
        case_id,
        "dispute",
        user,
        now=now,
        reason=reason,
        values={"closed_at": None, "close_work_h": None},
    )


def void(
    session: Session,
    case_id: int,
    user: User,
    *,
    now: datetime,
    kind: str,
    reason: str,
    duplicate_of: str | None = None,
) -> Case:
    """作废: a duplicate (name the case it duplicates), not actionable, or a false report (虚假举报), with a
    reason. Reward points the case earned are revoked (coordinator.community.rewards)."""
    if kind not in VOID_REASONS:
        raise ValidationFailed(f"void kind must be one of {VOID_REASONS}")
    if not reason.strip():
        raise ValidationFailed("voiding needs a reason")
    payload: dict[str, Any] = {"kind": kind}
    if kind == "duplicate":
        if not duplicate_of:
            raise ValidationFailed("a duplicate names the case it duplicates (duplicate_of)")
        original = session.scalar(select(Case.id).where(Case.number == duplicate_of))
        if original is None or original == case_id:
            raise ValidationFailed(f"duplicate_of {duplicate_of!r} is not another case")
        payload["duplicate_of"] = duplicate_of
    return _simple(session, case_id, "void", user, now=now, reason=reason, payload=payload)


# -- transfers -------------------------------------------------------------------------------------


def request_transfer(
    session: Session, case_id: int, user: User, *, to_squad: str, reason: str, now: datetime
) -> CaseTransfer:
    """Ask squad `to_squad` to take the case over. The case keeps its owner until they accept."""
    if not reason.strip():
        raise ValidationFailed("a transfer request needs a reason")
    case = get_case(session, case_id)
    begin_write(session)
    lifecycle.check(case, "transfer", user, pending_transfer(session, case.id))
    squad = session.scalars(select(Squad).where(Squad.code == to_squad)).one_or_none()
    if squad is None or not squad.active:
        raise NotFound(f"no active squad {to_squad}", details={"squad": to_squad})
    if squad.id == case.lead_squad_id:
        raise ValidationFailed(f"squad {to_squad} already leads case {case.number}")
    transfer = CaseTransfer(
        case_id=case.id,
        from_squad_id=case.lead_squad_id,
        from_unit_id=case.queue_unit_id,
        to_squad_id=squad.id,
        reason=reason,
        requested_by_id=user.id,
        requested_at=now,
    )
    session.add(transfer)
    session.flush()  # the partial unique index refuses a second pending request here
    add_event(
        session,
        case,
        kind="transfer_requested",
        actor=user,
        from_status=case.status,
        to_status=case.status,
        reason=reason,
        payload={"transfer_id": transfer.id, "from_squad_id": case.lead_squad_id, "to_squad": squad.code},
        at=now,
    )
    return transfer


def _check_transfer_id(session: Session, case: Case, transfer_id: int) -> None:
    pending = pending_transfer(session, case.id)
    if pending is not None and pending.id != transfer_id:
        raise NotFound(
            f"transfer {transfer_id} is not the pending one on case {case.number}",
            details={"pending_transfer": pending.id},
        )


def _to_squad(session: Session, transfer_id: int) -> int:
    transfer = session.get(CaseTransfer, transfer_id)
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id}")
    return transfer.to_squad_id


def _decide(
    session: Session, case: Case, transfer_id: int, user: User, *, action: str, state: str, now: datetime
) -> CaseTransfer:
    """Move the pending transfer to `state` with a conditional UPDATE; 409 for `action` if another
    decision got there first."""
    transfer = session.get(CaseTransfer, transfer_id)
    if transfer is None or transfer.case_id != case.id:
        raise NotFound(f"no transfer {transfer_id} on case {case.number}")
    result = session.execute(
        update(CaseTransfer)
        .where(CaseTransfer.id == transfer_id, CaseTransfer.state == "pending")
        .values(state=state, decided_by_id=user.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(transfer)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise lifecycle.conflict(case, action, user, None)
    return transfer


def accept_transfer(
    session: Session,
    case_id: int,
    transfer_id: int,
    user: User,
    *,
    now: datetime,
    calendar: WorkCalendar,
    reason: str = "",
) -> Case:
    """The receiving squad takes the case: it becomes lead, the case is routed to it afresh (a new claim
    deadline; the resolve deadline the public was promised stays), and the old lead becomes a partner
    so it keeps seeing the case and is notified."""
    case = get_case(session, case_id)
    _check_transfer_id(session, case, transfer_id)
    old_lead = case.lead_squad_id
    category = session.get(Category, case.category_code)
    claim_by = (
        calendar.add(now, category.claim_limit_value, category.claim_limit_unit)
        if category
        else case.claim_by
    )
    # The case row first (lifecycle check + conditional UPDATE), then the transfer row's own
    # conditional UPDATE: of two simultaneous decisions only one finds it still pending.
    seen = _move(
        session,
        case,
        "accept_transfer",
        user,
        now=now,
        values={
            "lead_squad_id": _to_squad(session, transfer_id),
            "queue_unit_id": None,
            "claimed_by_id": None,
            "claimed_at": None,
            "claim_work_h": None,
            "claim_by": claim_by,
            "escalated_at": None,
            "escalated_to_unit_id": None,
        },
    )
    transfer = _decide(session, case, transfer_id, user, action="accept_transfer", state="accepted", now=now)
    session.execute(
        delete(CasePartner).where(
            CasePartner.case_id == case.id, CasePartner.squad_id == transfer.to_squad_id
        )
    )
    if old_lead is not None:
        session.add(
            CasePartner(case_id=case.id, squad_id=old_lead, reason="原主办中队（已移交），知会", added_at=now)
        )
    session.flush()
    session.refresh(case, ["partners"])
    add_event(
        session,
        case,
        kind="transfer_accepted",
        actor=user,
        from_status=seen,
        to_status=case.status,
        reason=reason or transfer.reason,
        payload={
            "transfer_id": transfer.id,
            "from_squad_id": old_lead,
            "to_squad_id": transfer.to_squad_id,
            "old_lead_now_partner": old_lead is not None,
            "inform_squad_ids": [old_lead] if old_lead is not None else [],
        },
        at=now,
    )
    return case


def decline_transfer(
    session: Session, case_id: int, transfer_id: int, user: User, *, now: datetime, reason: str
) -> CaseTransfer:
    """The receiving squad says no: the case stays with its owner; the refusal is in the trail."""
    if not reason.strip():
        raise ValidationFailed("declining a transfer needs a reason")
    case = get_case(session, case_id)
    begin_write(session)
    _check_transfer_id(session, case, transfer_id)
    lifecycle.check(case, "decline_transfer", user, pending_transfer(session, case.id))
    transfer = _decide(session, case, transfer_id, user, action="decline_transfer", state="declined", now=now)
    transfer.decision_reason = reason[:500]
    add_event(
        session,
        case,
        kind="transfer_declined",
        actor=user,
        from_status=case.status,
        to_status=case.status,
        reason=reason,
        payload={"transfer_id": transfer.id, "to_squad_id": transfer.to_squad_id},
        at=now,
    )
    return transfer
