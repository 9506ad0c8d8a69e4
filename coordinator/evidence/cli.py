"""`flask --app wsgi evidence …`: housekeeping of the evidence blob store."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from coordinator.db import session_scope, utcnow

evidence_cli = AppGroup("evidence", help="Evidence files (photos, documents) and their blob store.")


@evidence_cli.command("prune")
@click.option(
    "--min-age-hours",
    type=click.FloatRange(min=1),
    default=24.0,
    show_default=True,
    help="Only blobs written longer ago than this (younger ones may belong to a running request).",
)
def prune(min_age_hours: float) -> None:
    """Delete blobs no evidence row names (left by requests whose transaction rolled back)."""
    from coordinator.evidence.services import prune_blobs
    from coordinator.extensions import get_sessionmaker
    from coordinator.settings import evidence_store

    with session_scope(get_sessionmaker()) as session:
        removed = prune_blobs(session, evidence_store(), now=utcnow(), min_age=timedelta(hours=min_age_hours))
    click.echo(f"removed {removed} unreferenced blob(s)")
