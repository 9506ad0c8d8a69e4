"""`flask reports import`: good rows import, bad rows are reported with their reason, nothing is
half-written, and re-running the same file creates nothing twice."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases import intake
from coordinator.cases.models import Case, Report
from geo.crs import from_wgs84
from tests.cases.conftest import offset, zone_point
from tests.factories import make_user

FENGXIAN, JINSHAN = "310120", "310116"
HEADER = "external_id,category,lon,lat,crs,description,observed_at,reporter_name,reporter_phone\n"


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def hotline_reports(session: Session) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.source == "hotline_12345").order_by(Report.id)))


@pytest.fixture
def points(session: Session) -> dict[str, tuple[float, float]]:
    a = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    b = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN, depth_m=300)
    return {"a": a, "a_near": offset(*a, 30, 40), "b": b}


@pytest.fixture
def csv_file(tmp_path: Path, points: dict[str, tuple[float, float]]) -> Path:
    a, near, b = points["a"], points["a_near"], points["b"]
    glon, glat = (float(v) for v in from_wgs84(b[0], b[1], "gcj02"))
    lines = [
        f"H-1,01-11,{a[0]:.7f},{a[1]:.7f},,沟渠边建筑垃圾,2026-11-20 08:30,张三,13800001234",  # new
        f"H-2,01-11,{near[0]:.7f},{near[1]:.7f},wgs84,同一堆垃圾,2026/11/20 09:10,,",  # merges into H-1
        f"H-3,01-10,{glon:.7f},{glat:.7f},gcj02,高德坐标,2026-11-20T10:00:00+08:00,,",  # new, converted
        f"H-4,99-99,{a[0]:.7f},{a[1]:.7f},,未知类别,,,",  # unknown category
        f"H-5,01-11,东经121度,{a[1]:.7f},,坐标不是数字,,,",  # lon not a number
        f",01-11,{a[0]:.7f},{a[1]:.7f},,没有编号,,,",  # no external_id
        f"H-7,01-11,{a[1]:.7f},{a[0]:.7f},,经纬度颠倒,,,",  # swapped
        f"H-8,01-11,{a[0]:.7f},{a[1]:.7f},,,昨天上午,,",  # bad observed_at
        f"H-9,01-11,{a[0]:.7f},{a[1]:.7f},,,,李四,not-a-phone",  # bad phone
        f"H-1,01-01,{b[0]:.7f},{b[1]:.7f},,同一编号另一件事,,,",  # external_id reused for another report
        f"H-11,01-11,{a[0]:.7f},{a[1]:.7f},mercator,,,,",  # unknown crs
    ]
    path = tmp_path / "hotline.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def read_rejected(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_good_rows_import_and_bad_rows_are_reported(
    cli: FlaskCliRunner, session: Session, csv_file: Path, tmp_path: Path
) -> None:
    cases_before = count(session, Case)
    rejected_csv = tmp_path / "rejected.csv"
    result = cli.invoke(args=["reports", "import", str(csv_file), "--report", str(rejected_csv)])
    assert result.exit_code == 1, result.output  # some rows were rejected
    summary = "11 rows: 2 new cases, 1 merged into existing cases, 0 already imported, 8 rejected"
    assert summary in result.output

    imported = hotline_reports(session)
    assert [r.external_id for r in imported] == ["H-1", "H-2", "H-3"]
    assert imported[0].case_id == imported[1].case_id and imported[1].merged
    assert imported[0].reporter_name == "张三"
    assert imported[0].observed_at.isoformat().startswith("2026-11-20")
    assert imported[0].observed_at.utcoffset() is not None
    assert imported[2].input_crs == "gcj02"
    assert count(session, Case) == cases_before + 2  # rejected rows left nothing behind

    rejected = {row["row"]: row for row in read_rejected(rejected_csv)}
    assert set(rejected) == {"5", "6", "7", "8", "9", "10", "11", "12"}  # file lines (header is line 1)
    assert "99-99" in rejected["5"]["reason"]
    assert rejected["6"]["reason"].startswith("lon")
    assert "external_id" in rejected["7"]["reason"]
    assert "swapped" in rejected["8"]["reason"]
    assert "observed_at" in rejected["9"]["reason"]
    assert "phone" in rejected["10"]["reason"]
    assert rejected["11"]["external_id"] == "H-1" and "already used" in rejected["11"]["reason"]
    assert "crs" in rejected["12"]["reason"]
    assert "rejected row 5 (external_id H-4)" in result.output


def test_rerunning_the_same_file_creates_nothing_twice(
    cli: FlaskCliRunner, session: Session, csv_file: Path
) -> None:
    cli.invoke(args=["reports", "import", str(csv_file)])
    reports, cases = count(session, Report), count(session, Case)
    again = cli.invoke(args=["reports", "import", str(csv_file)])
    summary = "11 rows: 0 new cases, 0 merged into existing cases, 3 already imported, 8 rejected"
    assert summary in again.output
    assert (count(session, Report), count(session, Case)) == (reports, cases)


def test_a_row_failing_midway_is_rolled_back_alone(
    cli: FlaskCliRunner, session: Session, tmp_path: Path, points: dict[str, tuple[float, float]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    original = intake.plan_case

    def plan_a_missing_partner(*args: Any, **kwargs: Any) -> intake.CasePlan:
        plan = original(*args, **kwargs)
        if plan.row["category_code"] != "01-01":
            return plan
        # The case row is written first; the partner row then breaks a foreign key (on PostgreSQL
        # inside the intake function, on SQLite as the next statement): the row fails midway.
        ghost = {"squad_id": 2_000_000_000, "reason": "no such squad", "added_at": plan.row["created_at"]}
        return replace(plan, partners=[*plan.partners, ghost])

    monkeypatch.setattr(intake, "plan_case", plan_a_missing_partner)
    a, b = points["a"], points["b"]
    rows = [
        {"external_id": "J-1", "category": "01-01", "lon": a[0], "lat": a[1]},
        {"external_id": "J-2", "category": "01-10", "lon": b[0], "lat": b[1], "observed_at": "2026-11-21"},
    ]
    path = tmp_path / "hotline.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{not json\n[1, 2]\n")
    cases_before = count(session, Case)
    result = cli.invoke(args=["reports", "import", str(path), "--batch-size", "1"])
    summary = "4 rows: 1 new cases, 0 merged into existing cases, 0 already imported, 3 rejected"
    assert summary in result.output
    assert "rejected row 1 (external_id J-1): database refused the row" in result.output
    assert "rejected row 3" in result.output and "not valid JSON" in result.output
    assert "rejected row 4" in result.output and "JSON object" in result.output
    assert count(session, Case) == cases_before + 1
    assert [r.external_id for r in hotline_reports(session)] == ["J-2"]


def test_submitter_and_source_options(
    cli: FlaskCliRunner, session: Session, tmp_path: Path, points: dict[str, tuple[float, float]]
) -> None:
    user = make_user(session, "dispatcher", district=FENGXIAN)
    session.commit()
    a = points["a"]
    path = tmp_path / "patrol.csv"
    path.write_text(HEADER + f"P-1,01-10,{a[0]},{a[1]},,,,,\n", encoding="utf-8")
    result = cli.invoke(
        args=["reports", "import", str(path), "--source", "patrol", "--submitter", user.username]
    )
    assert result.exit_code == 0, result.output
    # with a submitter, the file's ids are that submitter's (retry identities are per submitter)
    report = session.scalars(select(Report).where(Report.external_id == f"{user.id}:P-1")).one()
    assert report.source == "patrol" and report.submitted_by_id == user.id

    unknown = cli.invoke(args=["reports", "import", str(path), "--submitter", "nobody_here"])
    assert unknown.exit_code != 0 and "nobody_here" in unknown.output


def test_a_file_without_the_required_columns_writes_nothing(
    cli: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,type,x,y\n1,01-11,121.4,30.9\n", encoding="utf-8")
    before = count(session, Report)
    result = cli.invoke(args=["reports", "import", str(path)])
    assert result.exit_code != 0
    assert "external_id" in result.output and "category" in result.output
    assert count(session, Report) == before


def test_a_row_with_a_nul_character_is_rejected_not_fatal(
    cli: FlaskCliRunner, session: Session, tmp_path: Path, points: dict[str, tuple[float, float]]
) -> None:
    a, b = points["a"], points["b"]
    rows = [
        {"external_id": "N-1", "category": "01-01", "lon": a[0], "lat": a[1], "description": "倾倒\x00垃圾"},
        {"external_id": "N-2", "category": "01-10", "lon": b[0], "lat": b[1]},
    ]
    path = tmp_path / "hotline.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    output = cli.invoke(args=["reports", "import", str(path)]).output
    assert "2 rows: 1 new cases, 0 merged into existing cases, 0 already imported, 1 rejected" in output
    assert "rejected row 1 (external_id N-1): description: must not contain the NUL character" in output
    assert [r.external_id for r in hotline_reports(session)] == ["N-2"]
