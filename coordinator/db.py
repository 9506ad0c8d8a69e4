"""The declarative base, shared column types, the engine for a DATABASE_URL and the session scope.

Two backends: PostgreSQL + PostGIS through psycopg 3 (`postgresql+psycopg://…`), the production store,
and SQLite + SpatiaLite (`sqlite:///path`), the embedded default. How each is set up — drivers,
extensions, pings — is in coordinator.dialects, with every other difference between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, MetaData
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from coordinator import dialects

# Stable constraint names, so Alembic can alter them the same way on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A pooled PostgreSQL connection idle for longer than this is pinged before use (see make_engine).
IDLE_PING_S = 5.0


class Base(DeclarativeBase):
    """Declarative base for every model of the service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (what we store)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    SQLite has no timezone type and hands back naive values; this type refuses naive input (a bug in the
    caller, not something to guess about) and always returns aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialects.stores_naive_datetimes(dialect) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for `url`: SpatiaLite through pysqlite3, or PostGIS through psycopg 3
    (coordinator.dialects sets each up)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # JSON columns are parsed by orjson (C), not the stdlib: on PostgreSQL SQLAlchemy hands it to
    # psycopg, which parses json/jsonb; on SQLite the JSON type uses it.
    kwargs.setdefault("json_deserializer", orjson.loads)
    idle_ping_s = kwargs.pop("idle_ping_s", IDLE_PING_S)  # PostgreSQL only: the embedded file never goes away
    if backend == dialects.SQLITE:
        return dialects.sqlite_engine(parsed, **kwargs)
    if backend == dialects.POSTGRESQL:
        return dialects.postgresql_engine(parsed, idle_ping_s=idle_ping_s, **kwargs)
    raise dialects.DatabaseSetupError(
        f"unsupported DATABASE_URL backend {backend!r}: use sqlite:///path (SpatiaLite) "
        "or postgresql+psycopg://user@host/db (PostGIS)"
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI command or a job: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
