"""Review API: last month's review equals the recount, exports keep Chinese and carry no reporter data,
streams and size limits, the report page (hotspots and patrol coverage: tests/review/test_sections.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator.cases import intake
from coordinator.review import exports
from coordinator.review.services import Period
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator
from tests.factories import bearer, make_token, make_user
from tests.review.conftest import KEYS, build_caseload, recount

PHONE = "13912345678"
NAME = "王小明"


@pytest.fixture
def committee(session: Session) -> dict[str, str]:
    return bearer(make_token(session, make_user(session, "committee")))


def test_last_month_by_border_pair_via_the_api_equals_a_recount(
    client: FlaskClient, session: Session, locator: Locator, committee: dict[str, str]
) -> None:
    load = build_caseload(session, locator, datetime.now(SHANGHAI), reports=120)
    session.commit()
    response = client.get("/api/v1/review/summary", headers=committee)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    now = datetime.fromisoformat(body["generated_at"])
    period = Period.last_month(now)
    assert body["period"] == {"from": str(period.first), "to": str(period.last), "label": period.label()}
    expected = recount(session, period, now, KEYS["border_pair"], load.cases)
    got = {row["key"]: row["figures"] for row in body["rows"]}
    assert set(got) == set(expected) and got
    for key, figures in expected.items():
        for name, value in figures.items():
            assert got[key][name] == value, (key, name)
    labels = {row["key"]: row["label"] for row in body["rows"]}
    assert labels.get(None, "非交界地带") == "非交界地带" and any("–" in v for v in labels.values())
    assert body["hotspots"]["available"] is True and body["patrol_coverage"]["available"] is True


def _report_with_contact(session: Session, locator: Locator, when: datetime) -> str:
    result = intake.submit_report(
        session,
        locator,
        intake.ReportInput(
            category="01-11",
            lon=121.368,
            lat=30.89,
            description=f"沟渠边建筑垃圾，联系人{NAME} {PHONE}",
            reporter_name=NAME,
            reporter_phone=PHONE,
        ),
        submitter=None,
        calendar=WorkCalendar(),
        now=when,
    )
    return result.case_facts.number


def test_csv_xlsx_and_geojson_keep_chinese_and_carry_no_reporter_data(
    client: FlaskClient, session: Session, locator: Locator, committee: dict[str, str]
) -> None:
    when = datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI)
    number = _report_with_contact(session, locator, when)
    session.commit()
    query = "from=2026-10-01&to=2026-10-31"

    response = client.get(f"/api/v1/review/cases/export?{query}&format=csv", headers=committee)
    # Streamed: sent as it is produced, so the length was not known up front.
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [title for _, title in exports.CASE_COLUMNS] and rows[0][0] == "案卷编号"
    mine = next(r for r in rows if r[0] == number)
    assert "积存垃圾渣土" in mine[3] or mine[3]  # Chinese category name survives
    assert "金山区–奉贤区" in text or "交界" in text
    assert PHONE not in text and NAME not in text

    response = client.get(f"/api/v1/review/cases/export?{query}&format=xlsx", headers=committee)
    assert response.status_code == 200 and response.mimetype == exports.XLSX_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = book.worksheets[0]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == rows[0]  # the same columns and headers as the CSV
    assert any(r[0] == number for r in cells[1:])
    flat = json.dumps(cells, ensure_ascii=False, default=str)
    assert PHONE not in flat and NAME not in flat and "已派遣" in flat

    response = client.get(f"/api/v1/review/cases/export?{query}&format=geojson", headers=committee)
    assert response.mimetype == "application/geo+json"
    collection = json.loads(response.get_data())
    assert collection["type"] == "FeatureCollection"
    feature = next(f for f in collection["features"] if f["id"] == number)
    assert feature["geometry"]["type"] == "Point" and feature["properties"]["number"] == number
    assert PHONE not in response.get_data(as_text=True) and NAME not in response.get_data(as_text=True)


def test_summary_export_has_the_same_columns_in_csv_and_xlsx(
    client: FlaskClient, session: Session, locator: Locator, committee: dict[str, str]
) -> None:
    _report_with_contact(session, locator, datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI))
    session.commit()
    query = "month=2026-10&group_by=district"
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/api/v1/review/summary/export?{query}", headers=committee)
                .get_data()
                .decode("utf-8-sig")
            )
        )
    )
    xlsx = client.get(f"/api/v1/review/summary/export?{query}&format=xlsx", headers=committee).get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
    xlsx_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert csv_rows[0] == xlsx_rows[0] and csv_rows[0][:2] == ["区", "新立案件"]
    assert csv_rows[-1][0] == "合计" == xlsx_rows[-1][0]
    assert "奉贤区" in {r[0] for r in csv_rows}


def test_an_export_past_the_limit_is_refused_before_anything_is_sent(
    client: FlaskClient,
    session: Session,
    locator: Locator,
    committee: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _report_with_contact(session, locator, datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI))
    _report_with_contact(session, locator, datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI) + timedelta(days=3))
    session.commit()
    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 1)
    response = client.get("/api/v1/review/cases/export?month=2026-10", headers=committee)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "export_too_large"
    assert response.get_json()["error"]["details"]["limit"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "from=2026-10-05",
        "from=2026-10-05&to=2026-10-01",
        "border_pair=310120",
        "group_by=town",
    ],
)
def test_bad_periods_and_groupings_are_422(
    client: FlaskClient, committee: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/v1/review/summary?{query}", headers=committee)
    assert response.status_code == 422
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_the_report_page_is_printable_html_for_a_pair(
    client: FlaskClient, session: Session, locator: Locator, committee: dict[str, str]
) -> None:
    _report_with_contact(session, locator, datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI))
    session.commit()
    response = client.get("/api/v1/review/report?month=2026-10&border_pair=310120-310116", headers=committee)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "@page" in html and "A4" in html and "金山区–奉贤区" in html
    assert "按交界区对" in html and "合计" in html
    assert PHONE not in html and NAME not in html
