"""The committee's renovation counts: filings per district and local month by their state now, 城管 spot
checks by outcome (and the cases failed ones opened) — through the service and the API, on either
database (a filing half an hour into November, Shanghai time, is November's though it is October in UTC)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.community import renovation
from coordinator.community.models import FILING_STATES
from coordinator.review.renovation import renovation_review
from coordinator.review.schemas import FilingStateCounts, SpotCheckCounts
from coordinator.review.services import Period
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator
from tests.factories import bearer, make_token, make_user

FENGXIAN, JINSHAN = "310120", "310116"
POINTS = {FENGXIAN: (121.47, 30.85), JINSHAN: (121.25, 30.80)}
FIELDS: dict[str, Any] = {
    "building": "3",
    "unit": "2",
    "room": "501",
    "owner_name": "李四",
    "owner_phone": "13912345678",
    "contractor_name": "沪南装饰",
    "contractor_qualification": "二级",
    "planned_start": date(2026, 10, 1),
    "planned_end": date(2026, 12, 31),
    "waste_hauler": "环卫清运队",
    "waste_schedule": "每周二",
    "waste_destination": "消纳场",
}
PERIOD = Period(date(2026, 10, 1), date(2026, 11, 30))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def build(session: Session, locator: Locator) -> dict[str, User]:
    """In 奉贤: three filings in October (one left submitted, one returned, one accepted and spot-checked
    twice in November — passed, then failed, which opens a case), one filed 00:30 on 1 November and one
    filed in December (outside the period); a failed 物业巡查 (not a spot check). In 金山: one filing in
    November, accepted, with a passed spot check."""
    admin = make_user(session, "admin")
    people: dict[str, User] = {"admin": admin}
    filings: dict[str, list[int]] = {}
    for district, (lon, lat) in POINTS.items():
        pm = make_user(session, "property_manager")
        people[district] = pm
        compound = renovation.create_compound(
            session,
            locator,
            admin,
            name=f"小区{district}",
            address="某路 1 号",
            geometry={"type": "Point", "coordinates": [lon, lat]},
            managers=[pm.username],
        )
        assert compound.district_code == district
        filings[district] = []
        when = [
            "2026-10-03 09:00",
            "2026-10-15 10:00",
            "2026-10-31 23:30",
            "2026-11-01 00:30",
            "2026-12-02 08:00",
        ]
        for text in when if district == FENGXIAN else ["2026-11-20 14:00"]:
            filing = renovation.file_renovation(session, pm, compound.id, FIELDS, now=at(text))
            filings[district].append(filing.id)
    fx, js = filings[FENGXIAN], filings[JINSHAN]
    renovation.act(session, fx[1], admin, "return", reasons=["缺图纸"], now=at("2026-10-16 09:00"))
    renovation.act(session, fx[2], admin, "accept", now=at("2026-11-01 09:00"))
    renovation.act(session, js[0], admin, "accept", now=at("2026-11-21 09:00"))
    calendar = WorkCalendar()
    checks = [
        (fx[2], "spot_check", "pass", None, "2026-11-03 10:00"),
        (fx[2], "spot_check", "fail", "illegal_renovation", "2026-11-10 10:00"),
        (fx[2], "property_patrol", "fail", "illegal_construction", "2026-11-11 10:00"),
        (js[0], "spot_check", "pass", None, "2026-11-25 10:00"),
    ]
    for filing_id, kind, result, violation, text in checks:
        who = admin if kind == "spot_check" else people[FENGXIAN]
        renovation.inspect(
            session,
            locator,
            calendar,
            filing_id,
            who,
            kind=kind,
            result=result,
            notes="",
            violation=violation,
            now=at(text),
        )
    session.flush()
    return people


def counts(**given: int) -> dict[str, int]:
    return {"total": sum(given.values()), **dict.fromkeys(FILING_STATES, 0), **given}


NO_CHECKS = {"total": 0, "passed": 0, "failed": 0, "cases_opened": 0}


def test_filings_by_district_local_month_and_state_with_spot_check_outcomes(
    session: Session, locator: Locator
) -> None:
    build(session, locator)
    review = renovation_review(session, PERIOD)
    got = {(r.district, r.month): (r.counts.filings, r.counts.spot_checks) for r in review.rows}
    assert got == {
        (FENGXIAN, "2026-10"): (counts(submitted=1, returned=1, accepted=1), NO_CHECKS),
        (FENGXIAN, "2026-11"): (
            counts(submitted=1),  # 00:30 on 1 November in Shanghai (still October in UTC)
            {"total": 2, "passed": 1, "failed": 1, "cases_opened": 1},  # the 物业巡查 is not counted
        ),
        (JINSHAN, "2026-11"): (counts(accepted=1), {"total": 1, "passed": 1, "failed": 0, "cases_opened": 0}),
    }
    assert [(r.district, r.month) for r in review.rows] == sorted(got)
    assert review.total.filings == counts(submitted=2, returned=1, accepted=2)
    assert review.total.spot_checks == {"total": 3, "passed": 2, "failed": 1, "cases_opened": 1}

    only = renovation_review(session, PERIOD, districts={JINSHAN})
    assert [(r.district, r.month) for r in only.rows] == [(JINSHAN, "2026-11")] and only.districts == [
        JINSHAN
    ]
    october = renovation_review(session, Period.month(2026, 10))
    assert [(r.district, r.month) for r in october.rows] == [(FENGXIAN, "2026-10")]
    assert renovation_review(session, Period.month(2026, 9)).rows == []


def test_the_count_models_name_every_filing_state() -> None:
    assert list(FilingStateCounts.model_fields) == ["total", *FILING_STATES]
    assert list(SpotCheckCounts.model_fields) == ["total", "passed", "failed", "cases_opened"]


def test_committee_reads_the_renovation_counts_by_api(
    client: FlaskClient, session: Session, locator: Locator
) -> None:
    people = build(session, locator)
    committee = bearer(make_token(session, make_user(session, "committee")))
    pm = bearer(make_token(session, people[FENGXIAN]))
    session.commit()
    answer = client.get("/api/v1/review/renovation?from=2026-10-01&to=2026-11-30", headers=committee)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["period"]["from"] == "2026-10-01" and body["districts"] is None
    rows = {(r["label"], r["month"]): r for r in body["rows"]}
    assert set(rows) == {("奉贤区", "2026-10"), ("奉贤区", "2026-11"), ("金山区", "2026-11")}
    assert rows[("奉贤区", "2026-10")]["filings"] == counts(submitted=1, returned=1, accepted=1)
    assert rows[("奉贤区", "2026-11")]["spot_checks"]["cases_opened"] == 1
    assert body["total"]["spot_checks"] == {"total": 3, "passed": 2, "failed": 1, "cases_opened": 1}
    assert "李四" not in answer.get_data(as_text=True) and "13912345678" not in answer.get_data(as_text=True)

    pair = client.get(
        "/api/v1/review/renovation?month=2026-11&border_pair=310120-310116&district=310116", headers=committee
    ).get_json()
    assert pair["districts"] == [JINSHAN] and [r["district"] for r in pair["rows"]] == [JINSHAN]
    assert client.get("/api/v1/review/renovation?border_pair=310120", headers=committee).status_code == 422
    assert client.get("/api/v1/review/renovation?month=2026-11", headers=pm).status_code == 403
