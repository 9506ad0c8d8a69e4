"""Tests that need PostgreSQL itself — real processes (gunicorn, scheduler) on the test database,
connections killed with pg_terminate_backend, advisory locks, pg_dump/pg_restore.

They are collected only when TEST_DATABASE_URL is a PostgreSQL URL, which is how `.ci/run` runs its
second pass (`make test` on a fresh PostGIS database): CI runs every one of them. On the SQLite pass
they are not collected (not skipped), and the route-coverage check leaves this folder out there.

Everything here commits for real (other processes must see it); each test removes what it made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import sessionmaker

from bench.served import Gunicorn, start
from config import PROJECT_ROOT
from coordinator.auth.models import ApiToken, User
from coordinator.cases.models import Case, Report
from coordinator.cases.retention import purge_cases
from coordinator.db import session_scope
from tests.conftest import on_postgresql
from tests.factories import make_token, make_user

collect_ignore_glob = [] if on_postgresql() else ["test_*.py"]
BIN = Path(sys.executable).parent


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an app process on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="postgis-tests",
        LOG_LEVEL="WARNING",
        LOG_REQUESTS="false",
        READYZ_REQUIRES_SCHEDULER="false",
        # These tests drive one token and one address far past the per-caller limits on purpose (load
        # during faults); the limits themselves are tested in tests/test_ratelimit.py and test_security.py.
        RATE_LIMITS_ENABLED="false",
    )
    env.update(extra)
    return env


@dataclass
class Process:
    """A child process with its output in a file."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> Process:
    log = log_path.open("wb")
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Process(proc, log_path, log)


@contextmanager
def gunicorn(
    database_url: str, tmp_path: Path, *, workers: int = 2, name: str = "web", **env: str
) -> Iterator[tuple[str, Gunicorn]]:
    """gunicorn (our gunicorn.conf.py) on 127.0.0.1:<free port>, serving once /livez answers."""
    with start(
        env=app_env(database_url, **env),
        workers=workers,
        # A shared CI machine can take long to import and warm a worker: do not kill it for that.
        flags=["--timeout", "180"],
        log=tmp_path / f"{name}.log",
        name=f"gunicorn {name}",
    ) as server:
        yield server.base, server


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll until `predicate()` is true; the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


@pytest.fixture
def committed(engine: Engine) -> sessionmaker[Any]:
    """Sessions that commit for real (what other processes see)."""
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def reporter(committed: sessionmaker[Any]) -> Iterator[str]:
    """A committed reporter's API token; its reports and cases are purged afterwards."""
    with session_scope(committed) as session:
        user = make_user(session, "reporter", username="u_pg_" + uuid.uuid4().hex[:10])
        token = make_token(session, user)
        user_id = user.id
    yield token
    with session_scope(committed) as session:
        case_ids = select(Report.case_id).where(Report.submitted_by_id == user_id).scalar_subquery()
        ids = list(session.scalars(select(Case.id).where(Case.id.in_(case_ids))))
        purge_cases(session, ids, reason="test cleanup")
        session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
        session.execute(delete(User).where(User.id == user_id))
