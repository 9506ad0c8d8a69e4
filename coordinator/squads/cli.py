"""`flask squads list|import`."""

from __future__ import annotations

import math
from pathlib import Path

import click
from flask.cli import AppGroup

from coordinator.db import session_scope
from coordinator.extensions import get_sessionmaker
from coordinator.settings import get_settings
from coordinator.squads import services
from geo.jurisdictions import APPROXIMATE_EN, APPROXIMATE_ZH, MEMBER_DISTRICTS

squads_cli = AppGroup("squads", help="Squads (城管中队) and their jurisdictions.")
APPROX_MARK = f"[{APPROXIMATE_ZH} {APPROXIMATE_EN}]"


@squads_cli.command("list")
@click.option("--district", default=None, help="Only this district.")
@click.option("--all", "show_all", is_flag=True, help="Include inactive squads.")
def list_squads(district: str | None, show_all: bool) -> None:
    """Squads with their jurisdictions; approximate (demo) jurisdictions are marked."""
    with session_scope(get_sessionmaker()) as session:
        squads = services.list_squads(session, district=district, active=None if show_all else True)
        areas = services.jurisdiction_areas(session, squads)
        for s in squads:
            area = areas.get(s.jurisdiction_code or "")
            where = f"{area.code} {area.name_zh} v{area.version}" if area else "no jurisdiction"
            mark = f" {APPROX_MARK}" if area is not None and area.approximate else ""
            state = "" if s.active else " INACTIVE"
            cats = ",".join(s.categories) or "all categories"
            click.echo(
                f"{s.code}\t{s.name_zh}\t{s.district_code}\t{where}{mark}\t"
                f"{s.night_capacity} nights/wk\t{cats}{state}"
            )
        click.echo(f"{len(squads)} squad(s)")
        for code in sorted(MEMBER_DISTRICTS if district is None else [district]):
            uncovered, overlap = services.coverage_defects(session, code)
            if math.isnan(uncovered):
                click.echo(f"coverage {code}: no active squad has a jurisdiction here")
            else:
                click.echo(f"coverage {code}: {uncovered:.1f} m² in no jurisdiction, {overlap:.1f} m² in two")


@squads_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
def import_squads(file: Path, dry_run: bool) -> None:
    """Import squads from JSON (a list, or {"squads": [...]}) or GeoJSON (one feature per squad, its
    geometry the jurisdiction). Everything is checked first; a bad file writes nothing."""
    settings = get_settings()
    try:
        with session_scope(get_sessionmaker()) as session:
            plan = services.import_squad_file(session, file, snap_m=settings.border_snap_m)
            for line in plan.summary():
                click.echo(line)
            if dry_run:
                session.rollback()
                click.echo("dry run: nothing written")
                return
    except services.SquadImportError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    click.echo("imported" if plan.has_changes else "nothing changed")
