"""Open311 GeoReport v2 in XML, the spec's required format: every route at `.xml`, the spec's element names,
UTF-8 with the XML declaration, errors as `<errors><error>`, and a real GeoReport v2 client (PyPI
`georeport`, reading XML with xmltodict) listing services and requests from a live server.

Every GET here also passes the contract check's twin comparison: the XML says what the `.json` route
answers to the same request (tests/contracts.py)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from georeport import GeoReport
from sqlalchemy.orm import Session

from coordinator.cases.models import Report
from tests.live import live_server
from tests.open311.test_georeport import BASE, Post

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def xml_of(response: Any, status: int = 200) -> ElementTree.Element:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/xml" and response.mimetype_params["charset"] == "utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith(DECLARATION)
    return ElementTree.fromstring(response.data)


def children(element: ElementTree.Element) -> list[str]:
    return [child.tag for child in element]


def test_discovery_lists_both_formats(client: FlaskClient) -> None:
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and children(root) == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = root.find("endpoints")  # type: ignore[union-attr]
    assert endpoint.tag == "endpoint"
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]  # type: ignore[union-attr]


def test_services_and_a_service_definition(client: FlaskClient) -> None:
    root = xml_of(client.get(f"{BASE}/services.xml", query_string={"jurisdiction_id": "sh", "api_key": "x"}))
    assert root.tag == "services" and set(children(root)) == {"service"}
    dumping = next(s for s in root if s.findtext("service_code") == "01-11")
    assert children(dumping) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert dumping.findtext("metadata") == "false" and dumping.findtext("service_name", "").startswith("积存")
    definition = xml_of(client.get(f"{BASE}/services/01-11.xml"))
    assert definition.tag == "service_definition"
    assert children(definition) == ["service_code", "attributes"] and len(definition.find("attributes")) == 0  # type: ignore[arg-type]


def test_post_and_read_requests_in_xml(
    client: FlaskClient, session: Session, post: Post, api_key: str
) -> None:
    form = {"api_key": api_key, "service_code": "01-11", "description": "沟渠边倾倒建筑垃圾"}
    [created] = post().get_json()  # the JSON form gives us a point; now the same through XML
    report = session.get(Report, int(created["service_request_id"]))
    assert report is not None
    answer = client.post(
        f"{BASE}/requests.xml", data={**form, "lat": str(report.lat), "long": str(report.lon)}
    )
    root = xml_of(answer)
    assert root.tag == "service_requests" and children(root) == ["request"]
    request = root[0]
    assert children(request) == ["service_request_id", "service_notice", "account_id"]
    rid = request.findtext("service_request_id")
    assert rid and "JJ-" in (request.findtext("service_notice") or "")

    one = xml_of(client.get(f"{BASE}/requests/{rid}.xml"))
    assert one.tag == "service_requests" and [r.findtext("service_request_id") for r in one] == [rid]
    assert one[0].findtext("status") == "open" and one[0].findtext("address_id") == ""
    listed = xml_of(
        client.get(f"{BASE}/requests.xml", query_string={"service_code": "01-11", "status": "open"})
    )
    assert rid in {r.findtext("service_request_id") for r in listed}


def test_errors_come_in_xml_on_xml_routes(client: FlaskClient, post: Post) -> None:
    for response, status in (
        (client.get(f"{BASE}/requests/999999999.xml"), 404),
        (client.get(f"{BASE}/services/99-99.xml"), 404),
        (client.get(f"{BASE}/requests.xml", query_string={"start_date": "0.5"}), 400),
        (client.post(f"{BASE}/requests.xml", data={"service_code": "01-11"}), 403),
        (client.delete(f"{BASE}/requests.xml"), 405),
        (client.get(f"{BASE}/nothing.xml"), 404),
    ):
        root = xml_of(response, status)
        assert root.tag == "errors" and set(children(root)) == {"error"}
        for error in root:
            assert children(error) == ["code", "description"] and error.findtext("code") == str(status)


@pytest.mark.parametrize("output_format", ["xml", "json"])
def test_a_georeport_v2_client_lists_services_and_requests(
    app: Flask, post: Post, output_format: str
) -> None:
    [created] = post().get_json()
    with live_server(app) as (url, _):
        client = GeoReport(f"{url}/open311/v2", jurisdiction="shanghai", output_format=output_format)
        services = client.get_service_list()
        assert "01-11" in {s["service_code"] for s in services}
        definition = client.get_service_definition("01-11")
        assert definition["service_code"] == "01-11"
        requests = client.get_service_requests(service_code="01-11", status="open")
        requests = requests if isinstance(requests, list) else [requests]  # xmltodict: one element, a dict
        assert created["service_request_id"] in {r["service_request_id"] for r in requests}
        one = client.get_service_request(created["service_request_id"])
        assert one["service_code"] == "01-11" and one["status"] == "open"
