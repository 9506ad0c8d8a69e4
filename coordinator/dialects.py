"""Where PostgreSQL + PostGIS and SQLite + SpatiaLite differ: every difference is one function here.

PostgreSQL (psycopg 3) is the production store, SQLite with SpatiaLite the embedded default, and one
history of migrations, one set of models and one set of services serve both. Where the two databases
must be told apart — how to connect, how writers are serialised, which statements exist — a service
calls the function below that names the difference, and never looks at the dialect itself.

* Engines: `sqlite_engine` (pysqlite3, SpatiaLite, `BEGIN IMMEDIATE` on request) and
  `postgresql_engine` (a ping only for pooled connections that sat idle).
* Writers: `begin_write` (SQLite's write lock up front), `single_writer` (whether a second
  connection can write meanwhile), `lock_keys` (PostgreSQL advisory locks),
  `skip_locked` (leasing rows two runners may reach for), `write_unless_busy` (bookkeeping that
  yields to a concurrent SQLite writer).
* Statements: `insert_for` (the upsert flavour), `spatial_box_prefilter` and `plan_with_values`
  (the map-box filter's index and plan).
* Expressions: `local_week_start` (the Shanghai week of a stored time, for the committee's review).
* Values: `stores_naive_datetimes` (SQLite has no timezone type), `backend_name` (for /healthz).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, String, create_engine, event, exc, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import GenerativeSelect

POSTGRESQL = "postgresql"
SQLITE = "sqlite"
SPATIALITE_MODULE_ENV = "SPATIALITE_LIBRARY_PATH"
log = logging.getLogger(__name__)
SelectT = TypeVar("SelectT", bound=GenerativeSelect)


class DatabaseSetupError(RuntimeError):
    """The database driver or spatial extension is missing; the message says how to install it."""


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == POSTGRESQL


def engine_backend(engine: Engine) -> str:
    """`postgresql` or `sqlite` for an engine (the scheduler's leader lock is chosen by it)."""
    return engine.dialect.name


def backend_name(session: Session) -> str:
    """`postgresql` or `sqlite`: which database the session talks to (shown by the health check)."""
    return session.get_bind().dialect.name


# -- engines -----------------------------------------------------------------------------------------


def sqlite_driver() -> ModuleType:
    """The DB-API module used for every SQLite connection (it must be able to load extensions).

    The stock `sqlite3` module of many Python builds cannot load extensions; `pysqlite3` (from the
    `pysqlite3-binary` package) can.
    """
    try:
        import pysqlite3.dbapi2 as driver
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise DatabaseSetupError(
            "SQLite needs the 'pysqlite3-binary' package (the stock sqlite3 module here cannot load "
            "the SpatiaLite extension): run `make setup` or `pip install pysqlite3-binary`."
        ) from error
    module: ModuleType = driver
    return module


def _load_spatialite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    module = os.environ.get(SPATIALITE_MODULE_ENV) or "mod_spatialite"
    dbapi_connection.enable_load_extension(True)
    try:
        dbapi_connection.load_extension(module)
    except Exception as error:
        raise DatabaseSetupError(
            f"cannot load the SpatiaLite extension {module!r}: install it with "
            "`apt-get install libsqlite3-mod-spatialite` (Debian/Ubuntu) or `brew install libspatialite`, "
            f"or set {SPATIALITE_MODULE_ENV} to the module's path ({error})"
        ) from error
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
    # committed in between; writers ask for it with `begin_write`.
    mode = conn.get_execution_options().get("sqlite_begin")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _create_private_file(path: str) -> None:
    """Create the database file readable and writable by its owner only (0600) if it does not exist yet:
    it holds reporters' phone numbers and password hashes. SQLite gives its -wal and -shm files the
    database file's permissions."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    """An engine for a SpatiaLite file: the pysqlite3 driver, SpatiaLite and pragmas loaded on connect,
    foreign keys on, WAL, and `BEGIN IMMEDIATE` for transactions started by `begin_write`."""
    if url.database and url.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        _create_private_file(url.database)
    engine = create_engine(url.set(drivername="sqlite+pysqlite"), module=sqlite_driver(), **kwargs)
    event.listen(engine, "connect", _load_spatialite)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def postgresql_engine(url: URL, *, idle_ping_s: float, **kwargs: Any) -> Engine:
    """An engine for PostGIS through psycopg 3; pooled connections idle for over `idle_ping_s` are
    pinged before use (unless the caller asked for `pool_pre_ping` on every checkout)."""
    if url.drivername == POSTGRESQL:
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        install_idle_ping(engine, idle_ping_s)
    return engine


def counter_engine(engine: Engine, *, idle_ping_s: float) -> Engine:
    """The engine rate-limit counters commit through (coordinator.ratelimit).

    PostgreSQL: a small pool of its own. A request counts its hit while it holds a connection of the
    app's pool; counting from that same pool let requests queued on one advisory lock (20 retries of one
    report) take every connection and then wait for a second one — a deadlock that ended in pool
    timeouts. Counter transactions never wait on a request, so a separate pool cannot deadlock.
    SQLite: the app's engine (counts go into the request's own transaction: one writer at a time).
    """
    if engine.dialect.name != POSTGRESQL:
        return engine
    return postgresql_engine(
        engine.url, idle_ping_s=idle_ping_s, pool_size=1, max_overflow=9, pool_timeout=10
    )


def install_idle_ping(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle in the pool for more than `idle_s`.

    SQLAlchemy's `pool_pre_ping` pings on *every* checkout: one more round trip per request.
    Connections used moments ago are alive (or, if the server died just now, the failing statement
    invalidates the whole pool and the request answers 503 — see coordinator.errors); connections that
    sat idle, across a database restart or a firewall's idle timeout, are the ones worth pinging. A
    failed ping raises DisconnectionError, on which the pool transparently opens a fresh connection
    (SQLAlchemy's documented recipe for custom pessimistic disconnect handling). The embedded SQLite
    file never goes away, so only PostgreSQL engines install it.
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


# -- values ------------------------------------------------------------------------------------------


def stores_naive_datetimes(dialect: Dialect) -> bool:
    """SQLite has no timezone type: UTC datetimes are stored without their offset (see db.UtcDateTime)."""
    return dialect.name == SQLITE


# -- writers -----------------------------------------------------------------------------------------


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer: `BEGIN IMMEDIATE` on SQLite, a plain BEGIN on
    PostgreSQL (whose row locks need no warning).

    A deferred SQLite transaction that has read and then writes must upgrade its lock, and in WAL mode
    that fails at once ("database is locked") if another connection committed since the read began.
    Call before the first statement of a transaction that will write; later calls do nothing.
    """
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def single_writer(session: Session) -> bool:
    """Whether the database has one writer at a time (SQLite): a second connection of the same process
    cannot write while this session's transaction holds the write lock."""
    return not _is_postgresql(session)


_ADVISORY_LOCKS = text(
    "SELECT pg_advisory_xact_lock(k) "
    "FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS sorted_keys"
)


def lock_keys(session: Session, keys: Sequence[int]) -> None:
    """Serialise the transactions that name a common key until they end.

    PostgreSQL: transaction-scoped advisory locks, taken in key order so two callers cannot deadlock.
    SQLite: nothing to do — the write lock of `begin_write` already serialises every writer.
    """
    begin_write(session)
    if keys and _is_postgresql(session):
        session.connection().execute(_ADVISORY_LOCKS, {"keys": list(keys)})


def skip_locked(stmt: SelectT, session: Session, *, of: Any) -> SelectT:
    """`stmt` locking the rows of `of` it returns and skipping rows another transaction locked, so two
    runners never take the same rows (PostgreSQL `FOR UPDATE … SKIP LOCKED`). SQLite has one writer at a
    time (`begin_write`), so the statement stays as it is."""
    if not _is_postgresql(session):
        return stmt
    return stmt.with_for_update(of=of, skip_locked=True)


def write_unless_busy(session: Session, stmt: Executable, what: str) -> bool:
    """Run a bookkeeping write that may be skipped; False if it yielded to another writer.

    On SQLite a transaction that has already read cannot take the write lock once another connection
    committed since (it fails at once, "database is locked"): the write runs in a savepoint and, if
    refused for that reason, is dropped with a log line instead of failing the request. PostgreSQL
    takes row locks as it goes, so the write simply runs.
    """
    if _is_postgresql(session):
        session.connection().execute(stmt)
        return True
    try:
        with session.begin_nested():
            session.connection().execute(stmt)
    except exc.OperationalError as error:
        if "locked" not in str(error.orig):
            raise
        log.info("%s skipped this time (another connection was writing)", what)
        return False
    return True


# -- statements --------------------------------------------------------------------------------------

Upsert = Callable[[Any], postgresql.Insert | sqlite.Insert]


def insert_for(session: Session) -> Upsert:
    """The `insert()` of the session's dialect, which offers `on_conflict_do_update` (both dialects
    spell the upsert alike, but each statement class compiles for its own database only)."""
    return postgresql.insert if _is_postgresql(session) else sqlite.insert


def spatial_box_prefilter(
    session: Session, geom: Any, bbox: tuple[float, float, float, float]
) -> list[ColumnElement[bool]]:
    """Extra conditions that let the spatial index find the rows of a WGS-84 box before the exact test.

    PostgreSQL: `geom && ST_MakeEnvelope(…)` against the GiST index (without it a box is a scan of the
    whole table). Its keys are float32 boxes rounded outwards, so `&&` never loses a point an exact
    `lon`/`lat` test keeps. SQLite: none — its planner answers a `lat` range with a skip-scan of the
    B-tree `ix_case_dedup`, and a join through SpatiaLite's R*Tree is no faster for small boxes and much
    slower for large ones.
    """
    if not _is_postgresql(session):
        return []
    x0, y0, x1, y1 = bbox
    return [geom.op("&&")(func.ST_MakeEnvelope(x0, y0, x1, y1, 4326))]


def plan_with_values(session: Session) -> None:
    """Have the rest of the transaction planned with its parameters' values (PostgreSQL), not a cached
    generic plan: for a map box the right plan depends on its size (index for a street, scan for the
    whole area). SQLite plans every statement afresh anyway."""
    if _is_postgresql(session):
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# -- expressions -------------------------------------------------------------------------------------


class _LocalWeekStart(FunctionElement[str]):
    type = String()
    name = "local_week_start"
    inherit_cache = True


@compiles(_LocalWeekStart, POSTGRESQL)
def _local_week_start_postgresql(element: _LocalWeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', ({column}) AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"


@compiles(_LocalWeekStart, SQLITE)
def _local_week_start_sqlite(element: _LocalWeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is its Monday.
    return f"date({column}, '+8 hours', 'weekday 0', '-6 days')"


def local_week_start(stored: Any) -> ColumnElement[str]:
    """The Monday (Asia/Shanghai) of the week a stored timestamp falls in, as `YYYY-MM-DD` text.

    One expression that compiles for each database, so a statement using it is built once for both.
    PostgreSQL converts the `timestamptz` to Shanghai time; SQLite stores UTC without an offset and has
    no time zones, so it adds 8 hours — Shanghai's offset for every date since 1991 (China has kept no
    daylight saving time since).
    """
    return _LocalWeekStart(stored)


class _LocalMonth(FunctionElement[str]):
    type = String()
    name = "local_month"
    inherit_cache = True


@compiles(_LocalMonth, POSTGRESQL)
def _local_month_postgresql(element: _LocalMonth, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


@compiles(_LocalMonth, SQLITE)
def _local_month_sqlite(element: _LocalMonth, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m', {column}, '+8 hours')"


def local_month(stored: Any) -> ColumnElement[str]:
    """The month (Asia/Shanghai) a stored timestamp falls in, as `YYYY-MM` text — on both databases, as
    `local_week_start` (SQLite adds Shanghai's fixed offset of 8 hours to the stored UTC)."""
    return _LocalMonth(stored)
