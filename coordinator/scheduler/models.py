"""What the scheduler processes leave in the database for operators and for each other: a heartbeat
per process (leader or standby) and a record of every job run (`/readyz`, `/metrics`, the proof that
no run happened twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

SCHEDULER_ROLES = ("leader", "standby")
RUN_OUTCOMES = ("running", "ok", "error")


class SchedulerHeartbeat(Base):
    """One row per scheduler process (`holder` = host:pid:random), refreshed every few seconds. The
    leader's row is what `/readyz` reads: fresh means jobs are being run."""

    __tablename__ = "scheduler_heartbeat"
    __table_args__ = (CheckConstraint("role IN ('leader', 'standby')", name="role"),)

    holder: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="standby")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    leader_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SchedulerRun(Base):
    """One run of one job by one scheduler process: started, then finished `ok` or `error`. A run left
    `running` belongs to a process that died mid-run."""

    __tablename__ = "scheduler_run"
    __table_args__ = (
        CheckConstraint("outcome IN ('running', 'ok', 'error')", name="outcome"),
        Index("ix_scheduler_run_job_started", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(128))
    run_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    detail: Mapped[str] = mapped_column(Text, default="")
