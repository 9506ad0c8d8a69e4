"""A case's audit trail and its outbox: every change of a case appends events, and the kinds other
systems subscribe to also leave an outbox message in the same transaction (coordinator.notifications
delivers it), so a message exists exactly when its change committed.

Two ways in, one row shape: `add_event` for the lifecycle actions, which hold the ORM case, and
`insert_events` for intake, which writes with Core statements and knows the case by its facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from config.logging import request_id_var
from coordinator.auth.services import Actor
from coordinator.cases.models import Case, CaseEvent
from coordinator.notifications.models import OutboxMessage
from coordinator.notifications.services import NOTIFY_KINDS, enqueue
from coordinator.worktime import SHANGHAI

_EVENTS = cast(Table, CaseEvent.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_INSERT_EVENTS = insert(_EVENTS)  # built once: intake runs them for every report
_INSERT_OUTBOX = insert(_OUTBOX)
REASON_LENGTH = 500  # the `reason` column's width


class CaseHeader(Protocol):
    """What an event's outbox message says about its case: a `Case` row, or intake's `CaseFacts`."""

    @property
    def id(self) -> int: ...

    @property
    def number(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def district_code(self) -> str | None: ...

    @property
    def lead_squad_id(self) -> int | None: ...


@dataclass(frozen=True)
class EventDraft:
    """One audit-trail entry to append (see `insert_events`)."""

    kind: str
    to_status: str | None = None
    from_status: str | None = None
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None

    @property
    def actor_name(self) -> str:
        """Who the trail names: the actor's username, or `system`."""
        return self.actor.username if self.actor else "system"


def outbox_payload(case: CaseHeader, event: EventDraft, at: datetime) -> dict[str, Any]:
    """The body of the outbox message announcing `event` on `case`."""
    return {
        "case_number": case.number,
        "status": case.status,
        "district": case.district_code,
        "lead_squad_id": case.lead_squad_id,
        "actor": event.actor_name,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason[:REASON_LENGTH],
        "at": at.astimezone(SHANGHAI).isoformat(),
        "details": event.payload,
    }


def event_row(event: EventDraft, at: datetime) -> dict[str, Any]:
    """The `case_event` row of `event`, without its case id."""
    return {
        "at": at,
        "actor_id": event.actor.id if event.actor else None,
        "actor": event.actor_name,
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason[:REASON_LENGTH],
        "payload": event.payload,
        "request_id": request_id_var.get(),
    }


def insert_events(session: Session, case: CaseHeader, events: Sequence[EventDraft], *, at: datetime) -> None:
    """Append events to a case's trail with Core inserts (one statement for all of them), with the
    outbox messages of the kinds other systems subscribe to. Intake's twin of `add_event`."""
    conn = session.connection()
    conn.execute(_INSERT_EVENTS, [{**event_row(e, at), "case_id": case.id} for e in events])
    outbox = [
        {"kind": e.kind, "case_id": case.id, "payload": outbox_payload(case, e, at), "created_at": at}
        for e in events
        if e.kind in NOTIFY_KINDS
    ]
    if outbox:
        conn.execute(_INSERT_OUTBOX, outbox)


def add_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor: Actor | None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one event to a case's audit trail (and, for kinds other systems subscribe to, an outbox
    message in the same transaction)."""
    at = at or datetime.now(SHANGHAI)
    draft = EventDraft(kind, to_status, from_status, reason, payload or {}, actor)
    event = CaseEvent(case_id=case.id, **event_row(draft, at))
    session.add(event)
    enqueue(session, kind, case.id, outbox_payload(case, draft, at), now=at)
    # Reporters hear of their case's progress, and rewards follow verification and voiding
    # (imported here: the community domain builds on cases, not the other way round).
    from coordinator.community.hooks import on_case_event

    on_case_event(session, case, kind, at)
    return event
