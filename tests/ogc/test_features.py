"""OGC API – Features at /ogc/: landing page, conformance, collections, items with paging, bbox and
datetime, one item — through the contract-checked test client, and with OWSLib against a live server
paging through every case of the demo caseload."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from owslib import ogcapi as owslib_api
from owslib.ogcapi.features import Features
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.demo_caseload import seed_demo_caseload
from coordinator.cases.models import Case
from coordinator.geolocation.services import LocatorCache
from coordinator.hotspots.services import create_hotspot
from coordinator.ogc.collections import COLLECTIONS
from coordinator.worktime import SHANGHAI
from tests.cases.conftest import zone_point
from tests.factories import bearer, make_token, make_user
from tests.live import live_server

PUBLIC_COLLECTIONS = {"districts", "towns", "border-zones"}


@pytest.fixture
def staff(session: Session) -> dict[str, str]:
    token = make_token(session, make_user(session, "dispatcher", district="310120"))
    session.commit()
    return bearer(token)


def rels(document: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in document["links"]}


def test_landing_page_and_conformance(client: FlaskClient) -> None:
    landing = client.get("/ogc/").get_json()
    links = {link["rel"]: link for link in landing["links"]}
    assert set(links) == {"self", "service-desc", "service-doc", "conformance", "data"}
    assert links["service-desc"]["href"].endswith("/api/openapi.json")
    assert client.get("/ogc").status_code == 308  # the landing page is /ogc/
    conforms = client.get(links["conformance"]["href"]).get_json()["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in conforms} == {"core", "geojson", "oas30"}


def test_collections_show_what_the_caller_may_read(client: FlaskClient, staff: dict[str, str]) -> None:
    anonymous = client.get("/ogc/collections").get_json()
    assert {c["id"] for c in anonymous["collections"]} == PUBLIC_COLLECTIONS
    listed = client.get("/ogc/collections", headers=staff).get_json()["collections"]
    assert [c["id"] for c in listed] == [c.id for c in COLLECTIONS]
    districts = next(c for c in listed if c["id"] == "districts")
    west, south, east, north = districts["extent"]["spatial"]["bbox"][0]
    assert 120.8 < west < east < 122.5 and 30.6 < south < north < 32  # Shanghai
    assert districts["itemType"] == "feature" and "items" in rels(districts)
    assert client.get("/ogc/collections/cases/items").status_code == 401


@pytest.mark.parametrize("collection", [c.id for c in COLLECTIONS])
def test_every_collection_describes_pages_and_serves_one_item(
    client: FlaskClient, staff: dict[str, str], post_some_cases: None, collection: str
) -> None:
    described = client.get(f"/ogc/collections/{collection}", headers=staff).get_json()
    assert described["id"] == collection
    page = client.get(f"/ogc/collections/{collection}/items?limit=2", headers=staff)
    assert page.status_code == 200 and page.mimetype == "application/geo+json"
    body = page.get_json()
    assert body["numberReturned"] == len(body["features"]) <= 2 and body["numberMatched"] >= 2
    assert "next" in rels(body) and "prev" not in rels(body)
    assert f'<{rels(body)["next"]}>; rel="next"' in page.headers["Link"]
    first = body["features"][0]
    one = client.get(f"/ogc/collections/{collection}/items/{first['id']}", headers=staff).get_json()
    assert one["properties"] == first["properties"] and rels(one)["collection"].endswith(collection)
    missing = client.get(f"/ogc/collections/{collection}/items/no-such-feature", headers=staff)
    assert missing.status_code == 404


@pytest.fixture
def post_some_cases(session: Session, locator_cache: LocatorCache) -> None:
    """A small demo caseload, and three hotspots in the Jinshan–Fengxian border zone."""
    locator = locator_cache.get(lambda: session)
    seed_demo_caseload(session, locator, reports=30, seed=3)
    for index in range(3):
        lon, lat = zone_point(session, ("310116", "310120"), "310120")
        create_hotspot(session, locator, name=f"沟渠 {index}", kind="ditch", lon=lon + index * 1e-3, lat=lat)
    session.commit()


def test_bbox_datetime_and_bad_parameters(
    client: FlaskClient, staff: dict[str, str], post_some_cases: None
) -> None:
    fengxian = "121.35,30.75,121.65,31.05"
    towns = client.get(f"/ogc/collections/towns/items?bbox={fengxian}&limit=100").get_json()
    assert 0 < towns["numberMatched"] < 35
    assert client.get("/ogc/collections/towns/items?bbox=0,0,1,1").get_json()["numberMatched"] == 0
    everything = client.get("/ogc/collections/cases/items?limit=1", headers=staff).get_json()["numberMatched"]
    later = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    assert (
        client.get(f"/ogc/collections/cases/items?datetime={later}/..", headers=staff).get_json()[
            "numberMatched"
        ]
        == 0
    )
    assert (
        client.get(f"/ogc/collections/cases/items?datetime=../{later}", headers=staff).get_json()[
            "numberMatched"
        ]
        == everything
    )
    squads = client.get("/ogc/collections/squads/items?datetime=2026-01-01/..", headers=staff).get_json()
    assert squads["numberMatched"] == 0  # features without time match no time filter
    for bad in ("limit=0", "limit=10001", "bbox=1,2,3", "datetime=yesterday", "datetime=0.5", "f=html"):
        response = client.get(f"/ogc/collections/districts/items?{bad}")
        assert response.status_code == 400, bad
        assert response.get_json()["error"]["code"] == "validation_failed"


def test_the_case_list_pages_with_next_links(
    client: FlaskClient, staff: dict[str, str], post_some_cases: None
) -> None:
    # Before: the GeoJSON case list silently answered one page with no way to the next.
    page = client.get("/api/v1/cases?format=geojson&per_page=5&status=", headers=staff)
    body = page.get_json()
    assert body["total"] > 5
    links = rels(body)
    assert "next" in links and "prev" not in links
    assert f'<{links["next"]}>; rel="next"' in page.headers["Link"]
    assert dict(parse_qsl(urlsplit(links["next"]).query)) == {
        "format": "geojson",
        "per_page": "5",
        "page": "2",
    }
    second = client.get(links["next"], headers=staff)
    assert 'rel="prev"' in " ".join(second.headers.getlist("Link"))
    as_json = client.get("/api/v1/cases?per_page=5", headers=staff)
    assert 'rel="next"' in as_json.headers["Link"]


def test_owslib_lists_collections_and_pages_through_every_case(
    app: Flask, session: Session, locator_cache: LocatorCache
) -> None:
    result = seed_demo_caseload(session, locator_cache.get(lambda: session), reports=200, seed=11)
    session.commit()
    all_ids = set(session.scalars(select(Case.id)))
    assert result.cases > 100
    token = make_token(session, make_user(session, "committee"))
    session.commit()
    headers_before = dict(owslib_api.REQUEST_HEADERS)  # OWSLib updates this module-level dict
    try:
        with live_server(app) as (url, _):
            anonymous = Features(f"{url}/ogc/")
            assert set(anonymous.feature_collections()) == PUBLIC_COLLECTIONS
            api = Features(f"{url}/ogc/", headers={"Authorization": f"Bearer {token}"})
            assert set(api.feature_collections()) == {c.id for c in COLLECTIONS}
            assert api.conformance()["conformsTo"]
            seen: list[int] = []
            params: dict[str, Any] = {"limit": 50}
            while True:
                page = api.collection_items("cases", **params)
                assert page["numberMatched"] == len(all_ids)
                seen += [f["id"] for f in page["features"]]
                following = [link["href"] for link in page["links"] if link["rel"] == "next"]
                if not following:
                    break
                params = dict(parse_qsl(urlsplit(following[0]).query))
            districts = api.collection_items("districts", limit=100)
            assert districts["numberReturned"] == 16
    finally:
        owslib_api.REQUEST_HEADERS.clear()
        owslib_api.REQUEST_HEADERS.update(headers_before)
    assert len(seen) == len(set(seen)) == len(all_ids) and set(seen) == all_ids
