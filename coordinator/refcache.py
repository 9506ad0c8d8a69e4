"""A per-process cache of the small reference tables every report reads (categories, routing rules,
squads, dispatch units, the working-time calendar overrides).

Reading them on every request would cost a report several round trips for data that changes a few
times a year. Each sessionmaker of the app carries one `ReferenceCache` (in `Session.info`), and a value
is re-read when either

* it is older than `TTL_S` seconds — the bound on how late a change made by *another process* (another
  gunicorn worker, a `flask …` CLI command, SQL typed into psql) takes effect; or
* any session of *this process* flushed or bulk-changed a reference row (the ORM events below bump a
  generation number), so an admin's change through this process applies to the next request at once.

A session that has itself changed reference data neither reads nor fills the cache: it sees its own
uncommitted rows, and rows that may yet be rolled back never reach other requests. Cached values are
immutable snapshots (frozen dataclasses), never ORM objects, so they are safe to share between threads
and sessions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

T = TypeVar("T")

TTL_S = 5.0
INFO_KEY = "coordinator.reference_cache"
_TOUCHED = "coordinator.reference_touched"
# Tables whose rows are cached; changes through the ORM to any of them invalidate every entry.
REFERENCE_TABLES = frozenset(
    {"category", "routing_rule", "squad", "dispatch_unit", "calendar_override", "calendar_year"}
)

_generation = 0
_generation_lock = threading.Lock()


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


class ReferenceCache:
    """Named snapshots of reference data, each re-read after `ttl_s` or after a local change."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, int, Any]] = {}

    def get(self, session: Session, name: str, load: Callable[[Session], T]) -> T:
        """The snapshot `name`, loaded with `load(session)` when missing, stale or invalidated."""
        if session.info.get(_TOUCHED):
            return load(session)
        now = time.monotonic()
        entry = self._entries.get(name)
        if entry is not None and entry[1] == _generation and now - entry[0] < self.ttl_s:
            value: T = entry[2]
            return value
        generation = _generation  # read before loading: a change during the load invalidates it
        value = load(session)
        self._entries[name] = (now, generation, value)  # one dict store: atomic under the GIL
        return value

    def clear(self) -> None:
        """Forget every snapshot."""
        self._entries.clear()


def cached(session: Session, name: str, load: Callable[[Session], T]) -> T:
    """`load(session)` through the session's reference cache, or uncached if its factory has none."""
    cache: ReferenceCache | None = session.info.get(INFO_KEY)
    return load(session) if cache is None else cache.get(session, name, load)


def _touches_reference(objects: Any) -> bool:
    return any(getattr(obj, "__tablename__", None) in REFERENCE_TABLES for obj in objects)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    # new/dirty/deleted still hold the pre-flush state here.
    if (
        _touches_reference(session.new)
        or _touches_reference(session.dirty)
        or _touches_reference(session.deleted)
    ):
        session.info[_TOUCHED] = True
        _bump()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        getattr(mapper.local_table, "name", None) in REFERENCE_TABLES for mapper in state.all_mappers
    ):
        state.session.info[_TOUCHED] = True
        _bump()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Bump again once the change is visible: a request that re-read between flush and commit got the
    # old rows.
    if session.info.pop(_TOUCHED, False):
        _bump()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
