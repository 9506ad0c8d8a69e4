"""`flask boundaries import|list` and `flask seed boundaries`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from coordinator import get_settings
from coordinator.boundaries import services
from coordinator.db import session_scope
from coordinator.extensions import get_sessionmaker
from geo.boundaries import LEVELS, BoundaryFileError, parse_features, read_boundary_file

boundaries_cli = AppGroup("boundaries", help="Administrative boundaries: import and inspect.")


@boundaries_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="district",
    show_default=True,
    help="Level for features that do not say (property 'level').",
)
@click.option("--parent", default=None, help="Parent code for features that do not say.")
@click.option("--source", default=None, help="Provenance to record (default: the file name).")
@click.option("--commit", is_flag=True, help="Write the changes. Without it, only report them (dry run).")
def import_boundaries(file: Path, level: str, parent: str | None, source: str | None, commit: bool) -> None:
    """Import a GeoJSON FeatureCollection of (Multi)Polygons in WGS-84 lon/lat.

    Dry run unless --commit. Invalid geometry is repaired (make_valid) and reported; a file that cannot
    be imported exits non-zero and writes nothing. Changed areas get a new version, never an overwrite.
    """
    try:
        collection = read_boundary_file(file)
        total = len(collection["features"])
        with click.progressbar(length=total, label=f"validating {total} features", file=sys.stderr) as bar:
            features = parse_features(
                collection, default_level=level, default_parent=parent, progress=bar.update
            )
    except BoundaryFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc

    settings = get_settings(current_app)
    with session_scope(get_sessionmaker()) as session:
        plan = services.plan_import(session, features)
        for line in plan.summary():
            click.echo(line)
        if not commit:
            session.rollback()
            click.echo("dry run: nothing written (add --commit to write)")
            return
        generation = services.apply_import(
            session,
            plan,
            source=source or file.name,
            description=f"import {file.name}",
            snap_m=settings.border_snap_m,
        )
    if generation is None:
        click.echo("nothing changed: no new boundary generation")
    else:
        click.echo(f"committed as boundary generation {generation.id}")


@boundaries_cli.command("list")
@click.option("--level", type=click.Choice(LEVELS), default=None)
def list_boundaries(level: str | None) -> None:
    """List the areas in force."""
    with session_scope(get_sessionmaker()) as session:
        for area in services.current_areas(session, level=level):
            flag = "member" if area.member else ""
            click.echo(
                f"{area.code}\t{area.name_zh}\t{area.name_en or ''}\t{area.level}\tv{area.version}\t{flag}"
            )


@click.command("boundaries")
def seed_boundaries() -> None:
    """Load the shipped Shanghai district boundaries (idempotent)."""
    settings = get_settings(current_app)
    with session_scope(get_sessionmaker()) as session:
        plan, generation = services.seed_shipped_boundaries(session, snap_m=settings.border_snap_m)
        borders = len(services.list_shared_borders(session, members_only=False))
    click.echo(plan.summary()[0])
    if generation is None:
        click.echo("boundaries already up to date")
    else:
        click.echo(f"loaded as boundary generation {generation.id}; {borders} shared district borders")
