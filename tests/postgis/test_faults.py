"""Faults on PostGIS, each against real processes and connections:

- a database connection killed in the middle of an intake: that request fails cleanly (503, Retry-After,
  nothing half-written) and the next one succeeds;
- PostgreSQL "restarted" under load — every backend of the test database terminated, twice (the
  server is shared: restarting it would hit other databases, terminating our database's backends is
  what a restart does to us): answers are 2xx or 503 with Retry-After, never 500, and service resumes
  without restarting gunicorn;
- the scheduler killed (SIGKILL) mid-sweep and restarted: every due case escalated exactly once;
- a gunicorn worker killed under load: clients retrying with their Idempotency-Key get exactly one
  report each, no 5xx, and the master replaces the worker;
- the same report posted from 20 clients at once to 4 workers: one report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from coordinator import create_app
from coordinator.cases.models import Case, CaseEvent, Report
from coordinator.cases.retention import purge_cases
from coordinator.db import session_scope, utcnow
from coordinator.geolocation.services import LocatorCache
from coordinator.notifications.models import OutboxMessage
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun
from coordinator.squads.models import Squad
from tests.contracts import undocumented_status
from tests.factories import make_case, make_squad
from tests.postgis.conftest import BIN, Process, app_env, gunicorn, spawn, wait_until

REPORT = {"category": "05-51", "lon": 121.4712, "lat": 30.9031, "description": "故障测试"}


def libpq(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def terminate_backends(database_url: str) -> int:
    """What a server restart does to us: every other connection to our database is cut."""
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def workers_of(master: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def reports_with_key(committed: sessionmaker[Any], key: str) -> int:
    with session_scope(committed) as session:
        return int(session.scalar(select(func.count()).where(Report.idempotency_key == key)) or 0)


def waits_for(database_url: str, holder: psycopg.Connection[Any]) -> bool:
    """Whether some backend waits for a lock that the connection `holder` holds (asked on a connection of
    its own: a transaction sees pg_stat_activity as it was at its first look)."""
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (holder.info.backend_pid,),
        ).fetchone()
    return bool(row and row[0])


@pytest.fixture
def live_app(database_url: str, engine: Engine, locator_cache: LocatorCache) -> Iterator[Flask]:
    """The app on the real database (its own engine and pool)."""
    app = create_app({"database_url": database_url, "testing": True, "secret_key": "test"})
    app.extensions["coordinator.locator_cache"] = locator_cache
    yield app
    app.extensions["coordinator.engine"].dispose()
    app.extensions["coordinator.counter_engine"].dispose()


def test_a_connection_killed_mid_intake_fails_cleanly_and_the_next_report_succeeds(
    live_app: Flask, reporter: str, committed: sessionmaker[Any], database_url: str
) -> None:
    engine: Engine = live_app.extensions["coordinator.engine"]
    armed = {"on": True, "killed": 0}

    def kill_before_the_trail(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        # The case and report rows are written; the audit trail is next: cut the connection now.
        if armed["on"] and statement.lstrip().upper().startswith("INSERT INTO CASE_EVENT"):
            armed["on"] = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(libpq(database_url), autocommit=True) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
            armed["killed"] = pid

    event.listen(engine, "before_cursor_execute", kill_before_the_trail)
    client = live_app.test_client()
    headers = {"Authorization": f"Bearer {reporter}"}
    body = {**REPORT, "description": "连接中断 " + uuid.uuid4().hex}
    try:
        with undocumented_status(500, "must not happen: asserted below"):
            first = client.post("/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": "k1"})
    finally:
        event.remove(engine, "before_cursor_execute", kill_before_the_trail)
    assert armed["killed"], "the intake never reached the audit trail"
    assert first.status_code == 503, first.get_json()
    assert first.headers["Retry-After"] == "1"
    assert first.get_json()["error"]["code"] == "database_unavailable"
    with session_scope(committed) as session:  # nothing half-written
        assert session.scalar(select(func.count()).where(Report.description == body["description"])) == 0
    again = client.post("/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": "k1"})
    assert again.status_code == 201, again.get_json()
    with session_scope(committed) as session:
        case_id = again.get_json()["case_id"]
        assert session.scalar(select(func.count()).where(Report.description == body["description"])) == 1
        assert session.scalar(select(func.count()).where(CaseEvent.case_id == case_id)) >= 1


@contextmanager
def load(base: str, token: str, seconds: float, clients: int) -> Iterator[dict[str, Any]]:
    """`clients` threads for `seconds`: reports (retried with their key on 503 or a lost connection),
    geolocation and health reads. Yields the tally, complete once the block ends."""
    tally: dict[str, Any] = {"statuses": Counter(), "no_retry_after": 0, "keys": [], "gave_up": []}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        http = requests.Session()
        i = 0
        while time.monotonic() < stop:
            i += 1
            kind = i % 3
            key = f"load-{n}-{i}-{uuid.uuid4().hex[:8]}"
            for _attempt in range(20):
                try:
                    if kind == 0:
                        r = http.post(
                            base + "/api/v1/reports",
                            json={**REPORT, "lon": 121.4712 + n * 1e-4, "description": f"负载 {key}"},
                            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                            timeout=30,
                        )
                    elif kind == 1:
                        r = http.get(base + "/api/v1/geolocate?lon=121.2&lat=30.9", timeout=30)
                    else:
                        r = http.get(base + "/healthz", timeout=30)
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                    # A killed worker can drop the connection before the response or in the middle
                    # of its body (IncompleteRead): either way the client retries with its key.
                    http = requests.Session()
                    time.sleep(0.2)
                    continue
                with lock:
                    tally["statuses"][r.status_code] += 1
                    if r.status_code == 503 and "Retry-After" not in r.headers:
                        tally["no_retry_after"] += 1
                if r.status_code == 503:
                    time.sleep(float(r.headers.get("Retry-After", "1")) / 4)
                    continue
                if kind == 0 and r.status_code in (200, 201):
                    with lock:
                        tally["keys"].append(key)
                break
            else:
                with lock:
                    tally["gave_up"].append(key)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    try:
        yield tally
    finally:
        for t in threads:
            t.join(120)


def test_postgresql_restarting_under_load_answers_503_and_service_resumes(
    database_url: str, engine: Engine, reporter: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    with gunicorn(database_url, tmp_path, workers=2) as (base, server):
        workers = workers_of(server.pid)
        with load(base, reporter, seconds=8, clients=4) as tally:
            time.sleep(2)
            first = terminate_backends(database_url)
            time.sleep(2.5)
            second = terminate_backends(database_url)
        engine.dispose()  # this process's pooled connections were cut too
        assert first > 0 and second > 0
        statuses = tally["statuses"]
        assert set(statuses) <= {200, 201, 503}, statuses  # never a 500
        assert tally["no_retry_after"] == 0 and not tally["gave_up"]
        assert statuses[201] > 0
        # Service resumed without restarting anything: the same workers answer.
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        assert workers_of(server.pid) == workers
    for key in tally["keys"]:
        assert reports_with_key(committed, key) == 1


def test_a_gunicorn_worker_killed_under_load_loses_and_doubles_nothing(
    database_url: str, reporter: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    with gunicorn(database_url, tmp_path, workers=2) as (base, server):
        before = workers_of(server.pid)
        assert len(before) == 2
        with load(base, reporter, seconds=6, clients=4) as tally:
            time.sleep(2)
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
        statuses = tally["statuses"]
        assert set(statuses) <= {200, 201}, statuses  # no 5xx; the killed worker's clients retried
        assert not tally["gave_up"] and statuses[201] > 0
        wait_until(lambda: len(workers_of(server.pid)) == 2, 60, "a replacement worker")
        after = workers_of(server.pid)
        assert victim not in after
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
    for key in tally["keys"]:
        assert reports_with_key(committed, key) == 1


def test_the_same_report_from_twenty_clients_at_once_is_one_report(
    database_url: str, reporter: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    key = "same-" + uuid.uuid4().hex
    body = {**REPORT, "description": "二十个客户端 " + key}
    with gunicorn(database_url, tmp_path, workers=4) as (base, _):
        barrier = threading.Barrier(20)

        def send(_: int) -> tuple[int, int]:
            barrier.wait()
            r = requests.post(
                base + "/api/v1/reports",
                json=body,
                headers={"Authorization": f"Bearer {reporter}", "Idempotency-Key": key},
                timeout=60,
            )
            return r.status_code, int(r.json().get("report_id", -1))

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(send, range(20)))
    assert {status for status, _ in results} <= {200, 201}, results
    assert len({report_id for _, report_id in results}) == 1
    assert reports_with_key(committed, key) == 1


def test_the_scheduler_killed_mid_sweep_loses_and_doubles_no_escalation(
    database_url: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    now = utcnow()
    with session_scope(committed) as session:
        lead = make_squad(session, district="310116")
        squad_id = lead.id
        ids = [
            make_case(
                session,
                lead=lead,
                district="310116",
                now=now - timedelta(hours=3),
                claim_by=now - timedelta(hours=1),
            ).id
            for _ in range(300)
        ]
    env = app_env(
        database_url, LOG_LEVEL="INFO", SCHEDULER_HEARTBEAT_S="0.5", SCHEDULER_STANDBY_RETRY_S="0.5"
    )
    args = [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run", "--sweep-seconds", "1"]
    holders: list[str] = []
    started: list[Process] = []

    def holder_of(process: Process) -> str | None:
        for line in process.output().splitlines():
            if line.startswith("scheduler ") and ": waiting for" in line:
                return line.split()[1].rstrip(":")
        return None

    def escalated() -> int:
        with session_scope(committed) as session:
            return int(
                session.scalar(select(func.count()).where(Case.id.in_(ids), Case.escalated_at.is_not(None)))
                or 0
            )

    def sweeping(process: Process) -> bool:
        holder = holder_of(process)
        with session_scope(committed) as session:
            return bool(
                session.scalar(
                    select(func.count()).where(
                        SchedulerRun.holder == holder,
                        SchedulerRun.job_id == "sla_sweep",
                        SchedulerRun.outcome == "running",
                    )
                )
            )

    # The sweep is held in the middle of its transaction: its first case is updated, and the audit row
    # that follows waits for this lock. So the kill below lands mid-sweep however fast or slow the
    # machine is (polling for a `running` record and then killing raced the sweep's own end: a sweep
    # that finished in between left no run to abandon).
    blocker = psycopg.connect(libpq(database_url))
    try:
        try:
            blocker.execute("LOCK TABLE case_event IN SHARE MODE")
            first = spawn(args, env, tmp_path / "first.log")
            started.append(first)
            wait_until(
                lambda: waits_for(database_url, blocker) and sweeping(first),
                120,
                "a sweep waiting in the middle of its transaction",
            )
            first.proc.send_signal(signal.SIGKILL)
            first.stop()
            assert escalated() == 0  # the sweep's one transaction died with it: nothing was committed
        finally:
            blocker.close()  # the lock goes; the killed sweep's backend finds its client gone, rolls back
        second = spawn(args, env, tmp_path / "second.log")
        started.append(second)
        wait_until(lambda: escalated() == len(ids), 120, "every due case escalated")
        second.stop()
        holders += [h for h in map(holder_of, started) if h]
        with session_scope(committed) as session:
            per_case = dict(
                session.execute(
                    select(CaseEvent.case_id, func.count())
                    .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "escalated")
                    .group_by(CaseEvent.case_id)
                ).all()
            )
            outbox = session.scalar(
                select(func.count()).where(OutboxMessage.case_id.in_(ids), OutboxMessage.kind == "escalated")
            )
            abandoned = session.scalar(
                select(func.count()).where(
                    SchedulerRun.holder.in_(holders), SchedulerRun.detail.like("abandoned%")
                )
            )
        assert per_case == dict.fromkeys(ids, 1)  # none lost, none doubled
        assert outbox == len(ids)
        assert abandoned >= 1  # the killed run was caught mid-sweep and closed by the next leader
    finally:
        for process in started:  # never left running (sweeping, beating) into later tests
            process.stop(signal.SIGKILL)
        holders += [h for h in map(holder_of, started) if h and h not in holders]
        with session_scope(committed) as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.case_id.in_(ids)))
            purge_cases(session, ids, reason="test cleanup")
            session.execute(delete(SchedulerRun).where(SchedulerRun.holder.in_(holders)))
            session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.holder.in_(holders)))
            session.execute(delete(Squad).where(Squad.id == squad_id))  # later tests count squads
