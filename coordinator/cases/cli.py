"""`flask reports import FILE`: hotline exports (CSV / JSON lines) through the one intake core."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path
from typing import Literal

import click
from flask import current_app
from flask.cli import AppGroup

from coordinator.auth import services as auth
from coordinator.auth.models import User
from coordinator.cases import bulk
from coordinator.cases.models import REPORT_SOURCES
from coordinator.dialects import begin_write
from coordinator.errors import ApiError
from coordinator.extensions import get_sessionmaker
from coordinator.geolocation.services import LocatorCache
from coordinator.worktime.services import load_calendar
from geo.crs import SUPPORTED_CRS

reports_cli = AppGroup("reports", help="Reports: bulk import of hotline exports.")


def _write_rejected(path: Path, rejected: list[bulk.RowResult]) -> None:
    # UTF-8 with BOM so Excel (as used in China) opens the Chinese reasons correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "external_id", "reason"])
        for r in rejected:
            writer.writerow([r.line, r.external_id, r.reason])


@reports_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: by suffix."
)
@click.option("--crs", type=click.Choice(SUPPORTED_CRS), default="wgs84", show_default=True, help="Rows "
              "without a crs column value are in this CRS.")  # fmt: skip
@click.option("--source", type=click.Choice(REPORT_SOURCES), default="hotline_12345", show_default=True)
@click.option("--submitter", default=None, help="Username recorded as the submitter of every report.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write rejected rows (row, external_id, reason) here as CSV (UTF-8 with BOM).",
)
@click.option("--encoding", default="utf-8-sig", show_default=True, help="e.g. gb18030 for old exports.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Rows per transaction (each row has its own savepoint).")  # fmt: skip
def import_reports(
    file: Path,
    fmt: Literal["csv", "jsonl"] | None,
    crs: str,
    source: str,
    submitter: str | None,
    report_path: Path | None,
    encoding: str,
    batch_size: int,
) -> None:
    """Import reports from FILE (columns/keys: external_id, category, lon, lat, crs, description,
    observed_at, reporter_name, reporter_phone). Each row runs in its own savepoint: bad rows are
    rejected with a reason, good rows are imported, and re-running the file creates nothing twice.
    Exits 1 when any row was rejected (the good rows are imported all the same)."""
    fmt = fmt or ("jsonl" if file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    try:
        rows = bulk.read_rows(file, fmt, encoding=encoding)
    except (ApiError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {getattr(exc, 'message', exc)}") from exc

    factory = get_sessionmaker()
    cache: LocatorCache = current_app.extensions["coordinator.locator_cache"]
    locator = cache.get(factory)  # built before any transaction holds the write lock
    with factory() as reader:
        calendar = load_calendar(reader)
    results: list[bulk.RowResult] = []
    session = factory()
    try:
        begin_write(session)
        user: User | None = None
        if submitter is not None:
            try:
                user = auth.get_user(session, submitter)
            except ApiError as exc:
                raise click.ClickException(exc.message) from exc
        with click.progressbar(rows, label=f"importing {len(rows)} rows", file=sys.stderr) as bar:
            for index, raw in enumerate(bar, start=1):
                begin_write(session)
                results.append(
                    bulk.import_row(
                        session,
                        locator,
                        raw,
                        source=source,
                        default_crs=crs,
                        submitter=user,
                        calendar=calendar,
                    )
                )
                if index % batch_size == 0:
                    session.commit()  # bounded transactions: locks are held for one batch at most
        session.commit()
    finally:
        session.rollback()
        session.close()

    rejected = [r for r in results if r.outcome == "rejected"]
    for r in rejected:
        click.echo(f"rejected row {r.line} (external_id {r.external_id or '-'}): {r.reason}", err=True)
    if report_path is not None:
        _write_rejected(report_path, rejected)
    counts = Counter(r.outcome for r in results)
    click.echo(
        f"{len(results)} rows: {counts['new']} new cases, {counts['merged']} merged into existing cases, "
        f"{counts['already']} already imported, {counts['rejected']} rejected"
        + (f" (see {report_path})" if report_path is not None and rejected else "")
    )
    if rejected:
        sys.exit(1)
