"""`flask --app wsgi calendar …`: view and override the working-time calendar."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from coordinator.db import session_scope, utcnow

calendar_cli = AppGroup("calendar", help="Working-day calendar (Chinese holidays, 调休, admin overrides).")


def _sessions() -> AbstractContextManager[Session]:
    from coordinator.extensions import get_sessionmaker

    return session_scope(get_sessionmaker())


@calendar_cli.command("override")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--work/--off", "working", required=True, help="Make DAY a working day or a day off.")
@click.option("--note", default="", help="Why (e.g. 2027 国务院办公厅通知 调休).")
@click.option("--remove", is_flag=True, help="Remove the override instead (the library's answer applies).")
def override(day: datetime, working: bool, note: str, remove: bool) -> None:
    """Declare DAY (YYYY-MM-DD) a working day (--work) or a day off (--off)."""
    from coordinator.worktime import services

    with _sessions() as session:
        if remove:
            done = services.remove_override(session, day.date())
            click.echo(f"{day.date()}: override removed" if done else f"{day.date()}: no override")
            return
        services.set_override(session, day.date(), working=working, note=note, now=utcnow())
    click.echo(f"{day.date()}: {'working day' if working else 'day off'} ({note or 'no note'})")


@calendar_cli.command("confirm")
@click.argument("year", type=int)
@click.option("--by", "by", default="operator", help="Who checked the year.")
@click.option("--note", default="", help="Source, e.g. the State Council notice.")
def confirm(year: int, by: str, note: str) -> None:
    """Mark YEAR's calendar as checked against the published holiday schedule."""
    from coordinator.worktime import services

    with _sessions() as session:
        services.confirm_year(session, year, by=by, note=note, now=utcnow())
    click.echo(f"{year}: confirmed by {by}")


@calendar_cli.command("show")
@click.argument("year", type=int, required=False)
def show(year: int | None) -> None:
    """List YEAR's (default: this year's) holidays, make-up workdays and overrides."""
    from coordinator.worktime import SHANGHAI, services

    year = year or datetime.now(SHANGHAI).year
    with _sessions() as session:
        calendar = services.load_calendar(session)
        days = services.exceptional_days(session, year)
    published = calendar.year_is_published(year)
    confirmed = year in calendar.confirmed_years
    click.echo(
        f"{year}: schedule {'known' if published else 'NOT published (add overrides, then confirm)'}"
        f"{'; confirmed by an operator' if confirmed else ''}"
    )
    for d in days:
        click.echo(f"{d.day.isoformat()}  {d.day.strftime('%a')}  {'work' if d.working else 'off '}  {d.why}")
