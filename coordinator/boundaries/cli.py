"""`flask boundaries import|list` and `flask seed boundaries`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from coordinator.boundaries import services
from coordinator.db import session_scope
from coordinator.errors import ApiError
from coordinator.extensions import get_sessionmaker
from coordinator.settings import get_settings
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

    settings = get_settings()
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
            zone_width_m=settings.border_zone_width_m,
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


@boundaries_cli.command("zones")
@click.option("--pair", nargs=2, default=None, metavar="CODE CODE", help="Member pair to configure.")
@click.option("--width", type=float, default=None, help="New zone width in metres for --pair.")
def border_zones(pair: tuple[str, str] | None, width: float | None) -> None:
    """List the border zones in force, or set the width of one pair's zone (and rebuild it)."""
    settings = get_settings()
    if (pair is None) != (width is None):
        raise click.UsageError("--pair and --width go together")
    try:
        with session_scope(get_sessionmaker()) as session:
            if pair is not None and width is not None:
                services.set_zone_width(
                    session, pair[0], pair[1], width, default_width_m=settings.border_zone_width_m
                )
            for zone in services.current_border_zones(session):
                click.echo(
                    f"{zone.code_a}-{zone.code_b}\twidth {zone.width_m:g} m\t"
                    f"area {zone.area_m2 / 1e6:.2f} km²\tgeneration {zone.generation_id}"
                )
    except ApiError as exc:
        raise click.ClickException(exc.message) from exc


@click.command("boundaries")
def seed_boundaries() -> None:
    """Load the shipped Shanghai district boundaries (idempotent)."""
    settings = get_settings()
    with session_scope(get_sessionmaker()) as session:
        plan, generation = services.seed_shipped_boundaries(
            session, snap_m=settings.border_snap_m, zone_width_m=settings.border_zone_width_m
        )
        borders = len(services.list_shared_borders(session, members_only=False))
    click.echo(plan.summary()[0])
    if generation is None:
        click.echo("boundaries already up to date")
    else:
        click.echo(f"loaded as boundary generation {generation.id}; {borders} shared district borders")
