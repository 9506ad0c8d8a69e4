"""Report intake (POST /api/v1/reports and `submit_report`): routing to squads, dedup into open cases,
CRS, idempotency, errors, and exactly what a report stores."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases import intake
from coordinator.cases.models import Case, CaseEvent, CasePartner, Category, Report
from coordinator.geolocation.services import LocatorCache
from coordinator.notifications.models import OutboxMessage
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.crs import from_wgs84
from geo.locator import Locator
from tests.cases.conftest import PostReport, offset, zone_point
from tests.factories import bearer, make_token, make_user

FENGXIAN, JINSHAN = "310120", "310116"


def squad_district(session: Session, code: str) -> str:
    return session.scalars(select(Squad.district_code).where(Squad.code == code)).one()


def test_border_report_opens_a_joint_case_and_a_nearby_one_merges(
    client: FlaskClient, session: Session, post_report: PostReport, reporter_token: str
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    first = post_report(lon=lon, lat=lat)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["merged"] is False
    assert body["case_number"].startswith(f"JJ-{datetime.now(SHANGHAI).year}-")
    routing = body["routing"]
    assert routing["rule"] == "member-border-zone"
    assert routing["lead"]["district"] == FENGXIAN
    assert [p["district"] for p in routing["partners"]] == [JINSHAN]
    assert routing["inputs"]["location"]["in_border_zone"] is True

    near = offset(lon, lat, 30, 40)  # 50 m away
    second = post_report(lon=near[0], lat=near[1], source="citizen")
    assert second.status_code == 201
    assert second.get_json()["merged"] is True
    assert second.get_json()["case_id"] == body["case_id"]

    case = client.get(f"/api/v1/cases/{body['case_id']}", headers=bearer(staff_token(session))).get_json()
    assert case["report_count"] == 2 and len(case["reports"]) == 2
    assert case["lead_squad"]["district"] == FENGXIAN
    assert [p["district"] for p in case["partner_squads"]] == [JINSHAN]
    assert case["in_border_zone"] is True and case["border_pair"] == [JINSHAN, FENGXIAN]
    assert [e["kind"] for e in case["events"]] == ["reported", "routed", "report_merged"]


def test_report_in_zhelin_near_jinshan_gets_caojing_as_partner(post_report: PostReport) -> None:
    # 121.435, 30.818 lies in 柘林 (奉贤) ~150 m from 金山; 漕泾 is the nearest 金山 squad across.
    response = post_report(lon=121.435, lat=30.818)
    assert response.status_code == 201, response.get_json()
    routing = response.get_json()["routing"]
    assert routing["rule"] == "member-border-zone"
    assert (routing["lead"]["code"], routing["lead"]["name"]) == ("SQ-310120118", "柘林中队")
    assert [(p["code"], p["name"]) for p in routing["partners"]] == [("SQ-310116112", "漕泾中队")]


def staff_token(session: Session) -> str:
    token = make_token(session, make_user(session, "dispatcher", district=FENGXIAN))
    session.commit()
    return token


def test_an_hour_later_merges_but_after_the_window_a_new_case_opens(
    session: Session, locator_cache: LocatorCache
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN)
    locator = locator_cache.get(lambda: session)
    calendar = WorkCalendar()
    t0 = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    first = intake.submit_report(
        session, locator, intake.ReportInput("01-10", lon, lat), submitter=None, calendar=calendar, now=t0
    )
    assert first.case.lead_squad_id is not None
    lead = session.get(Squad, first.case.lead_squad_id)
    assert lead is not None and lead.district_code == JINSHAN
    near = offset(lon, lat, -30, 40)
    hour_later = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-10", *near),
        submitter=None,
        calendar=calendar,
        now=t0 + timedelta(hours=1),
    )
    assert hour_later.merged and hour_later.case.id == first.case.id
    # 01-10 暴露垃圾 dedups within 72 h of the case's last report
    much_later = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-10", *near),
        submitter=None,
        calendar=calendar,
        now=t0 + timedelta(hours=74),
    )
    assert not much_later.merged and much_later.case.id != first.case.id
    # another category at the same spot is another problem
    other = intake.submit_report(
        session, locator, intake.ReportInput("01-01", lon, lat), submitter=None, calendar=calendar, now=t0
    )
    assert not other.merged


def test_a_report_joins_the_nearest_open_case_within_the_radius(
    session: Session, locator_cache: LocatorCache
) -> None:
    """Nearest first; a case just outside the radius is left alone."""
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN, depth_m=1500)
    locator = locator_cache.get(lambda: session)
    radius = session.scalars(select(Category.dedup_radius_m).where(Category.code == "01-11")).one()
    t0 = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)

    def report(east_m: float, minutes: int) -> intake.IntakeResult:
        data = intake.ReportInput("01-11", *offset(lon, lat, east_m, 0))
        now = t0 + timedelta(minutes=minutes)
        return intake.submit_report(session, locator, data, submitter=None, calendar=WorkCalendar(), now=now)

    a = report(0, 0)
    b = report(1.6 * radius, 1)  # beyond the radius of a: its own case
    assert not b.merged and b.case_facts.id != a.case_facts.id
    between = report(0.9 * radius, 2)  # within both radii, nearer to b
    assert between.merged and between.case_facts.id == b.case_facts.id
    inside = report(-0.95 * radius, 3)
    assert inside.merged and inside.case_facts.id == a.case_facts.id
    outside = report(-1.05 * radius, 4)
    assert not outside.merged and outside.case_facts.id not in {a.case_facts.id, b.case_facts.id}
    merged_event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == b.case_facts.id, CaseEvent.kind == "report_merged")
    ).one()
    distance = merged_event.payload["distance_m"]
    assert abs(distance - 0.7 * radius) < 0.01 * radius
    said = re.fullmatch(r"citizen 上报，距案件 (\d+) 米，并入", merged_event.reason)
    assert said is not None and abs(int(said.group(1)) - distance) <= 0.5


def test_deadlines_count_working_time(session: Session, locator_cache: LocatorCache) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN, depth_m=2000)
    locator = locator_cache.get(lambda: session)
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)
    result = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-11", lon, lat),
        submitter=None,
        calendar=WorkCalendar(),
        now=friday_4pm,
    )
    # 01-11: claim within 2 working hours → Friday 16:00–17:00, then Monday 09:00–10:00
    assert result.case.claim_by == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    # resolve within 1 working day (8 h) → Monday 16:00
    assert result.case.resolve_by == datetime(2026, 11, 30, 16, 0, tzinfo=SHANGHAI)


def test_gcj02_report_lands_where_its_wgs84_twin_does(session: Session, post_report: PostReport) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN)
    wgs = post_report(lon=lon, lat=lat, category="01-51").get_json()
    glon, glat = from_wgs84(lon, lat, "gcj02")
    gcj = post_report(lon=glon, lat=glat, crs="gcj02", category="01-51").get_json()
    assert gcj["merged"] is True and gcj["case_id"] == wgs["case_id"]
    blon, blat = from_wgs84(lon, lat, "bd09")
    bd = post_report(lon=blon, lat=blat, crs="bd09", category="01-51").get_json()
    assert bd["case_id"] == wgs["case_id"]


def test_outside_alliance_and_outside_coverage_go_to_the_dispatcher(post_report: PostReport) -> None:
    xuhui = post_report(lon=121.4367, lat=31.1883).get_json()
    assert xuhui["routing"]["rule"] == "outside-alliance"
    assert xuhui["routing"]["lead"] is None and xuhui["routing"]["queue"]["code"] == "DU-ALLIANCE"
    assert xuhui["routing"]["inputs"]["location"]["district"]["name"] == "徐汇区"
    sea = post_report(lon=122.9, lat=30.6).get_json()
    assert sea["routing"]["rule"] == "outside-coverage" and sea["routing"]["queue"] is not None


def test_null_island_reports_queue_and_merge_instead_of_failing(post_report: PostReport) -> None:
    # GPS garbage a hair from 0°,0°: PostgreSQL's dedup distance between two such points underflowed
    # ("value out of range: underflow", a 500); within 1e-9° of 0 a coordinate is 0.
    first = post_report(lon=4.297738795648005e-251, lat=-3.0250199001888497e-42)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["routing"]["rule"] == "outside-coverage"
    second = post_report(lon=-1e-300, lat=2.5e-200)
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["merged"] and second.get_json()["case_id"] == first.get_json()["case_id"]


def test_retries_with_one_idempotency_key_create_one_report(
    session: Session, post_report: PostReport
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN, depth_m=3000)
    answers = [post_report(lon=lon, lat=lat, key="retry-me-1") for _ in range(20)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.get_json()["report_id"] for a in answers}) == 1
    assert [a.headers.get("Idempotent-Replayed") for a in answers[1:]] == ["true"] * 19
    assert answers[0].get_json() == answers[-1].get_json()
    report_id = answers[0].get_json()["report_id"]
    assert session.scalar(select(func.count()).where(Report.idempotency_key == "retry-me-1")) == 1
    case = session.get(Case, answers[0].get_json()["case_id"])
    assert case is not None and case.report_count == 1
    assert (
        session.scalar(
            select(func.count()).where(CaseEvent.payload.is_not(None), CaseEvent.case_id == case.id)
        )
        == 2
    )
    assert report_id


def test_a_retry_is_found_by_its_idempotency_key_before_its_external_id(
    session: Session, locator_cache: LocatorCache
) -> None:
    """Both retry identities point at earlier reports: the Idempotency-Key's answer wins."""
    locator = locator_cache.get(lambda: session)
    user = make_user(session, "reporter")
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN, depth_m=2500)
    elsewhere = offset(lon, lat, 900, 0)

    def submit(data: intake.ReportInput) -> intake.IntakeResult:
        return intake.submit_report(session, locator, data, submitter=user, calendar=WorkCalendar())

    by_key = submit(intake.ReportInput("05-52", lon, lat, idempotency_key="both-1"))
    by_external_id = submit(
        intake.ReportInput("05-52", *elsewhere, source="hotline_12345", external_id="12345-both")
    )
    retry = submit(
        intake.ReportInput(
            "05-52", lon, lat, source="hotline_12345", external_id="12345-both", idempotency_key="both-1"
        )
    )
    assert retry.replayed and retry.report_id == by_key.report_id != by_external_id.report_id
    again = submit(intake.ReportInput("05-52", *elsewhere, source="hotline_12345", external_id="12345-both"))
    assert again.replayed and again.report_id == by_external_id.report_id
    assert session.scalar(select(func.count()).where(Report.submitted_by_id == user.id)) == 2


def test_a_reused_key_with_another_body_is_a_conflict(post_report: PostReport) -> None:
    assert post_report(lon=121.45, lat=30.92, key="k-2").status_code == 201
    clash = post_report(lon=121.46, lat=30.92, key="k-2")
    assert clash.status_code == 409
    assert clash.get_json()["error"]["code"] == "idempotency_key_reused"


def test_external_id_makes_retries_safe(post_report: PostReport) -> None:
    first = post_report(lon=121.45, lat=30.92, external_id="app-2026-0001")
    again = post_report(lon=121.45, lat=30.92, external_id="app-2026-0001")
    assert again.get_json()["report_id"] == first.get_json()["report_id"]


def test_bad_reports_get_clear_errors_and_write_nothing(session: Session, post_report: PostReport) -> None:
    before = session.scalar(select(func.count()).select_from(Report))
    cases = [
        ({"category": "99-99", "lon": 121.45, "lat": 30.92}, 422, "unknown_category"),
        ({"lon": 30.92, "lat": 121.45}, 422, "coordinates_swapped"),
        ({"lon": 121.45}, 422, "validation_failed"),
        ({"lon": 121.45, "lat": 30.92, "crs": "utm"}, 422, "validation_failed"),
        ({"lon": 121.45, "lat": 30.92, "source": "rumour"}, 422, "validation_failed"),
        ({"lon": 121.45, "lat": 30.92, "observed_at": "2026-11-27T08:00:00"}, 422, "validation_failed"),
        ({"lon": 121.45, "lat": 30.92, "photos": ["not a url"]}, 422, "validation_failed"),
        ({"lon": 121.45, "lat": 30.92, "reporter": {"phone": "call me"}}, 422, "validation_failed"),
    ]
    for fields, status, code in cases:
        response = post_report(**fields)
        assert response.status_code == status, (fields, response.get_json())
        assert response.get_json()["error"]["code"] == code, fields
    assert session.scalar(select(func.count()).select_from(Report)) == before


def test_committee_cannot_report_and_anonymous_gets_401(client: FlaskClient, session: Session) -> None:
    token = make_token(session, make_user(session, "committee"))
    session.commit()
    body = {"category": "01-11", "lon": 121.45, "lat": 30.92}
    assert client.post("/api/v1/reports", json=body, headers=bearer(token)).status_code == 403
    assert client.post("/api/v1/reports", json=body).status_code == 401


def test_categories_are_listed_publicly(client: FlaskClient) -> None:
    body = client.get("/api/v1/categories").get_json()
    names = {c["name"] for c in body["categories"]}
    assert {"暴露垃圾", "生活垃圾偷倒", "违法装修", "群租"} <= names
    assert any("违法搭建" in n for n in names) and any("建筑垃圾" in n for n in names)
    assert all(c["dedup_radius_m"] > 0 and c["claim_limit"] for c in body["categories"])


# -- what a report stores -------------------------------------------------------------------------

T0 = datetime(2026, 11, 24, 10, 15, tzinfo=SHANGHAI)


def rows(session: Session, model: type[Any], where: Any, *, skip: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows as plain dicts (without `skip` columns; geometries as WKT), in id order."""
    table: Table = model.__table__
    columns = [c for c in table.c if c.name not in skip and c.name != "geom"]
    stmt = select(*columns).where(where).order_by(table.c.id)
    if "geom" in table.c and "geom" not in skip:
        stmt = stmt.add_columns(func.ST_AsText(table.c.geom).label("geom_wkt"))
    return [dict(r._mapping) for r in session.execute(stmt)]


def snapshot(session: Session, case_id: int) -> dict[str, Any]:
    """Everything one border case's intake wrote, with ids replaced by their order."""
    report_ids = session.scalars(select(Report.id).where(Report.case_id == case_id).order_by(Report.id)).all()
    events = rows(session, CaseEvent, CaseEvent.case_id == case_id, skip=("id", "case_id"))
    for event in events:
        if "report_id" in event["payload"]:
            event["payload"]["report_id"] = report_ids.index(event["payload"]["report_id"])
    number = session.scalars(select(Case.number).where(Case.id == case_id)).one()
    outbox = rows(session, OutboxMessage, OutboxMessage.case_id == case_id, skip=("id", "case_id"))
    for message in outbox:
        assert message["payload"].pop("case_number") == number
    return {
        "case": rows(session, Case, Case.id == case_id, skip=("id", "number")),
        "partners": rows(session, CasePartner, CasePartner.case_id == case_id, skip=("id", "case_id")),
        "reports": rows(session, Report, Report.case_id == case_id, skip=("id", "case_id")),
        "events": events,
        "outbox": outbox,
    }


def intake_twice(session: Session, locator: Locator, user: User) -> tuple[int, dict[str, Any]]:
    """A border report with a retry key, then a duplicate 50 m away an hour later (merged)."""
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    calendar = WorkCalendar()
    first = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-10", lon, lat, description="渠边倾倒", idempotency_key="k-1"),
        submitter=user,
        calendar=calendar,
        now=T0,
    )
    near = offset(lon, lat, 30, 40)
    second = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-10", *near, crs="wgs84", source="citizen", photos=["https://x.test/1.jpg"]),
        submitter=None,
        calendar=calendar,
        now=T0.replace(hour=11),
    )
    assert not first.merged and second.merged and second.case_facts.id == first.case_facts.id
    return first.case_facts.id, snapshot(session, first.case_facts.id)


def test_a_report_stores_exactly_what_intake_planned(session: Session, locator_cache: LocatorCache) -> None:
    locator = locator_cache.get(lambda: session)  # before any row is added: a rebuild ends the session
    user = make_user(session, "reporter")
    case_id, stored = intake_twice(session, locator, user)
    case = stored["case"][0]
    assert case["status"] == "routed" and case["report_count"] == 2 and case["in_border_zone"] is True
    assert case["created_at"] == T0 and case["last_report_at"] == T0.replace(hour=11)
    assert case["resolution_photos"] == [] and case["routing"]["rule"] == "member-border-zone"
    assert case["geom_wkt"].startswith("POINT(121.") and case["district_code"] == FENGXIAN
    assert [p["reason"].startswith("对侧最近中队") for p in stored["partners"]] == [True]
    first, second = stored["reports"]
    assert (first["merged"], second["merged"]) == (False, True)
    assert first["idempotency_key"] == "k-1" and first["description"] == "渠边倾倒"
    assert second["photos"] == ["https://x.test/1.jpg"] and second["submitted_by_id"] is None
    assert first["received_at"] == T0 and first["observed_at"] == T0
    kinds = [(e["kind"], e["from_status"], e["to_status"], e["actor"]) for e in stored["events"]]
    assert kinds[0] == ("reported", None, "reported", user.username)
    assert stored["events"][0]["actor_id"] == user.id
    assert kinds[1:] == [
        ("routed", "reported", "routed", "system"),
        ("report_merged", None, "routed", "system"),
    ]
    assert stored["events"][0]["payload"] == {"report_id": 0, "distance_m": None}
    assert stored["events"][2]["payload"]["report_id"] == 1
    assert 45 <= stored["events"][2]["payload"]["distance_m"] <= 55
    assert [m["kind"] for m in stored["outbox"]] == ["routed"]
    assert stored["outbox"][0]["payload"]["details"] == stored["events"][1]["payload"]
    assert stored["outbox"][0]["payload"]["district"] == FENGXIAN
    assert session.get(Case, case_id) is not None


def test_a_naive_timestamp_is_refused(session: Session, locator_cache: LocatorCache) -> None:
    locator = locator_cache.get(lambda: session)
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    naive = intake.ReportInput("01-10", lon, lat, observed_at=datetime(2026, 11, 24, 9, 0))  # noqa: DTZ001
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        intake.submit_report(session, locator, naive, submitter=None, calendar=WorkCalendar(), now=T0)
