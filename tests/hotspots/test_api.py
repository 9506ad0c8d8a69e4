"""Hotspots: created by dispatchers in a border zone (the pair comes from the point), edited, retired;
weighted by their recent dumping cases; proposed from clusters of cases (DBSCAN in metres)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from coordinator.cases.models import Case
from coordinator.geolocation.services import LocatorCache
from coordinator.hotspots.models import Hotspot
from coordinator.hotspots.services import TAU_DAYS, dbscan, propose, weights
from tests.factories import bearer, make_token, make_user

ZHELIN = (121.435, 30.818)  # 柘林, ~150 m from 金山


def tokens(session: Session) -> tuple[str, str, str]:
    dispatcher = make_token(session, make_user(session, "dispatcher", district="310120"))
    member = make_token(session, make_user(session, "reporter"))
    committee = make_token(session, make_user(session, "committee"))
    session.commit()
    return dispatcher, member, committee


def report(client: FlaskClient, token: str, lon: float, lat: float, category: str = "01-11") -> int:
    response = client.post(
        "/api/v1/reports",
        json={
            "category": category,
            "lon": lon,
            "lat": lat,
            "description": "偷倒建筑垃圾",
            "source": "grid_worker",
        },
        headers=bearer(token),
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["case_id"])


def test_create_edit_retire_and_weight(client: FlaskClient, session: Session) -> None:
    dispatcher, reporter, committee = tokens(session)
    body = {"name": "柘林–漕泾 交界沟渠", "kind": "ditch", "lon": ZHELIN[0], "lat": ZHELIN[1]}
    created = client.post("/api/v1/hotspots", json=body, headers=bearer(dispatcher))
    assert created.status_code == 201, created.get_json()
    feature = created.get_json()
    assert feature["geometry"] == {"type": "Point", "coordinates": [ZHELIN[0], ZHELIN[1]]}
    props = feature["properties"]
    assert props["pair"] == ["310116", "310120"] and props["kind_label"] == "沟渠"
    assert props["weight"] == 1.0 and props["recent_cases"] == 0

    # Two dumping cases near it raise its weight; a case 2 km away does not.
    report(client, reporter, ZHELIN[0] + 0.0005, ZHELIN[1])
    report(client, reporter, ZHELIN[0], ZHELIN[1] + 0.0015, category="01-10")
    report(client, reporter, ZHELIN[0] + 0.02, ZHELIN[1] + 0.01)
    again = client.get(f"/api/v1/hotspots/{feature['id']}", headers=bearer(committee)).get_json()[
        "properties"
    ]
    assert again["recent_cases"] == 2 and 2.9 < again["weight"] <= 3.0

    outside = client.post(
        "/api/v1/hotspots", json={**body, "lon": 121.47, "lat": 30.92}, headers=bearer(dispatcher)
    )  # 南桥, far from any border
    assert outside.status_code == 422 and outside.get_json()["error"]["code"] == "not_in_border_zone"
    assert client.post("/api/v1/hotspots", json=body, headers=bearer(committee)).status_code == 403

    patched = client.patch(
        f"/api/v1/hotspots/{feature['id']}",
        json={"name": "柘林–漕泾 沟渠（东段）", "min_patrols_per_week": 2},
        headers=bearer(dispatcher),
    )
    assert patched.status_code == 200
    assert patched.get_json()["properties"]["min_patrols_per_week"] == 2
    half = client.patch(f"/api/v1/hotspots/{feature['id']}", json={"lon": 121.4}, headers=bearer(dispatcher))
    assert half.status_code == 422

    retired = client.post(f"/api/v1/hotspots/{feature['id']}/retire", headers=bearer(dispatcher))
    assert retired.status_code == 200 and retired.get_json()["properties"]["active"] is False
    listed = client.get("/api/v1/hotspots", headers=bearer(committee)).get_json()["features"]
    assert feature["id"] not in [f["id"] for f in listed]
    everything = client.get("/api/v1/hotspots?active=false", headers=bearer(committee)).get_json()["features"]
    assert feature["id"] in [f["id"] for f in everything]
    late = client.patch(f"/api/v1/hotspots/{feature['id']}", json={"note": "x"}, headers=bearer(dispatcher))
    assert late.status_code == 409


def test_weight_decays_with_age(session: Session) -> None:
    hotspot = Hotspot(
        id=10**6,
        name="x",
        kind="ditch",
        lon=ZHELIN[0],
        lat=ZHELIN[1],
        district_a="310116",
        district_b="310120",
    )
    now = datetime.now(UTC)
    # No cases: 1.0. The formula's decay per case: exp(-age / TAU_DAYS).
    assert weights(session, [hotspot], now=now)[hotspot.id].value == 1.0
    assert round(float(np.exp(-30 / TAU_DAYS)), 2) == 0.37


def test_dbscan_in_metres() -> None:
    # Two groups 50 m apart inside, 5 km between them, one lonely point.
    points = np.array([[0, 0], [50, 0], [0, 50], [5000, 0], [5050, 0], [5000, 50], [20000, 0]], dtype=float)
    labels = dbscan(points, eps=100.0, min_samples=3)
    assert labels[:3] == [labels[0]] * 3 and labels[3:6] == [labels[3]] * 3
    assert labels[0] != labels[3] and labels[6] == -1


def test_proposals_are_clusters_of_recent_dumping_with_count_and_dates(
    client: FlaskClient, session: Session
) -> None:
    dispatcher, reporter, committee = tokens(session)
    # Three cases ~170 m apart (beyond the 150 m dedup radius of 01-11, within DBSCAN's 200 m).
    for i in (-1, 0, 1):
        report(client, reporter, ZHELIN[0], ZHELIN[1] + i * 0.0015)
    proposals = "/api/v1/hotspots/proposals?days=7&eps_m=200&min_cases=3"
    response = client.get(proposals, headers=bearer(dispatcher))
    assert response.status_code == 200
    features = response.get_json()["features"]
    assert len(features) == 1
    props = features[0]["properties"]
    assert props["case_count"] == 3 and props["pair"] == ["310116", "310120"]
    assert props["first_case_at"] <= props["last_case_at"] and "3 起" in props["explanation"]
    # Once a hotspot covers the cluster, it is no longer proposed.
    lon, lat = features[0]["geometry"]["coordinates"]
    made = client.post(
        "/api/v1/hotspots",
        json={"name": "提议热点", "kind": "vacant_lot", "lon": lon, "lat": lat, "from_proposal": True},
        headers=bearer(dispatcher),
    )
    assert made.status_code == 201 and made.get_json()["properties"]["origin"] == "proposal"
    later = client.get(proposals, headers=bearer(dispatcher))
    assert later.get_json()["features"] == []
    assert client.get("/api/v1/hotspots/proposals", headers=bearer(committee)).status_code == 403
    assert client.get("/api/v1/hotspots/proposals?days=0", headers=bearer(dispatcher)).status_code == 422


def test_demo_hotspots_keep_the_callers_transaction(
    session: Session, session_factory: sessionmaker[Session], locator_cache: LocatorCache
) -> None:
    from coordinator.hotspots.demo import seed_demo_hotspots
    from coordinator.hotspots.services import list_hotspots

    before = make_user(session, "committee")  # written earlier in the same transaction (seed demo)
    created = seed_demo_hotspots(session)  # as `seed demo` runs it: the locator built from the session
    assert created >= 5 and session.get(type(before), before.id) is not None
    names = [h.name for h in list_hotspots(session)]
    assert "【演示】柘林–漕泾 交界沟渠" in names and len(set(names)) == len(names)
    assert all(h.pair[0] < h.pair[1] for h in list_hotspots(session))
    assert seed_demo_hotspots(session, locator_cache.get(session_factory)) == 0  # idempotent


def test_voided_cases_count_neither_in_the_weight_nor_in_proposals(
    client: FlaskClient, session: Session
) -> None:
    _, reporter, _ = tokens(session)
    # Three dumping cases ~170 m apart: a cluster (DBSCAN 200 m, 3 cases) and 3 cases near ZHELIN.
    ids = [report(client, reporter, ZHELIN[0], ZHELIN[1] + i * 0.0015) for i in (-1, 0, 1)]
    hotspot = Hotspot(
        id=10**6 + 1,
        name="x",
        kind="ditch",
        lon=ZHELIN[0],
        lat=ZHELIN[1],
        district_a="310116",
        district_b="310120",
    )
    now = datetime.now(UTC)
    assert weights(session, [hotspot], now=now)[hotspot.id].cases == 3
    assert [p.case_count for p in propose(session, now=now, days=7)] == [3]
    # One of them is voided (作废, status "void"): it is not dumping that happened.
    session.get_one(Case, ids[0]).status = "void"
    session.flush()
    assert weights(session, [hotspot], now=now)[hotspot.id].cases == 2
    assert propose(session, now=now, days=7) == []  # two cases are no cluster of three
