"""`flask squads list|import`."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.squads.models import Squad
from tests.factories import make_area


def test_list_marks_approximate_jurisdictions_and_reports_coverage(
    cli: FlaskCliRunner, demo_territory: Session
) -> None:
    result = cli.invoke(args=["squads", "list", "--district", "310116"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("SQ-310116")]
    assert len(rows) == 10 and all("[近似 approximate]" in row for row in rows)
    assert "coverage 310116: 0.0 m² in no jurisdiction, 0.0 m² in two" in result.output


def test_import_then_dry_run(cli: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    area = make_area(session)
    session.commit()
    path = tmp_path / "squads.json"
    path.write_text(
        json.dumps(
            [{"code": "SQ-CLI", "name_zh": "测试中队", "district": "310120", "jurisdiction": area.code}]
        ),
        encoding="utf-8",
    )
    dry = cli.invoke(args=["squads", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "1 new" in dry.output and "nothing written" in dry.output
    assert session.scalar(select(func.count(Squad.id)).where(Squad.code == "SQ-CLI")) == 0
    done = cli.invoke(args=["squads", "import", str(path)])
    assert done.exit_code == 0 and "imported" in done.output
    assert session.scalar(select(func.count(Squad.id)).where(Squad.code == "SQ-CLI")) == 1


def test_import_of_a_broken_file_fails_clearly(cli: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"code": "SQ-X", "name_zh": "x", "district": "310120"', encoding="utf-8")
    result = cli.invoke(args=["squads", "import", str(path)])
    assert result.exit_code != 0 and "not valid JSON" in result.output
