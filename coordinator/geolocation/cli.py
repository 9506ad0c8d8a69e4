"""`flask geolocate csv FILE`: locate every row of a CSV file (hotline exports, analytics)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, TextIO

import click
from flask.cli import AppGroup

from coordinator.errors import ApiError
from coordinator.extensions import get_sessionmaker
from coordinator.geolocation.services import LocatorCache, check_and_locate, location_payload
from coordinator.settings import get_settings
from geo.crs import SUPPORTED_CRS

geolocate_cli = AppGroup("geolocate", help="Locate points from files.")

OUTPUT_COLUMNS = [
    "outcome",
    "district_code",
    "district_name",
    "in_border_zone",
    "border_pair",
    "border_distance_m",
    "nearest_other_district",
    "wgs84_lon",
    "wgs84_lat",
    "error",
]


def _row_result(payload: dict[str, Any]) -> dict[str, Any]:
    district = payload["district"] or {}
    nearest = payload["nearest_other_district"] or {}
    return {
        "outcome": payload["outcome"],
        "district_code": district.get("code", ""),
        "district_name": district.get("name", ""),
        "in_border_zone": "1" if payload["in_border_zone"] else "0",
        "border_pair": "-".join(payload["border_pair"] or []),
        "border_distance_m": "" if payload["border_distance_m"] is None else payload["border_distance_m"],
        "nearest_other_district": nearest.get("code", ""),
        "wgs84_lon": payload["wgs84"][0],
        "wgs84_lat": payload["wgs84"][1],
        "error": "",
    }


@geolocate_cli.command("csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here (default: standard output). UTF-8 with BOM, so Excel opens it.",
)
@click.option("--crs", type=click.Choice(SUPPORTED_CRS), default="wgs84", show_default=True)
@click.option("--lon-column", default="lon", show_default=True)
@click.option("--lat-column", default="lat", show_default=True)
def geolocate_csv(file: Path, output: Path | None, crs: str, lon_column: str, lat_column: str) -> None:
    """Add location columns to every row of FILE; rows that cannot be located get an `error`."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    missing = [c for c in (lon_column, lat_column) if c not in fields]
    if missing:
        raise click.ClickException(
            f"{file}: no column(s) {', '.join(missing)}; columns are {', '.join(fields)}"
        )

    settings = get_settings()
    locator = LocatorCache(cell_deg=settings.locator_cell_deg).get(get_sessionmaker())
    errors = 0
    out: TextIO = output.open("w", encoding="utf-8-sig", newline="") if output else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=fields + [c for c in OUTPUT_COLUMNS if c not in fields])
        writer.writeheader()
        with click.progressbar(rows, label=f"locating {len(rows)} rows", file=sys.stderr) as bar:
            for row in bar:
                try:
                    lon, lat = float(row[lon_column]), float(row[lat_column])
                    result = _row_result(location_payload(check_and_locate(locator, lon, lat, crs)))
                except (TypeError, ValueError):
                    result = {"error": f"{lon_column}/{lat_column} are not numbers"}
                except ApiError as exc:
                    result = {"error": exc.message}
                errors += bool(result.get("error"))
                writer.writerow({**row, **result})
    finally:
        if output:
            out.close()
    click.echo(f"{len(rows) - errors} located, {errors} with errors", err=True)
