"""`flask --app wsgi scheduler run` (the one scheduler process) and `webhooks add|list`."""

from __future__ import annotations

import signal
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

scheduler_cli = AppGroup(
    "scheduler",
    help="The scheduler process (SLA sweep, webhook delivery, meeting agendas and reminders, roster drafts, "
    "patrol reminders).",
)
webhooks_cli = AppGroup("webhooks", help="Webhook subscriptions for case events.")


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="Run each job once now and exit (cron, smoke tests).")
@click.option("--sweep-seconds", default=60, show_default=True, help="SLA sweep interval.")
@click.option("--delivery-seconds", default=30, show_default=True, help="Webhook delivery interval.")
def run(once: bool, sweep_seconds: int, delivery_seconds: int) -> None:
    """Run the scheduler. Start it on as many hosts as you like: one leads and runs the jobs, the
    others stand by and take over when it dies (coordinator.scheduler.leader; docs/operations.md)."""
    from coordinator.extensions import get_engine, get_sessionmaker
    from coordinator.scheduler import background_scheduler, jobs, leader
    from coordinator.settings import get_settings

    settings = get_settings()
    holder = leader.new_holder()
    jobs.bind(get_sessionmaker(current_app), holder=holder)
    if once:
        click.echo(f"sla_sweep: {jobs.sla_sweep()}")
        click.echo(f"plan_meetings: {jobs.plan_meetings()}")
        click.echo(f"meeting_agendas: {jobs.meeting_agendas()}")
        click.echo(f"meeting_reminders: {jobs.meeting_reminders()}")
        click.echo(f"webhook_delivery: {jobs.deliver_webhooks()}")
        click.echo(
            f"roster_draft: {jobs.draft_next_roster(settings.roster_time_limit_s, settings.roster_workers)}"
        )
        click.echo(f"patrol_reminders: {jobs.remind_patrols()}")
        return
    engine = get_engine(current_app)
    leadership = leader.Leadership(
        lock=leader.lock_for(engine),
        factory=get_sessionmaker(current_app),
        holder=holder,
        heartbeat_s=settings.scheduler_heartbeat_s,
        retry_s=settings.scheduler_standby_retry_s,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"signal {signum}: stopping the scheduler")
        leadership.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"scheduler {holder}: waiting for the leader lock")
    if not leadership.wait():
        return
    scheduler = background_scheduler(
        engine, settings, sweep_seconds=sweep_seconds, delivery_seconds=delivery_seconds
    )
    scheduler.start()
    for job in scheduler.get_jobs():
        click.echo(f"job {job.id}: {job.trigger}")
    click.echo(f"scheduler {holder}: leading (Asia/Shanghai); Ctrl-C or SIGTERM stops it")
    kept = leadership.keep()
    # Lost the lock: stop at once (a standby may already lead); else finish the running jobs first.
    scheduler.shutdown(wait=kept)
    leadership.resign()
    if not kept:
        raise SystemExit(3)


@webhooks_cli.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--secret", required=True, help="Shared HMAC-SHA256 secret (the receiver keeps a copy).")
@click.option("--event", "events", multiple=True, help="Event kind to send (repeat); none = all kinds.")
def add(name: str, url: str, secret: str, events: tuple[str, ...]) -> None:
    """Subscribe URL to case events."""
    from coordinator.db import session_scope
    from coordinator.extensions import get_sessionmaker
    from coordinator.notifications import services

    try:
        with session_scope(get_sessionmaker()) as session:
            sub = services.add_subscription(session, name=name, url=url, secret=secret, kinds=list(events))
            kinds = ", ".join(sub.event_kinds) or "all events"
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"webhook {name} → {url} ({kinds})")


@webhooks_cli.command("list")
def list_() -> None:
    """List subscriptions with their pending/delivered/failed delivery counts."""
    from sqlalchemy import func, select

    from coordinator.db import session_scope
    from coordinator.extensions import get_sessionmaker
    from coordinator.notifications import services
    from coordinator.notifications.models import WebhookDelivery

    with session_scope(get_sessionmaker()) as session:
        counts: dict[tuple[int, str], int] = {
            (sub_id, state): n
            for sub_id, state, n in session.execute(
                select(WebhookDelivery.subscription_id, WebhookDelivery.state, func.count()).group_by(
                    WebhookDelivery.subscription_id, WebhookDelivery.state
                )
            ).all()
        }
        click.echo("name\tactive\turl\tevents\tpending\tdelivered\tfailed")
        for s in services.list_subscriptions(session):
            c = [counts.get((s.id, k), 0) for k in ("pending", "delivered", "failed")]
            kinds = ",".join(s.event_kinds) or "*"
            click.echo(f"{s.name}\t{'yes' if s.active else 'no'}\t{s.url}\t{kinds}\t{c[0]}\t{c[1]}\t{c[2]}")


@webhooks_cli.command("deactivate")
@click.argument("name")
def deactivate(name: str) -> None:
    """Stop sending to a subscription."""
    from coordinator.db import session_scope
    from coordinator.extensions import get_sessionmaker
    from coordinator.notifications import services

    with session_scope(get_sessionmaker()) as session:
        if not services.deactivate(session, name):
            raise click.ClickException(f"no webhook {name}")
    click.echo(f"webhook {name} deactivated")
