"""Deleting cases for good: the one sanctioned way past the append-only audit trail.

Case events are append-only (database triggers refuse updates and deletes); retention jobs and test
cleanup delete whole cases here, under a purge marker that the triggers look for and that never
outlives the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, FromClause, delete, select, update
from sqlalchemy.orm import Session

from coordinator.cases.models import Case, CaseEvent, CaseEventPurge, CasePartner, CaseTransfer, Report
from coordinator.dialects import begin_write
from coordinator.notifications.models import OutboxMessage, WebhookDelivery


def purge_cases(session: Session, case_ids: Sequence[int], *, reason: str) -> int:
    """Delete cases with their reports, partners, transfers, outbox messages and audit trail; how many.

    The case_event triggers refuse the deletes unless this transaction holds a purge marker, which is
    removed again before the transaction ends.
    """
    ids = list(case_ids)
    if not ids:
        return 0
    begin_write(session)
    marker = CaseEventPurge(reason=reason[:200])
    session.add(marker)
    session.flush()
    _detach_dependents(session, Report.__table__, select(Report.id).where(Report.case_id.in_(ids)))
    _detach_dependents(session, Case.__table__, ids)
    messages = select(OutboxMessage.id).where(OutboxMessage.case_id.in_(ids))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.message_id.in_(messages)))
    session.execute(delete(OutboxMessage).where(OutboxMessage.case_id.in_(ids)))
    session.execute(delete(CaseTransfer).where(CaseTransfer.case_id.in_(ids)))
    session.execute(delete(Report).where(Report.case_id.in_(ids)))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(ids)))
    session.execute(delete(CasePartner).where(CasePartner.case_id.in_(ids)))
    count = session.execute(delete(Case).where(Case.id.in_(ids))).rowcount  # type: ignore[attr-defined]
    session.delete(marker)
    session.flush()
    return int(count)


# Tables this module deletes itself, in the order the foreign keys need.
_OWN_TABLES = frozenset(
    {"webhook_delivery", "outbox_message", "case_transfer", "report", "case_event", "case_partner"}
)


def _detach_dependents(session: Session, target: FromClause, ids: object) -> None:
    """Let go of every other row that points at the purged cases or reports: a nullable reference is
    cleared (an alert, a device's record, outlives the case), a required one is deleted with the case
    (status links, feedback, patrol findings, action-item links, warnings).

    Read from the mapped metadata rather than listed by hand, so a domain that adds a reference to
    cases (rosters, meetings, field, community) cannot make retention fail on a foreign key.
    """
    for table in reversed(Case.metadata.sorted_tables):
        if table.name in _OWN_TABLES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            column: ColumnElement[object] = fk.parent
            matches = column.in_(ids)  # type: ignore[arg-type]
            if fk.parent.nullable:
                session.execute(update(table).where(matches).values({fk.parent.name: None}))
            else:
                session.execute(delete(table).where(matches))
