"""Two scheduler processes started at once on one PostgreSQL database: one leads (runs the jobs), the
other stands by; killing the leader (SIGKILL) hands over within TAKEOVER_S, and no job run overlaps
another run of the same job or comes from a process that was not leading."""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from coordinator.db import session_scope
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun
from tests.postgis.conftest import BIN, Process, app_env, spawn, wait_until

# Stated in docs/operations.md: the standby tries the lock every SCHEDULER_STANDBY_RETRY_S (0.5 s here,
# 2 s by default); a killed leader's connection closes at once, so the lock is free at its next try.
TAKEOVER_S = 5.0


def start_scheduler(database_url: str, tmp_path: Path, name: str) -> Process:
    env = app_env(
        database_url,
        LOG_LEVEL="INFO",
        SCHEDULER_HEARTBEAT_S="0.5",
        SCHEDULER_STANDBY_RETRY_S="0.5",
    )
    args = [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run", "--sweep-seconds", "1"]
    return spawn([*args, "--delivery-seconds", "1"], env, tmp_path / f"{name}.log")


def holder_of(process: Process) -> str | None:
    for line in process.output().splitlines():
        if line.startswith("scheduler ") and ": waiting for the leader lock" in line:
            return line.split()[1].rstrip(":")
    return None


def roles(committed: sessionmaker[Any], holders: list[str]) -> dict[str, str]:
    with session_scope(committed) as session:
        rows = session.execute(
            select(SchedulerHeartbeat.holder, SchedulerHeartbeat.role).where(
                SchedulerHeartbeat.holder.in_(holders)
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def runs(committed: sessionmaker[Any], holders: list[str]) -> list[SchedulerRun]:
    with session_scope(committed) as session:
        return list(
            session.scalars(
                select(SchedulerRun)
                .where(SchedulerRun.holder.in_(holders))
                .order_by(SchedulerRun.started_at, SchedulerRun.id)
            )
        )


def test_one_scheduler_leads_and_a_standby_takes_over_when_it_is_killed(
    database_url: str, committed: sessionmaker[Any], tmp_path: Path
) -> None:
    a = start_scheduler(database_url, tmp_path, "a")
    b = start_scheduler(database_url, tmp_path, "b")
    processes = {}
    try:
        wait_until(lambda: holder_of(a) and holder_of(b), 60, "both schedulers to start")
        holders = [holder_of(a), holder_of(b)]
        processes = {holder_of(a): a, holder_of(b): b}
        wait_until(
            lambda: sorted(roles(committed, holders).values()) == ["leader", "standby"],
            30,
            "one leader and one standby",
        )
        current = roles(committed, holders)
        first = next(h for h, r in current.items() if r == "leader")
        second = next(h for h, r in current.items() if r == "standby")
        wait_until(
            lambda: sum(r.outcome == "ok" and r.job_id == "sla_sweep" for r in runs(committed, holders)) >= 2,
            30,
            "the leader's sweeps",
        )
        assert {r.holder for r in runs(committed, holders)} == {first}  # the standby runs nothing
        assert processes[second].proc.poll() is None  # ... and keeps waiting

        killed_at = time.monotonic()
        processes[first].proc.send_signal(signal.SIGKILL)
        processes[first].proc.wait(10)
        took = wait_until(lambda: roles(committed, holders).get(second) == "leader", 30, "the takeover")
        print(f"takeover after SIGKILL of the leader: {took:.2f} s")
        assert took < TAKEOVER_S, f"takeover took {took:.1f} s"
        assert time.monotonic() - killed_at < TAKEOVER_S + 1
        wait_until(
            lambda: sum(r.holder == second and r.outcome == "ok" for r in runs(committed, holders)) >= 2,
            30,
            "the new leader's runs",
        )
        assert processes[second].stop() == 0  # a clean stop (SIGTERM) of the leader
        all_runs = runs(committed, holders)
        assert not [r for r in all_runs if r.outcome == "running"]  # the dead leader's were closed
        for job in {r.job_id for r in all_runs}:
            mine = [r for r in all_runs if r.job_id == job]
            for earlier, later in itertools.pairwise(mine):
                assert earlier.finished_at is not None
                assert earlier.finished_at <= later.started_at, f"{job}: runs overlap"
        handover = max(r.started_at for r in all_runs if r.holder == first)
        assert all(r.started_at > handover for r in all_runs if r.holder == second)
        assert [r.holder for r in all_runs] == sorted(
            (r.holder for r in all_runs), key=lambda h: h == second
        )  # all of the first leader's runs, then all of the second's
    finally:
        for process in (a, b):
            process.stop(signal.SIGKILL)
        with session_scope(committed) as session:
            names = [h for h in processes if h]
            session.execute(delete(SchedulerRun).where(SchedulerRun.holder.in_(names)))
            session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.holder.in_(names)))
