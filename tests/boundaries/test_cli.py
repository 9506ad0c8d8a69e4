"""`flask boundaries import`: dry run by default, clear errors for bad files, nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries.models import AdminArea, BoundaryGeneration
from geo.boundaries import shipped_districts_path

Write = Callable[..., Path]

TOWN = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            # Not a real town code: the demo territory holds every real one (importing those adds versions).
            "properties": {"code": "310120900", "name": "测试镇", "name_en": "Test town"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[121.45, 30.82], [121.48, 30.82], [121.48, 30.85], [121.45, 30.85], [121.45, 30.82]]
                ],
            },
        }
    ],
}


def counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(AdminArea)) or 0,
        session.scalar(select(func.count()).select_from(BoundaryGeneration)) or 0,
    )


def test_dry_run_reports_and_writes_nothing(
    cli: FlaskCliRunner, session: Session, write_geojson: Write
) -> None:
    before = counts(session)
    result = cli.invoke(
        args=["boundaries", "import", str(write_geojson(json.dumps(TOWN))), "--level", "town"]
    )
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output and "dry run" in result.output
    assert counts(session) == before


def test_commit_writes_a_new_generation_and_is_idempotent(
    cli: FlaskCliRunner, session: Session, write_geojson: Write
) -> None:
    areas, generations = counts(session)
    path = str(write_geojson(json.dumps(TOWN)))
    result = cli.invoke(args=["boundaries", "import", path, "--level", "town", "--commit"])
    assert result.exit_code == 0, result.output
    assert "committed as boundary generation" in result.output
    assert counts(session) == (areas + 1, generations + 1)
    town = session.scalars(select(AdminArea).where(AdminArea.code == "310120900")).one()
    assert (town.level, town.parent_code, town.name_zh) == ("town", "310120", "测试镇")

    again = cli.invoke(args=["boundaries", "import", path, "--level", "town", "--commit"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert counts(session) == (areas + 1, generations + 1)


def _truncated() -> str:
    return shipped_districts_path().read_text(encoding="utf-8")[:5000]


def _projected() -> str:
    ring = [[350000, 3420000], [351000, 3420000], [351000, 3421000], [350000, 3421000], [350000, 3420000]]
    doc = json.loads(json.dumps(TOWN))
    doc["features"][0]["geometry"]["coordinates"] = [ring]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_truncated(), "truncated"),
        ("", "empty"),
        ('{"name": "not geojson", "rows": [1, 2]}', "not a GeoJSON FeatureCollection"),
        (_projected(), "projected"),
    ],
    ids=["truncated", "empty", "not-geojson", "projected-metres"],
)
def test_bad_files_exit_non_zero_and_change_nothing(
    cli: FlaskCliRunner, session: Session, write_geojson: Write, content: str, expected: str
) -> None:
    before = counts(session)
    result = cli.invoke(args=["boundaries", "import", str(write_geojson(content)), "--commit"])
    assert result.exit_code != 0
    assert expected in result.output
    assert counts(session) == before


def test_self_intersecting_polygon_is_repaired_and_reported(
    cli: FlaskCliRunner, session: Session, write_geojson: Write
) -> None:
    doc = json.loads(json.dumps(TOWN))
    doc["features"][0]["geometry"]["coordinates"] = [
        [[121.45, 30.82], [121.48, 30.85], [121.48, 30.82], [121.45, 30.85], [121.45, 30.82]]
    ]
    result = cli.invoke(
        args=["boundaries", "import", str(write_geojson(json.dumps(doc))), "--level", "town", "--commit"]
    )
    assert result.exit_code == 0, result.output
    assert "repaired invalid geometry" in result.output and "Self-intersection" in result.output
    town = session.scalars(select(AdminArea).where(AdminArea.code == "310120900")).one()
    assert town.geom is not None


def test_missing_file_is_a_clear_error(cli: FlaskCliRunner, tmp_path: Path) -> None:
    result = cli.invoke(args=["boundaries", "import", str(tmp_path / "nope.geojson")])
    assert result.exit_code != 0
    assert "cannot read" in result.output
