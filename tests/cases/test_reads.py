"""GET /api/v1/cases, /cases/{id} and /inbox: filters, GeoJSON, ordering, personal data per role."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from coordinator.auth.models import ContactAccessLog
from coordinator.cases import intake, queries
from coordinator.cases.models import Case
from coordinator.cases.schemas import CaseFeatureCollection
from coordinator.geojson import Bbox
from coordinator.geolocation.services import LocatorCache
from coordinator.squads.models import Squad
from coordinator.validation import MAX_PAGE, MAX_ROW_ID
from coordinator.worktime import SHANGHAI, WorkCalendar
from tests.cases.conftest import PostReport, zone_point
from tests.factories import bearer, make_case, make_squad, make_token, make_user

FENGXIAN, JINSHAN = "310120", "310116"


def token_for(session: Session, role: str, **kwargs: object) -> str:
    token = make_token(session, make_user(session, role, **kwargs))  # type: ignore[arg-type]
    session.commit()
    return token


def test_case_list_filters_and_geojson(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    joint = post_report(lon=lon, lat=lat, category="01-51").get_json()
    inland = post_report(lon=121.2278, lat=31.0306, category="01-01").get_json()  # 松江 城区
    token = token_for(session, "committee")

    def ids(**params: object) -> set[int]:
        response = client.get(
            "/api/v1/cases", query_string={"per_page": 500, **params}, headers=bearer(token)
        )
        assert response.status_code == 200, response.get_json()
        return {c["id"] for c in response.get_json()["cases"]}

    assert {joint["case_id"], inland["case_id"]} <= ids()
    assert joint["case_id"] in ids(in_border_zone="true") and inland["case_id"] not in ids(
        in_border_zone="true"
    )
    assert inland["case_id"] in ids(district="310117") and joint["case_id"] not in ids(district="310117")
    assert ids(category="01-51") >= {joint["case_id"]} and inland["case_id"] not in ids(category="01-51")
    lead = joint["routing"]["lead"]["code"]
    partner = joint["routing"]["partners"][0]["code"]
    assert joint["case_id"] in ids(squad=lead) and joint["case_id"] in ids(squad=partner)
    assert joint["case_id"] in ids(bbox=f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}")
    assert inland["case_id"] not in ids(bbox=f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}")
    assert joint["case_id"] in ids(status="routed")
    future = (datetime.now(SHANGHAI) + timedelta(days=1)).isoformat()
    assert ids(created_from=future) == set()

    geo = client.get("/api/v1/cases", query_string={"format": "geojson"}, headers=bearer(token))
    assert geo.mimetype == "application/geo+json"
    feature = next(f for f in geo.get_json()["features"] if f["id"] == joint["case_id"])
    assert feature["geometry"] == {
        "type": "Point",
        "coordinates": [feature["properties"]["lon"], feature["properties"]["lat"]],
    }
    assert feature["properties"]["number"] == joint["case_number"]


def test_case_list_pages_and_rejects_bad_filters(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    for i in range(3):
        post_report(lon=121.40 + i * 0.01, lat=30.93, category="05-52")
    token = token_for(session, "dispatcher", district=FENGXIAN)
    page = client.get("/api/v1/cases?per_page=2&page=1", headers=bearer(token)).get_json()
    assert len(page["cases"]) == 2 and page["total"] >= 3
    for bad in (
        "bbox=1,2,3",
        "bbox=1,2,3,4,5",
        "per_page=0",
        "created_from=2026-11-01T00:00:00",
        "status=lost",
    ):
        response = client.get(f"/api/v1/cases?{bad}", headers=bearer(token))
        assert response.status_code == 422, bad


def test_contact_is_full_for_dispatchers_masked_for_squads_absent_for_committee(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    reply = post_report(lon=121.45, lat=30.92, reporter={"name": "张三丰", "phone": "13812341234"}).get_json()
    url = f"/api/v1/cases/{reply['case_id']}"
    lead = session.scalars(select(Squad).where(Squad.code == reply["routing"]["lead"]["code"])).one()

    reads_before = session.scalar(select(func.count()).select_from(ContactAccessLog))
    dispatcher = client.get(
        url, headers=bearer(token_for(session, "dispatcher", district=FENGXIAN))
    ).get_json()
    assert dispatcher["reports"][0]["reporter"] == {"name": "张三丰", "phone": "13812341234"}
    assert session.scalar(select(func.count()).select_from(ContactAccessLog)) == (reads_before or 0) + 1

    squad = client.get(url, headers=bearer(token_for(session, "squad_leader", squad=lead))).get_json()
    assert squad["reports"][0]["reporter"] == {"name": "张**", "phone": "138****1234"}
    committee = client.get(url, headers=bearer(token_for(session, "committee"))).get_json()
    assert committee["reports"][0]["reporter"] is None
    assert session.scalar(select(func.count()).select_from(ContactAccessLog)) == (reads_before or 0) + 1


def test_contact_details_in_the_description_follow_the_contact_rules(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    written = "楼道堆满建筑垃圾，联系 13812341234"
    reply = post_report(lon=121.45, lat=30.92, description=written).get_json()
    url = f"/api/v1/cases/{reply['case_id']}"
    lead = session.get(Squad, session.get(Case, reply["case_id"]).lead_squad_id)  # type: ignore[union-attr]

    def description(role: str, **kwargs: object) -> str:
        case = client.get(url, headers=bearer(token_for(session, role, **kwargs))).get_json()
        return str(case["reports"][0]["description"])

    assert description("dispatcher", district=FENGXIAN) == written
    assert description("squad_leader", squad=lead) == "楼道堆满建筑垃圾，联系 138****1234"
    assert description("committee") == "楼道堆满建筑垃圾，联系 138****1234"


def test_unknown_case_is_404(client: FlaskClient, session: Session) -> None:
    response = client.get("/api/v1/cases/999999999", headers=bearer(token_for(session, "admin")))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_ids_and_pages_beyond_what_the_database_holds_are_4xx_not_500(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    # Found by schemathesis: such numbers reached the driver (SQLite: OverflowError) and answered 500.
    case_id = post_report(lon=121.45, lat=30.92).get_json()["case_id"]
    headers = bearer(token_for(session, "admin"))
    huge = "99999999999999999999999"
    for method, url in (
        ("GET", f"/api/v1/cases/{huge}"),
        ("GET", f"/api/v1/cases/{MAX_ROW_ID + 1}"),
        ("GET", "/api/v1/cases/0"),
        ("POST", f"/api/v1/cases/{huge}/verify"),
        ("POST", f"/api/v1/cases/{huge}/transfers"),
        ("POST", f"/api/v1/cases/{case_id}/transfers/{huge}/accept"),
    ):
        response = client.open(url, method=method, json={"reason": "x"}, headers=headers)
        assert response.status_code == 404, (url, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/cases/{MAX_ROW_ID}", headers=headers).status_code == 404  # a valid miss

    for page in (huge, str(MAX_PAGE + 1)):
        response = client.get(f"/api/v1/cases?page={page}", headers=headers)
        assert response.status_code == 422 and response.get_json()["error"]["details"][0]["field"] == "page"
    last = client.get(f"/api/v1/cases?page={MAX_PAGE}&per_page=500", headers=headers)
    assert last.status_code == 200 and last.get_json()["cases"] == [] and last.get_json()["total"] >= 1


def test_geojson_case_list_matches_its_documented_model(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    post_report(lon=121.45, lat=30.92)
    response = client.get(
        "/api/v1/cases", query_string={"format": "geojson"}, headers=bearer(token_for(session, "committee"))
    )
    page = CaseFeatureCollection.model_validate(response.get_json())
    assert page.type == "FeatureCollection" and page.features and page.features[0].type == "Feature"


def test_inbox_puts_claimable_first_then_overdue(
    client: FlaskClient, session: Session, locator_cache: LocatorCache
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN, depth_m=1500)
    locator = locator_cache.get(lambda: session)
    now = datetime.now(SHANGHAI)
    fresh = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-10", lon, lat),
        submitter=None,
        calendar=WorkCalendar(),
        now=now,
    )
    lead = session.get(Squad, fresh.case.lead_squad_id)
    assert lead is not None
    # an older case of the same squad, claimed and past its resolve deadline: overdue, not claimable
    old = intake.submit_report(
        session,
        locator,
        intake.ReportInput("01-01", lon + 0.002, lat),
        submitter=None,
        calendar=WorkCalendar(),
        now=now - timedelta(days=30),
    )
    member = make_user(session, "squad_member", squad=lead)
    old.case.status, old.case.claimed_by_id = "claimed", member.id
    session.commit()
    assert queries.is_overdue(old.case, now)

    token = make_token(session, make_user(session, "squad_leader", squad=lead))
    session.commit()
    inbox = client.get("/api/v1/inbox", headers=bearer(token)).get_json()["cases"]
    order = [c["id"] for c in inbox]
    assert order.index(fresh.case.id) < order.index(old.case.id)
    assert next(c for c in inbox if c["id"] == old.case.id)["overdue"] is True
    assert all(
        c["lead_squad"]["code"] == lead.code or lead.code in [p["code"] for p in c["partner_squads"]]
        for c in inbox
    )
    deadline = next(c for c in inbox if c["id"] == fresh.case.id)["claim_by"]
    assert deadline.endswith("+08:00")


def test_the_inbox_ranks_and_cuts_in_the_database(session: Session) -> None:
    """More open cases than the inbox used to fetch (5,000), the ones that need the squad most added
    last: they still come first, in rank order, then the oldest of the rest."""
    now = datetime.now(SHANGHAI)
    lead = make_squad(session)
    member = make_user(session, "squad_member", squad=lead)
    start = now - timedelta(days=20)
    # Claimed, deadlines ahead: the bulk of a busy squad's caseload (rank 3).
    session.execute(
        insert(Case),
        [
            {
                "number": f"T-INBOX-{i:05d}",
                "status": "claimed",
                "category_code": "01-11",
                "lon": 121.47,
                "lat": 30.85,
                "geom": "SRID=4326;POINT(121.47 30.85)",
                "district_code": lead.district_code,
                "outcome": "member",
                "routing": {"rule": "test"},
                "lead_squad_id": lead.id,
                "claimed_by_id": member.id,
                "claim_by": now + timedelta(days=1),
                "resolve_by": now + timedelta(days=3),
                "created_at": start + timedelta(seconds=i),
                "updated_at": start,
                "last_report_at": start,
            }
            for i in range(5_000)
        ],
    )
    later = now - timedelta(hours=5)
    # Claimable, in time (rank 1); claimable and past its claim deadline (rank 0); claimed and past its
    # resolve deadline (overdue, rank 2).
    routine = make_case(session, lead=lead, now=later, claim_by=now + timedelta(hours=1))
    late = make_case(session, lead=lead, now=later, claim_by=now - timedelta(hours=1))
    stuck = make_case(session, lead=lead, now=later, resolve_by=now - timedelta(hours=2), status="claimed")
    stuck.claimed_by_id = member.id
    session.flush()

    shown = queries.inbox(session, member, now=now, limit=5)
    assert [c.id for c in shown[:3]] == [late.id, routine.id, stuck.id]
    assert [c.number for c in shown[3:]] == ["T-INBOX-00000", "T-INBOX-00001"]


def test_partner_squad_sees_the_joint_case_in_its_inbox(
    client: FlaskClient, session: Session, post_report: PostReport
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN)
    reply = post_report(lon=lon, lat=lat, category="01-10").get_json()
    partner_code = reply["routing"]["partners"][0]["code"]
    partner = session.scalars(select(Squad).where(Squad.code == partner_code)).one()
    assert partner.district_code == FENGXIAN
    token = make_token(session, make_user(session, "squad_member", squad=partner))
    session.commit()
    inbox = client.get("/api/v1/inbox", headers=bearer(token)).get_json()["cases"]
    assert reply["case_id"] in [c["id"] for c in inbox]
    assert session.get(Case, reply["case_id"]) is not None


def test_case_list_bbox_edges_through_the_spatial_index(session: Session, post_report: PostReport) -> None:
    """The bbox filter stays exact where it goes through the spatial index (PostGIS: float32 GiST boxes):
    a case on the box's edge or in a zero-size box at its point is in, one a hair outside is out."""
    reply = post_report(lon=121.41234567, lat=30.93456789, category="05-51").get_json()
    case = session.get(Case, reply["case_id"])
    assert case is not None
    x, y = case.lon, case.lat

    def found(x0: float, y0: float, x1: float, y1: float) -> bool:
        cases, total = queries.list_cases(
            session, queries.CaseFilter(bbox=Bbox(x0, y0, x1, y1)), page=1, per_page=500
        )
        assert total == len(cases)
        return case.id in {c.id for c in cases}

    assert found(x, y, x, y)
    assert found(x - 0.01, y - 0.01, x, y) and found(x, y, x + 0.01, y + 0.01)
    hair = 1e-7  # ~1 cm, far below the float32 step of an index box here (~0.7 m in longitude)
    assert not found(x + hair, y - 0.01, x + 0.01, y + 0.01)
    assert not found(x - 0.01, y - 0.01, x + 0.01, y - hair)
