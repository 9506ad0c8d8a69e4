"""Leader election for the scheduler: start `scheduler run` on as many hosts as you like; exactly one
of them (the leader) runs the jobs, the others wait and take over when it dies.

PostgreSQL: a session-level advisory lock held on a dedicated connection (not from the pool, autocommit,
TCP keepalives on both ends). The lock lives exactly as long as that connection: a leader that crashes
or is killed closes its socket and the server drops the lock at once; a leader whose host vanishes is
dropped when the server's keepalive gives up (`tcp_keepalives_*` below: about 5 + 3 × 2 = 11 s). The
standbys try the lock every `scheduler_standby_retry_s` (2 s). The leader checks every heartbeat
(5 s) that its lock connection still holds the lock, and stops its jobs and exits (status 3; systemd
restarts it as a standby) when it does not.

SQLite: the database is one file on one host, so the lock is an exclusive `flock` on a file beside it
(released by the kernel when the process dies); the "single scheduler process" rule becomes "one
process runs jobs, the others wait" on that host.

Jobs are idempotent and mark their rows with conditional updates, so even the short window in which
a leader cut off from the database has not yet noticed cannot escalate a case twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from secrets import token_hex
from typing import IO, Any, Protocol

import psycopg
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session, sessionmaker

from config.settings import INSTANCE_DIR
from coordinator import dialects
from coordinator.db import session_scope, utcnow
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun

log = logging.getLogger(__name__)

# pg_try_advisory_lock(int4, int4): a key space of its own (the bigint keys of dialects.lock_keys
# cannot collide with it). 0x4A4A = "JJ".
LOCK_CLASS, LOCK_OBJECT = 0x4A4A, 19
RUN_RETENTION = timedelta(days=7)
HEARTBEAT_RETENTION = timedelta(days=1)


class LeaderLock(Protocol):
    """A lock at most one process holds."""

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session-level advisory lock on a dedicated, autocommit connection with keepalives."""

    def __init__(self, engine: Engine, *, keepalive_idle_s: int = 5) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.keepalive_idle_s = keepalive_idle_s
        self.conn: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name="jiaojie-scheduler-lock",
            keepalives=1,
            keepalives_idle=self.keepalive_idle_s,
            keepalives_interval=2,
            keepalives_count=3,
        )
        # The server's side of the same: a vanished leader host frees the lock within ~11 s.
        conn.execute(f"SET tcp_keepalives_idle = {int(self.keepalive_idle_s)}")
        conn.execute("SET tcp_keepalives_interval = 2")
        conn.execute("SET tcp_keepalives_count = 3")
        return conn

    def try_acquire(self) -> bool:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = self._connect()
            row = self.conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, LOCK_OBJECT)
            ).fetchone()
        except psycopg.Error as exc:
            log.warning("leader lock: cannot ask the database: %s", exc)
            self._drop()
            return False
        return bool(row and row[0])

    def still_held(self) -> bool:
        """The keep-alive: our connection answers and the server lists the lock as ours."""
        if self.conn is None or self.conn.closed:
            return False
        try:
            row = self.conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s AND objid = %s AND objsubid = 2 AND granted",
                (LOCK_CLASS, LOCK_OBJECT),
            ).fetchone()
        except psycopg.Error as exc:
            log.error("leader lock: the lock connection failed: %s", exc)
            self._drop()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self.conn is not None and not self.conn.closed:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, LOCK_OBJECT))
        self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None


class FileLock:
    """An exclusive, non-blocking `flock` on a file (SQLite: the database is on this host)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[str] | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self.fh = fh
        return True

    def still_held(self) -> bool:
        return self.fh is not None and not self.fh.closed

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def lock_for(engine: Engine) -> LeaderLock:
    """The leader lock that fits the engine's database."""
    if dialects.engine_backend(engine) == dialects.POSTGRESQL:
        return PostgresAdvisoryLock(engine)
    database = engine.url.database
    if database and database != ":memory:":
        return FileLock(Path(database).with_name(Path(database).name + ".scheduler-lock"))
    return FileLock(INSTANCE_DIR / "scheduler.lock")


def new_holder() -> str:
    """This process's name in heartbeats and run records: host:pid:random."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{token_hex(3)}"


@dataclass
class Leadership:
    """Wait for the lock, then keep it, writing heartbeats all along."""

    lock: LeaderLock
    factory: sessionmaker[Session]
    holder: str
    heartbeat_s: float = 5.0
    retry_s: float = 2.0
    stop: threading.Event = field(default_factory=threading.Event)
    leader: bool = False

    def beat(self) -> None:
        """Write this process's heartbeat (a database outage is logged, not fatal)."""
        now = utcnow()
        role = "leader" if self.leader else "standby"
        try:
            with session_scope(self.factory) as session:
                dialects.begin_write(session)
                stmt = dialects.insert_for(session)(SchedulerHeartbeat).values(
                    holder=self.holder,
                    role=role,
                    started_at=now,
                    beat_at=now,
                    leader_since=now if self.leader else None,
                )
                set_: dict[str, Any] = {"role": role, "beat_at": now}
                session.execute(stmt.on_conflict_do_update(index_elements=["holder"], set_=set_))
        except Exception as exc:  # the database may be restarting; the next beat tries again
            log.warning("scheduler heartbeat not written: %s", exc)

    def wait(self) -> bool:
        """Block until this process leads (True) or `stop` is set (False)."""
        announced = False
        while not self.stop.is_set():
            if self.lock.try_acquire():
                self._take_over()
                return True
            if not announced:
                log.info("scheduler %s: another process leads; standing by", self.holder)
                announced = True
            self.beat()
            self.stop.wait(self.retry_s)
        return False

    def _take_over(self) -> None:
        self.leader = True
        now = utcnow()
        with session_scope(self.factory) as session:
            dialects.begin_write(session)
            # Runs left `running` belong to a leader that died mid-run: nobody else runs jobs now.
            abandoned = session.execute(
                update(SchedulerRun)
                .where(SchedulerRun.outcome == "running")
                .values(outcome="error", finished_at=now, detail="abandoned: its scheduler process died")
            ).rowcount  # type: ignore[attr-defined]
            session.execute(delete(SchedulerRun).where(SchedulerRun.started_at < now - RUN_RETENTION))
            session.execute(
                delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - HEARTBEAT_RETENTION)
            )
            session.execute(
                update(SchedulerHeartbeat)
                .where(SchedulerHeartbeat.role == "leader", SchedulerHeartbeat.holder != self.holder)
                .values(role="standby")
            )
            stmt = dialects.insert_for(session)(SchedulerHeartbeat).values(
                holder=self.holder, role="leader", started_at=now, beat_at=now, leader_since=now
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["holder"], set_={"role": "leader", "beat_at": now, "leader_since": now}
                )
            )
        log.info("scheduler %s: leading now (%d abandoned runs closed)", self.holder, abandoned)

    def keep(self) -> bool:
        """While leading: heartbeat and keep-alive until `stop` (True) or the lock is lost (False)."""
        while not self.stop.wait(self.heartbeat_s):
            if not self.lock.still_held():
                log.error("scheduler %s: lost the leader lock; stopping jobs", self.holder)
                self.leader = False
                return False
            self.beat()
        return True

    def resign(self) -> None:
        """Give the lock up (clean shutdown): a standby takes over at its next try."""
        self.lock.release()
        if self.leader:
            self.leader = False
            self.beat()
