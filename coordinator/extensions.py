"""Flask glue for the database: one engine per app, one session per request.

Views never commit. The API decorator (`coordinator.api`) commits the request's session in one place
after the view returned without error; everything else rolls back when the request ends. Requests
that may write start their transaction as a writer (`dialects.begin_write`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from coordinator.db import IDLE_PING_S, make_engine
from coordinator.dialects import begin_write, counter_engine
from coordinator.refcache import INFO_KEY, ReferenceCache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITES_ON_READ_ATTR = "writes_on_read"
ViewT = TypeVar("ViewT", bound=Callable[..., Any])

AFTER_ROLLBACK = "after_rollback"
ENGINE_KEY = "coordinator.engine"
COUNTER_ENGINE_KEY = "coordinator.counter_engine"
SESSIONMAKER_KEY = "coordinator.sessionmaker"


def init_db(app: Flask, settings: Settings) -> None:
    """Create the engine and session factory for the app and close sessions at teardown."""
    engine = make_engine(settings.database_url)
    app.extensions[ENGINE_KEY] = engine
    # Sessions of this factory share one cache of the reference tables (see coordinator.refcache).
    app.extensions[SESSIONMAKER_KEY] = sessionmaker(
        engine, expire_on_commit=False, info={INFO_KEY: ReferenceCache()}
    )
    app.teardown_appcontext(_close_session)
    from coordinator import ratelimit

    counters = counter_engine(engine, idle_ping_s=IDLE_PING_S)
    app.extensions[COUNTER_ENGINE_KEY] = counters
    ratelimit.init_app(app, sessionmaker(counters, expire_on_commit=False))


def get_engine(app: Flask | None = None) -> Engine:
    """The app's engine."""
    engine: Engine = (app or current_app).extensions[ENGINE_KEY]
    return engine


def get_sessionmaker(app: Flask | None = None) -> sessionmaker[Session]:
    """The app's session factory (tests replace it to run each test in a rolled-back transaction)."""
    factory: sessionmaker[Session] = (app or current_app).extensions[SESSIONMAKER_KEY]
    return factory


def db_session() -> Session:
    """The session of the current request (created on first use)."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = get_sessionmaker()()
        # Requests that may write take SQLite's write lock up front.
        if request.method not in SAFE_METHODS or getattr(_view(), WRITES_ON_READ_ATTR, False):
            begin_write(session)
        g.db_session = session
    return session


def writes_on_read(view: ViewT) -> ViewT:
    """Mark a GET view that may write (an audit row of what the caller read): on SQLite its transaction
    takes the write lock up front, like an unsafe method's.

    A deferred SQLite transaction that has read and then writes must upgrade its lock, and in WAL mode
    that fails at once ("database is locked", not after busy_timeout) if another connection committed
    since the read began — a 500 for a dispatcher opening a case while reports arrive.
    """
    setattr(view, WRITES_ON_READ_ATTR, True)
    return view


def _view() -> Callable[..., Any] | None:
    return current_app.view_functions.get(request.endpoint or "")


def commit_request_session() -> None:
    """Commit the current request's session, if it was used. Called in one place: the API decorator."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()
    g.pop(AFTER_ROLLBACK, None)  # committed: nothing to redo


def after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` once the request has ended, if its transaction was not committed (it runs after
    the rollback, outside that transaction). For writes that must outlive a failed request but had to
    be made inside its transaction (a rate-limit hit on SQLite: coordinator.ratelimit)."""
    g.setdefault(AFTER_ROLLBACK, []).append(callback)


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
    for callback in g.pop(AFTER_ROLLBACK, []):
        callback()
