"""`flask geolocate csv`: every row answered or given an error, UTF-8 with BOM out."""

from __future__ import annotations

import csv
from pathlib import Path

from flask.testing import FlaskCliRunner


def test_csv_rows_are_located_and_bad_rows_explained(cli: FlaskCliRunner, tmp_path: Path) -> None:
    source = tmp_path / "hotline.csv"
    source.write_text(
        "id,lon,lat,备注\n1,121.44944,30.91611,南桥\n2,abc,31,坏\n3,30.91611,121.44944,反了\n4,122.9,30.6,海上\n",
        encoding="utf-8",
    )
    out = tmp_path / "located.csv"
    result = cli.invoke(args=["geolocate", "csv", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["district_code"] == "310120" and rows[0]["outcome"] == "member" and not rows[0]["error"]
    assert "not numbers" in rows[1]["error"]
    assert "swapped" in rows[2]["error"]
    assert rows[3]["outcome"] == "outside_coverage"
    assert rows[0]["备注"] == "南桥"
    assert "2 located, 2 with errors" in result.output


def test_missing_columns_are_named(cli: FlaskCliRunner, tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("x,y\n1,2\n", encoding="utf-8")
    result = cli.invoke(args=["geolocate", "csv", str(source)])
    assert result.exit_code != 0 and "no column(s) lon, lat" in result.output
