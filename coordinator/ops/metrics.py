"""Prometheus metrics at `/metrics` (prometheus_client).

Two kinds:
- per process, counted as requests are answered: request counts and latencies by route template. Under
  gunicorn each worker is a process; with `PROMETHEUS_MULTIPROC_DIR` set (deploy/ does, and wipes it
  when the service starts) the workers write their samples to files there and any worker's `/metrics`
  answers the sum of all of them (prometheus_client's multiprocess mode; gunicorn.conf.py marks a dead
  worker's files).
- read from the database when scraped, so every web instance answers the same numbers: cases by state,
  SLA breaches, the outbox backlog, scheduler job outcomes and the scheduler's heartbeat.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import OPEN_STATUSES, Case
from coordinator.db import utcnow
from coordinator.notifications.models import OutboxMessage, WebhookDelivery
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "jiaojie"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# This process's request metrics (in multiprocess mode their values live in files, see above).
LOCAL = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=LOCAL,
)
LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=LOCAL,
)


def multiprocess_mode() -> bool:
    """Whether the workers share their samples through PROMETHEUS_MULTIPROC_DIR."""
    return bool(os.environ.get(MULTIPROC_ENV))


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"  # no raw paths: bounded label values


def init_app(app: Flask) -> None:
    """Count and time every answer (after the request id hook started the clock)."""

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            route = _route()
            REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


class _Forward(Collector):
    """This process's registry, collected into the per-scrape one."""

    def collect(self) -> Iterable[Metric]:
        return LOCAL.collect()


def _seconds(at: datetime | None) -> float:
    return at.timestamp() if at is not None else 0.0


class DatabaseCollector(Collector):
    """Numbers read from the database at scrape time (the same on every web instance)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        s = self.session
        cases = GaugeMetricFamily(f"{PREFIX}_cases", "Cases by state (status).", labels=["state"])
        for status, n in s.execute(select(Case.status, func.count()).group_by(Case.status)):
            cases.add_metric([status], n)
        yield cases

        is_open = Case.status.in_(OPEN_STATUSES)
        row = s.execute(
            select(
                func.count(Case.escalated_at),
                func.count(Case.overdue_at),
                func.sum(case((is_open & Case.escalated_at.is_not(None), 1), else_=0)),
                func.sum(case((is_open & Case.overdue_at.is_not(None), 1), else_=0)),
            )
        ).one()
        breaches = GaugeMetricFamily(
            f"{PREFIX}_sla_breaches",
            "Cases that missed an SLA deadline: claim (escalated) or resolve (overdue); "
            "open=true: still open.",
            labels=["deadline", "open"],
        )
        breaches.add_metric(["claim", "false"], row[0] or 0)
        breaches.add_metric(["resolve", "false"], row[1] or 0)
        breaches.add_metric(["claim", "true"], row[2] or 0)
        breaches.add_metric(["resolve", "true"], row[3] or 0)
        yield breaches

        backlog = GaugeMetricFamily(
            f"{PREFIX}_outbox_backlog",
            "Outbox work not done yet: messages not fanned out, deliveries pending; failed deliveries.",
            labels=["stage"],
        )
        backlog.add_metric(
            ["undispatched"],
            s.scalar(select(func.count()).where(OutboxMessage.dispatched_at.is_(None))) or 0,
        )
        for state, n in s.execute(
            select(WebhookDelivery.state, func.count())
            .where(WebhookDelivery.state.in_(("pending", "failed")))
            .group_by(WebhookDelivery.state)
        ):
            backlog.add_metric([state], n)
        oldest = s.scalar(
            select(func.min(OutboxMessage.created_at)).where(OutboxMessage.dispatched_at.is_(None))
        )
        yield backlog
        age = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_undispatched_age_seconds",
            "Age of the oldest outbox message not fanned out yet (0 if none).",
        )
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest is not None else 0.0)
        yield age

        runs = GaugeMetricFamily(
            f"{PREFIX}_scheduler_job_runs",
            "Scheduler job runs on record, by job and outcome (running, ok, error).",
            labels=["job", "outcome"],
        )
        for job_id, outcome, n in s.execute(
            select(SchedulerRun.job_id, SchedulerRun.outcome, func.count()).group_by(
                SchedulerRun.job_id, SchedulerRun.outcome
            )
        ):
            runs.add_metric([job_id, outcome], n)
        yield runs
        last_ok = GaugeMetricFamily(
            f"{PREFIX}_scheduler_job_last_success_timestamp_seconds",
            "When each job last finished without error (Unix time).",
            labels=["job"],
        )
        for job_id, at in s.execute(
            select(SchedulerRun.job_id, func.max(SchedulerRun.finished_at))
            .where(SchedulerRun.outcome == "ok")
            .group_by(SchedulerRun.job_id)
        ):
            last_ok.add_metric([job_id], _seconds(at))
        yield last_ok

        beat = s.scalar(
            select(func.max(SchedulerHeartbeat.beat_at)).where(SchedulerHeartbeat.role == "leader")
        )
        heartbeat = GaugeMetricFamily(
            f"{PREFIX}_scheduler_leader_heartbeat_age_seconds",
            "Seconds since the scheduler leader's last heartbeat (-1: no leader on record).",
        )
        heartbeat.add_metric([], (utcnow() - beat).total_seconds() if beat is not None else -1.0)
        yield heartbeat


def render(session: Session) -> Response:
    """The exposition text of every metric (this process's or all workers', and the database's)."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward())
    registry.register(DatabaseCollector(session))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
