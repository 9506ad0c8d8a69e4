"""The one scheduler process (`flask --app wsgi scheduler run`): APScheduler 3.x with a persistent
SQLAlchemy job store on the app's database.

APScheduler 3 cannot share a job store between processes (duplicate or missed runs), so exactly one
process runs it — never a web worker: the leader of coordinator.scheduler.leader (the other scheduler
processes stand by and only configure the job store once they lead). Jobs are module-level functions
in `coordinator.scheduler.jobs` (the job store pickles references to them), with explicit ids and
`replace_existing=True` so a restart updates rather than duplicates them. Their state lives in the
case and outbox tables, not in the scheduler: a restart loses nothing, the next sweep catches up.
"""

from __future__ import annotations

from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from config import Settings
from coordinator.scheduler import jobs
from coordinator.worktime import SHANGHAI

SWEEP_JOB_ID = "sla_sweep"
DELIVERY_JOB_ID = "webhook_delivery"
ROSTER_DRAFT_JOB_ID = "roster_draft"
PATROL_REMINDER_JOB_ID = "patrol_reminders"
AGENDA_JOB_ID = "meeting_agendas"
REMINDER_JOB_ID = "meeting_reminders"
PLAN_JOB_ID = "plan_meetings"
JOB_DEFAULTS: dict[str, Any] = {
    # A sweep that could not run on time (process down, machine asleep) still runs once it can, and
    # missed runs collapse into one: the sweep is idempotent and catches up from the tables anyway.
    "misfire_grace_time": 3600,
    "coalesce": True,
    "max_instances": 1,
}


def configure(
    scheduler: BaseScheduler,
    engine: Engine,
    *,
    sweep_seconds: int = 60,
    delivery_seconds: int = 30,
    meeting_seconds: int = 300,
    settings: Settings | None = None,
) -> BaseScheduler:
    """Give `scheduler` our job store, defaults and its jobs (idempotent: ids are fixed): SLA sweep,
    webhook delivery, meeting agendas and reminders (every `meeting_seconds`), meeting planning (daily).

    Rosters: `roster_draft` drafts next week's roster on `roster_draft_day` at `roster_draft_hour`;
    `patrol_reminders` reminds the squads of tonight's patrols at `roster_reminder_hour` (Asia/Shanghai).
    """
    settings = settings or Settings()
    # Pass our engine, not a URL: SQLite needs pysqlite3 + SpatiaLite loaded the way make_engine does.
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        job_defaults=JOB_DEFAULTS,
        timezone=SHANGHAI,
    )
    scheduler.add_job(
        jobs.sla_sweep,
        "interval",
        seconds=sweep_seconds,
        id=SWEEP_JOB_ID,
        name="SLA sweep: escalate unclaimed and overdue cases",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.deliver_webhooks,
        "interval",
        seconds=delivery_seconds,
        id=DELIVERY_JOB_ID,
        name="Deliver outbox messages to webhooks",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.draft_next_roster,
        "cron",
        day_of_week=settings.roster_draft_day,
        hour=settings.roster_draft_hour,
        kwargs={"time_limit_s": settings.roster_time_limit_s, "workers": settings.roster_workers},
        id=ROSTER_DRAFT_JOB_ID,
        name="Draft next week's joint night roster",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.remind_patrols,
        "cron",
        hour=settings.roster_reminder_hour,
        id=PATROL_REMINDER_JOB_ID,
        name="Remind the squads of tonight's joint patrols",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.meeting_agendas,
        "interval",
        seconds=meeting_seconds,
        id=AGENDA_JOB_ID,
        name="Build liaison meeting agendas that fell due",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.meeting_reminders,
        "interval",
        seconds=meeting_seconds,
        id=REMINDER_JOB_ID,
        name="Queue liaison meeting reminders that fell due",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.plan_meetings,
        "cron",
        hour=2,
        minute=30,
        id=PLAN_JOB_ID,
        name="Plan monthly meeting series ahead (working days, rotating hosts)",
        replace_existing=True,
    )
    return scheduler


def blocking_scheduler(engine: Engine, settings: Settings | None = None, **kwargs: int) -> BlockingScheduler:
    """The production scheduler: blocks the process until SIGTERM/SIGINT."""
    scheduler = BlockingScheduler()
    configure(scheduler, engine, settings=settings, **kwargs)
    return scheduler


def background_scheduler(
    engine: Engine, settings: Settings | None = None, **kwargs: int
) -> BackgroundScheduler:
    """The leader's scheduler: runs the jobs in threads while the main thread keeps the leader lock."""
    scheduler = BackgroundScheduler()
    configure(scheduler, engine, settings=settings, **kwargs)
    return scheduler
