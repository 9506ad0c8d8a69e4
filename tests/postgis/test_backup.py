"""The backup and restore drill: scripts/backup.sh (pg_dump) of the test database, scripts/restore.sh
into a new database, then the same tables with the same row counts, and a case with its geometry."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import PROJECT_ROOT
from tests.postgis.conftest import gunicorn


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names(schema="public")
            return {t: conn.execute(text(f'SELECT count(*) FROM public."{t}"')).scalar_one() for t in tables}
    finally:
        engine.dispose()


@pytest.fixture
def scratch_url(database_url: str) -> Iterator[str]:
    url = make_url(database_url)
    name = f"{url.database}_restore_{int(time.time())}"
    yield url.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restores_into_a_new_database_with_every_row(
    database_url: str, scratch_url: str, reporter: str, tmp_path: Path
) -> None:
    with gunicorn(database_url, tmp_path, workers=1) as (base, _):
        body = {"category": "05-51", "lon": 121.4712, "lat": 30.9031, "description": "备份演练"}
        posted = requests.post(
            base + "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {reporter}"}, timeout=30
        )
        assert posted.status_code == 201, posted.text
    case_number = posted.json()["case_number"]
    backup = subprocess.run(
        ["scripts/backup.sh", database_url, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    archive = backup.stdout.strip().splitlines()[-1]
    assert Path(archive).stat().st_size > 0
    subprocess.run(
        ["scripts/restore.sh", archive, scratch_url], cwd=PROJECT_ROOT, capture_output=True, check=True
    )
    source, restored = counts(database_url), counts(scratch_url)
    assert restored == source
    assert source["case_file"] >= 1 and source["admin_area"] > 0
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT ST_AsText(geom), status FROM case_file WHERE number = :n"), {"n": case_number}
        ).one()
        assert row[0].startswith("POINT(121.47") and row[1] == "routed"
        assert conn.execute(text("SELECT count(*) FROM case_event_purge")).scalar_one() == 0
    engine.dispose()
    refused = subprocess.run(
        ["scripts/restore.sh", archive, scratch_url], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 1 and "exists" in refused.stderr  # never over an existing database
