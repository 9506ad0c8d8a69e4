"""Command-line interface: `flask --app wsgi db|seed|boundaries|users|squads|reports …`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from coordinator import migrate
from coordinator.extensions import get_engine

db_cli = AppGroup("db", help="Database migrations (Alembic).")
seed_cli = AppGroup("seed", help="Load shipped and demo data.")


def _url(app: Flask) -> str:
    return get_engine(app).url.render_as_string(hide_password=False)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(script_info: object, revision: str) -> None:
    """Migrate the database named by DATABASE_URL to REVISION (default: head)."""
    from flask import current_app

    migrate.upgrade(_url(current_app), revision)
    click.echo(f"database at {get_engine(current_app).url.render_as_string()} is at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. -1, base)."""
    from flask import current_app

    migrate.downgrade(_url(current_app), revision)


@db_cli.command("check")
def db_check() -> None:
    """Exit non-zero if the models and the migrated database disagree."""
    from flask import current_app

    with get_engine(current_app).connect() as conn:
        diff = migrate.schema_diff(conn)
    if diff:
        for item in diff:
            click.echo(f"  {item}", err=True)
        raise click.ClickException("models and migrations disagree; write a migration")
    click.echo("models and migrations agree")


@seed_cli.command("reference")
def seed_reference() -> None:
    """Reference data: Shanghai districts, dispatch desks, report categories, routing rules (idempotent)."""

    from coordinator.db import session_scope
    from coordinator.demo import seed_reference as run
    from coordinator.extensions import get_sessionmaker
    from coordinator.settings import get_settings

    settings = get_settings()
    with session_scope(get_sessionmaker()) as session:
        lines = run(session, snap_m=settings.border_snap_m, zone_width_m=settings.border_zone_width_m)
    for line in lines:
        click.echo(line)


@seed_cli.command("demo")
@click.option("--reports", default=3000, show_default=True, help="Synthetic reports to generate (0: none).")
def seed_demo(reports: int) -> None:
    """Reference data, approximate demo jurisdictions and squads, one user per role, and a synthetic
    caseload (marked synthetic) of REPORTS reports over 90 days.

    Idempotent: re-running adds nothing and never shows an existing user's password again.
    """
    import sys

    from coordinator.cases.demo_caseload import has_demo_caseload, seed_demo_caseload
    from coordinator.db import session_scope
    from coordinator.demo import seed_demo as run
    from coordinator.extensions import get_sessionmaker
    from coordinator.geolocation.services import load_locator_input, locator_key
    from coordinator.settings import get_settings
    from geo.locator import Locator

    settings = get_settings()
    with session_scope(get_sessionmaker()) as session:
        report = run(
            session,
            snap_m=settings.border_snap_m,
            token_ttl_days=settings.token_ttl_days,
            zone_width_m=settings.border_zone_width_m,
        )
    for line in report.lines:
        click.echo(line)
    if reports > 0:
        with session_scope(get_sessionmaker()) as session:
            if has_demo_caseload(session):
                click.echo("synthetic caseload: already there")
            else:
                locator = Locator(load_locator_input(session, locator_key(session)))
                with click.progressbar(length=reports, label="synthetic caseload", file=sys.stderr) as bar:
                    caseload = seed_demo_caseload(session, locator, reports=reports, progress=bar.update)
                click.echo(
                    f"synthetic caseload (合成演示数据): {caseload.reports} reports → {caseload.cases} cases"
                )
    if report.existing_users:
        click.echo(f"users already there (credentials not shown again): {', '.join(report.existing_users)}")
    if report.credentials:
        click.echo("new demo users — save these now, they are shown once:")
        click.echo("username\trole\tpassword\tAPI token")
        for c in report.credentials:
            click.echo(f"{c.username}\t{c.role}\t{c.password}\t{c.token}")


def register_cli(app: Flask) -> None:
    """Attach every command group to the app."""
    from coordinator.auth.cli import users_cli
    from coordinator.boundaries.cli import boundaries_cli, seed_boundaries
    from coordinator.cases.cli import reports_cli
    from coordinator.evidence.cli import evidence_cli
    from coordinator.geolocation.cli import geolocate_cli
    from coordinator.scheduler.cli import scheduler_cli, webhooks_cli
    from coordinator.squads.cli import squads_cli
    from coordinator.worktime.cli import calendar_cli

    seed_cli.add_command(seed_boundaries)
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(boundaries_cli)
    app.cli.add_command(geolocate_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(squads_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(evidence_cli)
