"""Scheduler jobs: module-level functions (APScheduler's SQLAlchemy job store pickles them by reference).

They read their database from `bind` (set once by the `scheduler run` command) and the time from
`clock` (a function, so tests can drive it). Each run is one short transaction per step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from coordinator.db import session_scope

log = logging.getLogger(__name__)

_factory: sessionmaker[Session] | None = None
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731  (replaceable in tests)


def bind(factory: sessionmaker[Session]) -> None:
    """Point the jobs at a database (the scheduler process calls this once at start)."""
    global _factory
    _factory = factory


def _sessions() -> sessionmaker[Session]:
    if _factory is None:
        raise RuntimeError("scheduler jobs are not bound to a database; call coordinator.scheduler.jobs.bind")
    return _factory


def sla_sweep() -> dict[str, int]:
    """Escalate what fell due since the last run (idempotent; catches up after downtime)."""
    from coordinator.cases.sla import sweep

    with session_scope(_sessions()) as session:
        result = sweep(session, now=clock())
    if result.escalated or result.overdue:
        log.info("sla sweep: escalated %d, overdue %d", len(result.escalated), len(result.overdue))
    return {"escalated": len(result.escalated), "overdue": len(result.overdue)}


def deliver_webhooks() -> dict[str, int]:
    """Fan out new outbox messages and POST due deliveries (failures are retried with backoff)."""
    from coordinator.notifications.services import deliver_pending

    stats = deliver_pending(_sessions(), now=clock())
    if stats.attempted:
        log.info(
            "webhooks: %d attempted, %d delivered, %d given up",
            stats.attempted,
            stats.delivered,
            stats.failed_for_good,
        )
    return {"attempted": stats.attempted, "delivered": stats.delivered, "failed": stats.failed_for_good}
