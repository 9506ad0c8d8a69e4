"""Patrol logs: a patrol that finds dumping opens a case routed like any other report (source
joint_patrol); "nothing found" is recorded; the roster counts patrols done and cases found."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.models import Report
from coordinator.squads.services import get_squad
from coordinator.worktime import SHANGHAI
from tests.factories import bearer, make_token, make_user
from tests.rosters.conftest import START


def published_roster(client: FlaskClient, token: str) -> dict[str, Any]:
    body = {"start": START.isoformat(), "weeks": 1, "options": {"solver": "greedy"}}
    roster = client.post("/api/v1/rosters", json=body, headers=bearer(token)).get_json()
    published = client.post(f"/api/v1/rosters/{roster['id']}/publish", headers=bearer(token))
    assert published.status_code == 200
    return published.get_json()


def test_a_patrol_that_finds_dumping_opens_a_routed_case(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    roster = published_roster(client, dispatcher_token)
    shift = next(s for s in roster["shifts"] if "漕泾" in s["hotspot"]["name"])
    squad_code = next(q["code"] for q in shift["squads"] if q["district"] == "310120")
    member = make_user(demo_hotspots, "squad_member", squad=get_squad(demo_hotspots, squad_code))
    token = make_token(demo_hotspots, member)
    demo_hotspots.commit()
    start = datetime.combine(START, datetime.min.time(), SHANGHAI) + timedelta(hours=20)
    body = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=3)).isoformat(),
        "members": ["张伟", "李强"],
        "outcome": "found",
        "note": "沟渠边新倒建筑垃圾约 5 方",
        "reports": [{"category": "01-11", "lon": 121.435, "lat": 30.818, "description": "沟渠边建筑垃圾"}],
    }
    url = f"/api/v1/roster-shifts/{shift['id']}/patrol-logs"
    response = client.post(url, json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    log = response.get_json()
    assert log["outcome"] == "found" and log["members"] == ["张伟", "李强"]
    [finding] = log["findings"]
    assert finding["kind"] == "opened"
    routing = finding["routing"]
    # Routed like any other report at this point: 柘林 leads, 漕泾 (across the border) is partner.
    assert routing["rule"] == "member-border-zone"
    assert routing["lead"]["code"] == "SQ-310120118"
    assert [p["code"] for p in routing["partners"]] == ["SQ-310116112"]
    report = demo_hotspots.scalars(select(Report).where(Report.case_id == finding["case_id"])).one()
    assert report.source == "joint_patrol" and report.submitted_by_id == member.id

    case = client.get(f"/api/v1/cases/{finding['case_id']}", headers=bearer(dispatcher_token)).get_json()
    assert case["reports"][0]["source"] == "joint_patrol"

    # The roster counts the patrol done and the case found for the hotspot.
    again = client.get(f"/api/v1/rosters/{roster['id']}", headers=bearer(dispatcher_token)).get_json()
    hotspot = next(h for h in again["hotspots"] if h["id"] == shift["hotspot"]["id"])
    assert hotspot["patrols_done"] == 1 and hotspot["cases_found"] == 1
    listed = client.get(url, headers=bearer(token)).get_json()["patrol_logs"]
    assert [entry["id"] for entry in listed] == [log["id"]]

    # Another patrol of the same shift links that case instead of opening a new one.
    linked = client.post(
        url,
        json={**body, "reports": [], "linked_cases": [case["number"]]},
        headers=bearer(token),
    )
    assert linked.status_code == 201
    assert [(f["case_id"], f["kind"]) for f in linked.get_json()["findings"]] == [(case["id"], "linked")]


def test_nothing_found_and_who_may_record(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    roster = published_roster(client, dispatcher_token)
    shift = roster["shifts"][0]
    url = f"/api/v1/roster-shifts/{shift['id']}/patrol-logs"
    start = datetime.combine(START, datetime.min.time(), SHANGHAI) + timedelta(hours=20)
    body = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=2)).isoformat(),
        "members": ["王芳"],
        "outcome": "nothing_found",
    }
    outsider = make_token(
        demo_hotspots,
        make_user(demo_hotspots, "squad_leader", squad=get_squad(demo_hotspots, "SQ-310115005")),
    )
    demo_hotspots.commit()
    assert client.post(url, json=body, headers=bearer(outsider)).status_code == 403
    inconsistent = client.post(
        url, json={**body, "linked_cases": ["JJ-2026-999999"]}, headers=bearer(dispatcher_token)
    )
    assert inconsistent.status_code == 422
    assert inconsistent.get_json()["error"]["code"] == "inconsistent_outcome"
    backwards = client.post(
        url,
        json={**body, "ended_at": (start - timedelta(hours=1)).isoformat()},
        headers=bearer(dispatcher_token),
    )
    assert backwards.status_code == 422
    ok = client.post(url, json=body, headers=bearer(dispatcher_token))
    assert ok.status_code == 201 and ok.get_json()["findings"] == []
