"""Rate limits that hold across workers and hosts: fixed-window counters in the database.

    enforce("reports:token", str(token_id), limit=60, window_seconds=60)

counts one hit of `key` in `bucket` for the current window and raises `RateLimited` (429, code
`rate_limited`, `Retry-After` until the window ends) once the window holds more than `limit` hits.
Call it first thing in a view (or service) for each limit the request is under (per token, per client
address, …); over-limit hits count too, so hammering a closed window keeps it closed.

Where the hit is counted:

* In its own short transaction (PostgreSQL always; SQLite while the request has not begun its own
  transaction): one upsert that returns the new count, committed at once. The counter row's lock is
  held only for that statement, and a request that fails afterwards still counted — a flood of
  invalid reports is limited like a flood of valid ones.
* SQLite's single writer: a request that already holds the write lock (`begin_write`) would wait for
  itself if a second connection tried to write. There the hit is counted in the request's own
  transaction, and if the request then rolls back it is counted again, in a fresh transaction, after
  the rollback (`coordinator.extensions.after_rollback`). Either way a failed request still counts.

Old windows expire: each counter row carries its `expires_at`, and the rows past it are deleted at most
once a minute per process (`SWEEP_EVERY_S`), by whichever request counts then.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import BigInteger, Index, Integer, String, bindparam, delete
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.base import Executable

from coordinator import dialects
from coordinator.db import Base, UtcDateTime, utcnow
from coordinator.errors import RateLimited

log = logging.getLogger(__name__)

STORE_KEY = "coordinator.ratelimit_store"
KEY_MAX = 128
SWEEP_EVERY_S = 60.0


class RateLimitCounter(Base):
    """Hits of one key in one bucket during one fixed window (`window_start` .. `expires_at`)."""

    __tablename__ = "rate_limit_counter"
    __table_args__ = (Index("ix_rate_limit_counter_expires_at", "expires_at"),)

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    # Seconds since the epoch at which the window began (a multiple of the window's length).
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass
class CounterStore:
    """Where `enforce` opens its own short transactions.

    `shares_request_connection`: sessions of `factory` run on the request's own connection (the tests,
    whose every request and counter share one rolled-back transaction): a hit counted while the request's
    transaction is open is counted in it, and again after a rollback, as on SQLite.
    """

    factory: sessionmaker[Session]
    shares_request_connection: bool = False
    last_sweep: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Hit:
    """One counted hit (what a replay after a rollback counts again)."""

    bucket: str
    key: str
    window_start: int
    expires_at: datetime


def init_app(app: Flask, factory: sessionmaker[Session]) -> None:
    """Count in sessions of `factory` (the app's engine; tests replace the store)."""
    app.extensions[STORE_KEY] = CounterStore(factory)


def _store() -> CounterStore:
    store: CounterStore = current_app.extensions[STORE_KEY]
    return store


def normalise_key(key: str) -> str:
    """`key` as stored: as given if it fits the column, else its SHA-256 (a long key is never cut into
    another key's prefix)."""
    if len(key) <= KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def enforce(bucket: str, key: str, *, limit: int, window_seconds: int, now: datetime | None = None) -> None:
    """Count a hit of `key` in `bucket`; raise RateLimited if this window now holds more than `limit`."""
    if limit < 1 or window_seconds < 1:
        raise ValueError("a rate limit needs limit >= 1 and window_seconds >= 1")
    now = now or utcnow()
    epoch = now.timestamp()
    start = int(epoch // window_seconds) * window_seconds
    hit = Hit(
        bucket[:64],
        normalise_key(key),
        start,
        datetime.fromtimestamp(start + window_seconds, UTC),
    )
    hits = _count(hit, now)
    if hits > limit:
        retry_after = max(1, math.ceil(start + window_seconds - epoch))
        raise RateLimited(
            f"请求过于频繁，请 {retry_after} 秒后再试",
            retry_after=retry_after,
            details={
                "bucket": bucket,
                "limit": limit,
                "window_s": window_seconds,
                "retry_after_s": retry_after,
            },
        )


def _request_session() -> Session | None:
    """The current request's session while its transaction is open, else None."""
    if not has_request_context():
        return None
    session: Session | None = g.get("db_session")
    if session is None or not session.in_transaction():
        return None
    return session


def _count(hit: Hit, now: datetime) -> int:
    store = _store()
    request_session = _request_session()
    if request_session is not None and (
        store.shares_request_connection or dialects.single_writer(request_session)
    ):
        hits = _increment(request_session, hit)
        from coordinator.extensions import after_rollback

        after_rollback(lambda: _replay(store, hit))
        return hits
    session = store.factory()
    try:
        dialects.begin_write(session)
        hits = _increment(session, hit)
        _maybe_sweep(store, session, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return hits


def _increment(session: Session, hit: Hit) -> int:
    stmt = _upsert(dialects.insert_for(session))
    hits: int = (
        session.connection()
        .execute(
            stmt,
            {
                "bucket": hit.bucket,
                "key": hit.key,
                "window_start": hit.window_start,
                "expires_at": hit.expires_at,
            },
        )
        .scalar_one()
    )
    return hits


@cache
def _upsert(insert_flavour: dialects.Upsert) -> Executable:
    table = RateLimitCounter.__table__
    return (
        insert_flavour(table)
        .values(
            bucket=bindparam("bucket"),
            key=bindparam("key"),
            window_start=bindparam("window_start"),
            hits=1,
            expires_at=bindparam("expires_at", type_=UtcDateTime()),
        )
        .on_conflict_do_update(
            index_elements=[table.c.bucket, table.c.key, table.c.window_start],
            set_={"hits": table.c.hits + 1},
        )
        .returning(table.c.hits)
    )


def _replay(store: CounterStore, hit: Hit) -> None:
    """Count `hit` again after its request rolled back (it was counted in that transaction)."""
    session = store.factory()
    try:
        dialects.begin_write(session)
        _increment(session, hit)
        session.commit()
    except Exception:  # teardown must not fail the answer already sent; the loss is one hit
        session.rollback()
        log.warning(
            "a rate-limit hit of %s could not be recounted after a rollback", hit.bucket, exc_info=True
        )
    finally:
        session.close()


def _maybe_sweep(store: CounterStore, session: Session, now: datetime) -> None:
    epoch = now.timestamp()
    with store.lock:
        if epoch - store.last_sweep < SWEEP_EVERY_S:
            return
        store.last_sweep = epoch
    sweep(session, now)


def sweep(session: Session, now: datetime | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    result = session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


def client_address() -> str:
    """The client's address as the app sees it (behind a reverse proxy, configure the proxy fix so this
    is the forwarded address: see docs/security.md)."""
    return request.remote_addr or "unknown"
