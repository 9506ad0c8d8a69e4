"""The one scheduler process (`flask --app wsgi scheduler run`): APScheduler 3.x with a persistent
SQLAlchemy job store on the app's database.

APScheduler 3 cannot share a job store between processes (duplicate or missed runs), so exactly one
process runs it — never a web worker. Jobs are module-level functions in `coordinator.scheduler.jobs`
(the job store pickles references to them), with explicit ids and `replace_existing=True` so a restart
updates rather than duplicates them. Their state lives in the case and outbox tables, not in the
scheduler: a restart loses nothing, the next sweep catches up.
"""

from __future__ import annotations

from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from coordinator.scheduler import jobs
from coordinator.worktime import SHANGHAI

SWEEP_JOB_ID = "sla_sweep"
DELIVERY_JOB_ID = "webhook_delivery"
JOB_DEFAULTS: dict[str, Any] = {
    # A sweep that could not run on time (process down, machine asleep) still runs once it can, and
    # missed runs collapse into one: the sweep is idempotent and catches up from the tables anyway.
    "misfire_grace_time": 3600,
    "coalesce": True,
    "max_instances": 1,
}


def configure(
    scheduler: BaseScheduler, engine: Engine, *, sweep_seconds: int = 60, delivery_seconds: int = 30
) -> BaseScheduler:
    """Give `scheduler` our job store, defaults and the two jobs (idempotent: ids are fixed)."""
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
    return scheduler


def blocking_scheduler(engine: Engine, **kwargs: int) -> BlockingScheduler:
    """The production scheduler: blocks the process until SIGTERM/SIGINT."""
    scheduler = BlockingScheduler()
    configure(scheduler, engine, **kwargs)
    return scheduler
