"""The declarative base, shared column types and the database engine.

This module is the one place that decides how we talk to each backend:

* PostgreSQL + PostGIS through psycopg 3 (`postgresql+psycopg://…`), the production store;
* SQLite + SpatiaLite, the embedded default. The stock `sqlite3` module of many Python builds cannot
  load extensions, so SQLite URLs always use the `pysqlite3` driver (from `pysqlite3-binary`), which
  can. A missing driver or SpatiaLite module fails here with a message that names the package.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, cast

import orjson
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic can alter them the same way on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SPATIALITE_MODULE_ENV = "SPATIALITE_LIBRARY_PATH"
# A pooled PostgreSQL connection idle for longer than this is pinged before use (see make_engine).
IDLE_PING_S = 5.0


class DatabaseSetupError(RuntimeError):
    """The database driver or spatial extension is missing; the message says how to install it."""


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
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sqlite_driver() -> ModuleType:
    """The DB-API module used for every SQLite connection (it must be able to load extensions)."""
    try:
        import pysqlite3.dbapi2 as driver
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise DatabaseSetupError(
            "SQLite needs the 'pysqlite3-binary' package (the stock sqlite3 module here cannot load "
            "the SpatiaLite extension): run `make setup` or `pip install pysqlite3-binary`."
        ) from exc
    module: ModuleType = driver
    return module


def _load_spatialite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    module = os.environ.get(SPATIALITE_MODULE_ENV) or "mod_spatialite"
    dbapi_connection.enable_load_extension(True)
    try:
        dbapi_connection.load_extension(module)
    except Exception as exc:
        raise DatabaseSetupError(
            f"cannot load the SpatiaLite extension {module!r}: install it with "
            "`apt-get install libsqlite3-mod-spatialite` (Debian/Ubuntu) or `brew install libspatialite`, "
            f"or set {SPATIALITE_MODULE_ENV} to the module's path ({exc})"
        ) from exc
    finally:
        dbapi_connection.enable_load_extension(False)
    # Let SQLAlchemy drive transactions itself (needed for SAVEPOINT; see the SQLAlchemy pysqlite docs,
    # "Serializable isolation / Savepoints / Transactional DDL").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # `BEGIN IMMEDIATE` takes SQLite's write lock up front (waiting up to busy_timeout). A transaction
    # that reads first and writes later could otherwise fail with SQLITE_BUSY when another writer
    # committed in between; writers ask for it with execution option sqlite_begin="IMMEDIATE".
    mode = conn.get_execution_options().get("sqlite_begin")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for `url`: SpatiaLite through pysqlite3, or PostGIS through psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # JSON columns and the intake function's answer are parsed by orjson (C), not the stdlib: on
    # PostgreSQL SQLAlchemy hands it to psycopg, which parses json/jsonb; on SQLite the JSON type uses it.
    kwargs.setdefault("json_deserializer", orjson.loads)
    idle_ping_s = kwargs.pop("idle_ping_s", IDLE_PING_S)  # PostgreSQL only: the embedded file never goes away
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(parsed.set(drivername="sqlite+pysqlite"), module=sqlite_driver(), **kwargs)
        event.listen(engine, "connect", _load_spatialite)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            install_idle_ping(engine, idle_ping_s)
        return engine
    raise DatabaseSetupError(
        f"unsupported DATABASE_URL backend {backend!r}: use sqlite:///path (SpatiaLite) "
        "or postgresql+psycopg://user@host/db (PostGIS)"
    )


def install_idle_ping(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle in the pool for more than `idle_s`.

    SQLAlchemy's `pool_pre_ping` pings on *every* checkout: one more round trip per request, which was
    the single most common statement of the API under load. Connections used moments ago are alive
    (or, if the server died just now, the failing statement invalidates the whole pool and the request
    answers 503 — see coordinator.errors); connections that sat idle, across a database restart or a
    firewall's idle timeout, are the ones worth pinging. A failed ping raises DisconnectionError, on
    which the pool transparently opens a fresh connection (SQLAlchemy's documented recipe for custom
    pessimistic disconnect handling).
    """

    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"pooled connection failed its ping: {error}") from error
        if not ok:
            raise exc.DisconnectionError("pooled connection failed its ping")


class DirectStatement:
    """A statement that, on PostgreSQL, runs on the DB-API cursor of the session's connection.

    Why not just `Connection.execute`: on the hottest path of the service (a report's token check,
    intake lock, dedup lookup and writes) SQLAlchemy's per-execution work — result metadata, type
    processing, events — measured ~0.5 ms of CPU per statement on the 2-vCPU host, several times
    psycopg's own cost for the same round trip (docs/performance.md). The statement is still built
    with SQLAlchemy and compiled once; only execution skips the Core layer, in the same connection and
    transaction. Elsewhere (SQLite) it simply runs through `Connection.execute`.

    Engine `after_cursor_execute` listeners are called as usual; `echo` logging does not show these
    statements. Rows are named tuples of psycopg's values: aware datetimes, parsed JSON, Python numbers — what
    SQLAlchemy's types return for the columns these statements read. Database errors are translated
    to SQLAlchemy's exceptions (IntegrityError, …) and a lost connection invalidates the pooled
    connection, as `Connection.execute` would.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: tuple[str, dict[str, Any]] | None = None

    def _sql(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("DirectStatement needs SQL fixed at compile time (no expanding IN)")
            self._compiled = (compiled.string, dict(compiled.params))
        return self._compiled

    def rows(self, session: Session, params: dict[str, Any]) -> Sequence[Any]:
        """Execute with `params` in the session's transaction; the result rows (empty if none)."""
        conn = session.connection()
        if conn.dialect.name != "postgresql":
            result = conn.execute(cast(Executable, self.statement), params)
            return result.all() if result.returns_rows else []
        from psycopg.rows import namedtuple_row

        sql, defaults = self._sql(conn.dialect)
        values = {**defaults, **params}
        dbapi_connection = conn.connection.driver_connection
        assert dbapi_connection is not None
        try:
            with dbapi_connection.cursor(row_factory=namedtuple_row) as cursor:
                cursor.execute(sql, values)
                # Listeners of the engine's after_cursor_execute (statement counters, the benches'
                # plan capture) still see the statement.
                conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, False)
                return cursor.fetchall() if cursor.description is not None else []
        except conn.dialect.loaded_dbapi.Error as error:
            lost = conn.dialect.is_disconnect(error, dbapi_connection, None)
            if lost:
                conn.invalidate(error)
            raise exc.DBAPIError.instance(
                sql,
                values,
                error,
                conn.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=conn.dialect,
            ) from error


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; nothing on PostgreSQL).

    Call before the first statement of a transaction that will write; later calls do nothing.
    """
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


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
