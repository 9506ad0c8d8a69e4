"""Open311 GeoReport v2, exercised the way a client written from the spec would: list services, post a
form-encoded request with an api_key, read it back, and get the spec's errors as a list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.cases import intake
from coordinator.cases.models import Case, Report
from coordinator.geolocation.services import LocatorCache
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI, WorkCalendar
from tests.cases.conftest import offset, zone_point
from tests.factories import make_token, make_user

BASE = "/open311/v2"
FENGXIAN, JINSHAN = "310120", "310116"
ISO_SHANGHAI = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}

Post = Callable[..., TestResponse]


def assert_open311_error(response: TestResponse, status: int, mentions: str = "") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, list) and body, body
    for error in body:
        assert set(error) == {"code", "description"}
        assert error["code"] == status
    assert mentions in " ".join(e["description"] for e in body)


def test_discovery_names_the_v2_endpoint(client: FlaskClient) -> None:
    body = client.get(f"{BASE}/discovery.json").get_json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    [ep] = body["endpoints"]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and ep["formats"] == ["text/xml", "application/json"]
    assert ep["type"] == "production"


def test_services_are_our_categories(client: FlaskClient) -> None:
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    services = {s["service_code"]: s for s in response.get_json()}
    assert {"01-01", "01-10", "01-11"} <= set(services)
    dumping = services["01-11"]
    assert set(dumping) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert dumping["service_name"].startswith("积存垃圾渣土")
    assert dumping["metadata"] is False and dumping["type"] == "realtime"
    assert dumping["group"] == "01 市容环境"

    definition = client.get(f"{BASE}/services/01-11.json").get_json()
    assert definition == {"service_code": "01-11", "attributes": []}
    assert_open311_error(client.get(f"{BASE}/services/99-99.json"), 404, "99-99")


def test_post_a_request_and_read_it_back(client: FlaskClient, session: Session, post: Post) -> None:
    response = post(
        account_id="acct-7",
        email="citizen@example.com",
        first_name="小明",
        last_name="王",
        phone="13800001234",
        media_url="https://img.example.com/p/1.jpg",
        device_id="",  # empty optional parameters mean absent
        address_string="",
    )
    assert response.status_code == 200, response.get_json()
    [created] = response.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] == "acct-7"
    number = re.search(r"JJ-\d{4}-\d{6}", created["service_notice"])
    assert number is not None

    report = session.get(Report, int(created["service_request_id"]))
    assert report is not None and report.reporter_name == "王小明" and report.reporter_phone == "13800001234"
    assert report.case.number == number.group(0)

    read = client.get(f"{BASE}/requests/{created['service_request_id']}.json")
    assert read.status_code == 200
    [request] = read.get_json()  # a list of one, per the spec
    assert set(request) == REQUEST_FIELDS
    assert request["service_request_id"] == created["service_request_id"]
    assert request["status"] == "open" and request["service_code"] == "01-11"
    assert request["service_notice"] == created["service_notice"]
    lead = session.get(Squad, report.case.lead_squad_id)
    assert lead is not None and lead.district_code == FENGXIAN
    assert request["agency_responsible"] == lead.name_zh
    assert ISO_SHANGHAI.match(request["requested_datetime"]), request["requested_datetime"]
    assert ISO_SHANGHAI.match(request["updated_datetime"])
    assert request["lat"] == pytest.approx(report.lat) and request["long"] == pytest.approx(report.lon)
    assert request["media_url"] == "https://img.example.com/p/1.jpg"
    assert request["address"].startswith("奉贤区")
    text = read.get_data(as_text=True)
    assert "13800001234" not in text and "王小明" not in text and "citizen@example.com" not in text


def test_contact_details_in_the_description_are_masked_when_published(
    client: FlaskClient, session: Session, post: Post
) -> None:
    written = "沟渠边有人倾倒建筑垃圾，请联系 13812345678 或 wang@example.com，身份证 310101199001011234"
    response = post(description=written)
    assert response.status_code == 200, response.get_json()
    [created] = response.get_json()
    published = "沟渠边有人倾倒建筑垃圾，请联系 138****5678 或 w***@example.com，身份证 **************1234"
    [one] = client.get(f"{BASE}/requests/{created['service_request_id']}.json").get_json()
    assert one["description"] == published
    listed = client.get(
        f"{BASE}/requests.json", query_string={"service_request_id": created["service_request_id"]}
    )
    assert [r["description"] for r in listed.get_json()] == [published]
    report = session.get(Report, int(created["service_request_id"]))
    assert report is not None and report.description == written  # stored as written, for the squads


def test_a_second_request_nearby_gets_its_own_id_and_the_same_case_number(
    client: FlaskClient, post: Post, point: tuple[float, float]
) -> None:
    [first] = post().get_json()
    near = offset(*point, 30, 40)
    [second] = post(lat=f"{near[1]:.6f}", long=f"{near[0]:.6f}").get_json()
    assert second["service_request_id"] != first["service_request_id"]
    case_number = re.search(r"JJ-\d{4}-\d{6}", first["service_notice"]).group(0)  # type: ignore[union-attr]
    assert case_number in second["service_notice"] and "并入" in second["service_notice"]

    ids = f"{first['service_request_id']},{second['service_request_id']}"
    listed = client.get(f"{BASE}/requests.json", query_string={"service_request_id": ids}).get_json()
    assert {r["service_request_id"] for r in listed} == set(ids.split(","))
    # service_request_id overrides the other filters
    overridden = client.get(
        f"{BASE}/requests.json", query_string={"service_request_id": ids, "service_code": "01-01"}
    ).get_json()
    assert len(overridden) == 2


def test_filters_by_service_code_status_and_dates(client: FlaskClient, session: Session, post: Post) -> None:
    [created] = post().get_json()
    rid = created["service_request_id"]

    def ids(**query: str) -> set[str]:
        response = client.get(f"{BASE}/requests.json", query_string=query)
        assert response.status_code == 200, response.get_json()
        return {r["service_request_id"] for r in response.get_json()}

    assert rid in ids()
    assert rid in ids(service_code="01-10,01-11") and rid not in ids(service_code="01-10")
    assert rid in ids(status="open") and rid not in ids(status="closed")
    assert rid in ids(status="", service_code="")  # empty means absent

    case = session.get(Report, int(rid)).case  # type: ignore[union-attr]
    case.status = "closed"
    session.commit()
    assert rid in ids(status="closed") and rid not in ids(status="open")
    [read] = client.get(f"{BASE}/requests/{rid}.json").get_json()
    assert read["status"] == "closed"

    today = datetime.now(SHANGHAI)
    assert rid in ids(start_date=(today - timedelta(days=1)).isoformat())
    assert rid not in ids(end_date=(today - timedelta(days=1)).isoformat())
    assert rid in ids(start_date=(today - timedelta(days=2)).date().isoformat())  # a date alone


def test_default_range_is_the_last_90_days(
    client: FlaskClient, session: Session, locator_cache: LocatorCache
) -> None:
    lon, lat = zone_point(session, (JINSHAN, FENGXIAN), JINSHAN)
    old_time = datetime.now(SHANGHAI) - timedelta(days=120)
    old = intake.submit_report(
        session,
        locator_cache.get(lambda: session),
        intake.ReportInput("01-10", lon, lat),
        submitter=None,
        calendar=WorkCalendar(),
        now=old_time,
    )
    session.commit()
    rid = str(old.report.id)
    assert rid not in {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").get_json()}
    window = {
        "start_date": (old_time - timedelta(days=1)).isoformat(),
        "end_date": (old_time + timedelta(days=1)).isoformat(),
    }
    listed = client.get(f"{BASE}/requests.json", query_string=window).get_json()
    assert rid in {r["service_request_id"] for r in listed}
    [one] = client.get(f"{BASE}/requests/{rid}.json").get_json()
    assert one["requested_datetime"].startswith(old_time.date().isoformat())


def test_page_size_extension_and_the_1000_cap(client: FlaskClient, post: Post) -> None:
    post()
    post(service_code="01-10")
    assert len(client.get(f"{BASE}/requests.json", query_string={"page_size": "1"}).get_json()) == 1
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string={"page_size": "1001"}), 400)
    # A page number past any offset the database can take is the spec's 400, not a 500.
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string={"page": "9" * 23}), 400)


def test_missing_or_invalid_api_key_is_403(client: FlaskClient, session: Session, post: Post) -> None:
    before = session.scalar(select(func.count()).select_from(Report))
    assert_open311_error(post(api_key=None), 403, "api_key")
    assert_open311_error(post(api_key=""), 403, "api_key")
    assert_open311_error(post(api_key="jj_not-a-token"), 403, "api_key")
    committee = make_token(session, make_user(session, "committee"))
    session.commit()
    assert_open311_error(post(api_key=committee), 403, "committee")
    # a Bearer header is not an api_key
    response = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "01-11", "lat": "30.9", "long": "121.4"},
        headers={"Authorization": "Bearer jj_whatever"},
    )
    assert_open311_error(response, 403)
    assert session.scalar(select(func.count()).select_from(Report)) == before


def test_unknown_service_code_is_404(post: Post) -> None:
    assert_open311_error(post(service_code="99-99"), 404, "99-99")


def test_address_alone_is_400_asking_for_lat_long(post: Post) -> None:
    assert_open311_error(post(lat=None, long=None, address_string="南桥镇江海路1号"), 400, "lat and long")
    assert_open311_error(post(long=None), 400, "lat and long")


def test_other_bad_input_is_400(client: FlaskClient, post: Post, api_key: str) -> None:
    assert_open311_error(post(service_code=None), 400, "service_code")
    assert_open311_error(post(lat="north"), 400, "lat")
    assert_open311_error(post(description="垃" * 4001), 400, "description")
    assert_open311_error(post(media_url="not a url"), 400, "media_url")
    assert_open311_error(post(colour="red"), 400, "colour")
    # a JSON body is not the spec's form encoding
    response = client.post(f"{BASE}/requests.json", json={"api_key": api_key, "service_code": "01-11"})
    assert_open311_error(response, 400, "x-www-form-urlencoded")
    # swapped coordinates are caught by the intake core and answered in the spec's shape
    lon, lat = 121.45, 30.85
    assert_open311_error(post(lat=str(lon), long=str(lat)), 400, "swapped")


def test_attribute_fields_are_accepted_and_ignored(post: Post) -> None:
    assert post(**{"attribute[size]": "large"}).status_code == 200


def test_date_errors_are_400(client: FlaskClient) -> None:
    now = datetime.now(SHANGHAI)
    too_long = {"start_date": (now - timedelta(days=91)).isoformat(), "end_date": now.isoformat()}
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string=too_long), 400, "90 days")
    backwards = {"start_date": now.isoformat(), "end_date": (now - timedelta(days=1)).isoformat()}
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string=backwards), 400, "before")
    bad = client.get(f"{BASE}/requests.json", query_string={"start_date": "yesterday"})
    assert_open311_error(bad, 400, "start_date")
    assert_open311_error(client.get(f"{BASE}/requests.json", query_string={"status": "pending"}), 400)


def test_unknown_requests_and_routes_answer_in_the_spec_shape(client: FlaskClient) -> None:
    assert_open311_error(client.get(f"{BASE}/requests/999999999.json"), 404)
    assert_open311_error(client.get(f"{BASE}/requests/JJ-2026-000001.json"), 404)
    assert_open311_error(client.get(f"{BASE}/requests/%C2%B2.json"), 404)  # '²' is a digit to str.isdigit
    assert_open311_error(client.get(f"{BASE}/tokens/abc.json"), 404)
    assert_open311_error(client.get(f"{BASE}/services.csv"), 404)
    assert client.get(f"{BASE}/requests.json", query_string={"service_request_id": "x,0,²"}).get_json() == []
    method = client.delete(f"{BASE}/requests.json")
    assert_open311_error(method, 405)
    assert "POST" in method.headers["Allow"]
    # ...while our own API keeps its shape
    ours = client.get("/api/v1/no-such-thing")
    assert ours.status_code == 404 and ours.get_json()["error"]["code"] == "not_found"


def test_open311_writes_through_the_one_intake(session: Session, post: Post) -> None:
    [created] = post().get_json()
    report = session.get(Report, int(created["service_request_id"]))
    assert report is not None and report.source == "citizen" and report.input_crs == "wgs84"
    case = session.get(Case, report.case_id)
    assert (
        case is not None and case.in_border_zone and [e.kind for e in case.events] == ["reported", "routed"]
    )
    assert report.submitted_by_id is not None


def test_openapi_describes_the_open311_routes(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    post_op = spec["paths"]["/open311/v2/requests.json"]["post"]
    form = post_op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form == {"$ref": "#/components/schemas/RequestForm"}
    assert {"400", "403", "404"} <= set(post_op["responses"]) and "422" not in post_op["responses"]
    error = post_op["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Open311Errors"}
    assert spec["components"]["schemas"]["Open311Errors"]["type"] == "array"
    params = {p["name"] for p in spec["paths"]["/open311/v2/requests.json"]["get"]["parameters"]}
    assert {"service_request_id", "service_code", "start_date", "end_date", "status"} <= params
    assert "/open311/v2/requests/{request_id}.json" in spec["paths"]
