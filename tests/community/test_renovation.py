"""Renovation filings: filed by the compound's property manager, returned with a reason, resubmitted
and accepted; inspections, a failed spot check opening a routed case; renovation-waste and flat-level
cases listing the filings; owner contact per role; the committee sees counts only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import ContactAccessLog
from coordinator.squads.models import Squad
from tests.community.conftest import LAT, LON, People
from tests.factories import make_user

# A small compound polygon around the test point (about 100 m × 100 m).
POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [
            [LON - 0.0005, LAT - 0.0005],
            [LON + 0.0005, LAT - 0.0005],
            [LON + 0.0005, LAT + 0.0005],
            [LON - 0.0005, LAT + 0.0005],
            [LON - 0.0005, LAT - 0.0005],
        ]
    ],
}
FILING: dict[str, Any] = {
    "flat": {"building": "3", "unit": "2", "room": "501"},
    "owner": {"name": "李四", "phone": "13912345678"},
    "contractor": {"name": "沪南装饰有限公司", "qualification": "建筑装修装饰工程专业承包二级"},
    "planned_start": "2026-12-01",
    "planned_end": "2027-02-28",
    "waste_plan": {
        "hauler": "奉贤环卫清运队",
        "schedule": "每周二、五上午",
        "destination": "奉贤区建筑垃圾消纳场",
    },
}


def setup_compound(people: People, session: Session) -> int:
    """The district's dispatcher registers a compound managed by `pm`; the town's squad member."""
    people.add("pm", "property_manager")
    people.add("other_pm", "property_manager")
    people.add("dispatcher", "dispatcher", district="310120")
    people.add("committee", "committee")
    made = people.call(
        "dispatcher",
        "POST",
        "/api/v1/compounds",
        {
            "name": "海湾花园",
            "address": "奉贤区海湾路 88 号",
            "geometry": POLYGON,
            "managers": [people.users["pm"].username],
        },
    )
    assert made.status_code == 201, made.get_json()
    compound = made.get_json()
    assert compound["district"] == "310120" and compound["town"] is not None
    squad = session.scalars(select(Squad).where(Squad.jurisdiction_code == compound["town"])).first()
    assert squad is not None
    people.add("member", "squad_member", squad=squad)
    return int(compound["id"])


def test_filing_returned_resubmitted_accepted_and_spot_check_opens_a_case(
    people: People, session: Session
) -> None:
    compound_id = setup_compound(people, session)
    assert [c["name"] for c in people.call("pm", "GET", "/api/v1/compounds").get_json()["compounds"]] == [
        "海湾花园"
    ]
    assert people.call("other_pm", "GET", "/api/v1/compounds").get_json()["compounds"] == []
    stranger = people.call(
        "other_pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id}
    )
    assert stranger.status_code == 403

    filed = people.call("pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id})
    assert filed.status_code == 201, filed.get_json()
    filing = filed.get_json()
    fid = filing["id"]
    assert filing["state"] == "submitted" and filing["number"].startswith("ZX-")
    assert filing["owner"] == {"name": "李四", "phone": "13912345678"}  # the manager who collected it

    returned = people.call(
        "dispatcher",
        "POST",
        f"/api/v1/renovation-filings/{fid}/return",
        {"reasons": ["缺少施工单位资质证书"]},
    )
    assert returned.status_code == 200
    assert returned.get_json()["state"] == "returned"
    assert returned.get_json()["return_reasons"] == ["缺少施工单位资质证书"]
    assert (
        people.call("dispatcher", "POST", f"/api/v1/renovation-filings/{fid}/accept", {}).status_code == 409
    )

    resubmitted = people.call(
        "pm",
        "POST",
        f"/api/v1/renovation-filings/{fid}/resubmit",
        {
            "contractor": {"name": "沪南装饰有限公司", "qualification": "二级（证书编号 D231234567）"},
            "note": "已补充",
        },
    )
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert resubmitted.get_json()["state"] == "resubmitted"
    assert resubmitted.get_json()["contractor"]["qualification"] == "二级（证书编号 D231234567）"
    accepted = people.call("dispatcher", "POST", f"/api/v1/renovation-filings/{fid}/accept", {})
    assert accepted.status_code == 200
    assert [e["kind"] for e in accepted.get_json()["events"]] == ["submitted", "return", "resubmit", "accept"]
    assert (
        people.call("pm", "POST", f"/api/v1/renovation-filings/{fid}/start", {}).get_json()["state"]
        == "in_works"
    )

    # The town's squad sees the owner masked; the committee may not read filings, only counts.
    seen = people.call("member", "GET", f"/api/v1/renovation-filings/{fid}").get_json()
    assert seen["owner"] == {"name": "李*", "phone": "139****5678"}
    assert people.call("committee", "GET", f"/api/v1/renovation-filings/{fid}").status_code == 403
    stats = people.call("committee", "GET", "/api/v1/renovation-stats").get_json()
    assert {"district": "310120", "state": "in_works", "count": 1} in stats["filings"]

    # A property patrol passes; the 城管 spot check fails and files a routed case through intake.
    patrol = people.call(
        "pm",
        "POST",
        f"/api/v1/renovation-filings/{fid}/inspections",
        {"kind": "property_patrol", "result": "pass"},
    )
    assert patrol.status_code == 201
    assert (
        people.call(
            "pm",
            "POST",
            f"/api/v1/renovation-filings/{fid}/inspections",
            {"kind": "spot_check", "result": "pass"},
        ).status_code
        == 403
    )
    no_violation = people.call(
        "member",
        "POST",
        f"/api/v1/renovation-filings/{fid}/inspections",
        {"kind": "spot_check", "result": "fail"},
    )
    assert no_violation.status_code == 422
    failed = people.call(
        "member",
        "POST",
        f"/api/v1/renovation-filings/{fid}/inspections",
        {"kind": "spot_check", "result": "fail", "notes": "拆除承重墙", "violation": "illegal_renovation"},
    )
    assert failed.status_code == 201, failed.get_json()
    number = failed.get_json()["case_number"]
    assert number is not None and failed.get_json()["violation_category"] == "05-51"
    cases = people.call("dispatcher", "GET", "/api/v1/cases?category=05-51").get_json()["cases"]
    case = next(c for c in cases if c["number"] == number)
    detail = people.call("dispatcher", "GET", f"/api/v1/cases/{case['id']}").get_json()
    assert detail["routing"]["lead"] is not None  # routed like any report
    assert detail["reports"][0]["flat"] == {"building": "3", "unit": "2", "room": "501"}
    assert [f["number"] for f in detail["renovation_filings"]] == [filing["number"]]  # the flat's filing

    # Completion passes → inspected → closed.
    done = people.call(
        "pm",
        "POST",
        f"/api/v1/renovation-filings/{fid}/inspections",
        {"kind": "completion", "result": "pass"},
    )
    assert done.status_code == 201
    assert people.call("pm", "GET", f"/api/v1/renovation-filings/{fid}").get_json()["state"] == "inspected"
    closed = people.call("pm", "POST", f"/api/v1/renovation-filings/{fid}/close", {})
    assert closed.get_json()["state"] == "closed"
    listed = people.call("dispatcher", "GET", "/api/v1/renovation-filings?state=closed").get_json()["filings"]
    assert [f["id"] for f in listed] == [fid]
    reads = session.scalars(
        select(ContactAccessLog).where(ContactAccessLog.subject_type == "renovation_filing")
    )
    assert {r.role for r in reads} >= {"property_manager"}


def test_renovation_waste_report_near_the_compound_lists_active_filings(
    people: People, session: Session
) -> None:
    compound_id = setup_compound(people, session)
    fid = people.call(
        "pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id}
    ).get_json()["id"]
    waste = {
        "category": "01-12",
        "lon": LON + 0.002,
        "lat": LAT,
        "description": "路边装修垃圾",
    }  # ~190 m east of the centre
    before = people.report("citizen", **waste).get_json()["case_id"]
    # Not yet accepted: not an active filing.
    assert people.call("member", "GET", f"/api/v1/cases/{before}").get_json()["renovation_filings"] == []
    assert (
        people.call("dispatcher", "POST", f"/api/v1/renovation-filings/{fid}/accept", {}).status_code == 200
    )
    listed = people.call("member", "GET", f"/api/v1/cases/{before}").get_json()["renovation_filings"]
    assert [(f["id"], f["state"]) for f in listed] == [(fid, "accepted")]
    assert 100 < listed[0]["distance_m"] < 200  # from the polygon's edge
    assert listed[0]["waste_plan"]["hauler"] == "奉贤环卫清运队"
    assert "owner" not in listed[0]
    # The committee reads cases but not people's flats.
    assert people.call("committee", "GET", f"/api/v1/cases/{before}").get_json()["renovation_filings"] == []
    # Far away (~1 km): nothing listed.
    far = people.report("citizen", category="01-12", lon=LON + 0.011, lat=LAT).get_json()["case_id"]
    assert people.call("member", "GET", f"/api/v1/cases/{far}").get_json()["renovation_filings"] == []


def test_group_renting_report_at_the_flat_links_its_filing(people: People, session: Session) -> None:
    compound_id = setup_compound(people, session)
    filing = people.call(
        "pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id}
    ).get_json()
    sent = people.report(
        "citizen", category="05-52", flat={"building": "3号楼", "unit": "2单元", "room": "501室"}
    )
    assert sent.status_code == 201, sent.get_json()
    detail = people.call("dispatcher", "GET", f"/api/v1/cases/{sent.get_json()['case_id']}").get_json()
    assert [f["id"] for f in detail["renovation_filings"]] == [filing["id"]]
    other_flat = people.report(
        "citizen", category="05-52", lon=LON + 0.001, flat={"building": "5", "room": "101"}
    )
    detail = people.call("dispatcher", "GET", f"/api/v1/cases/{other_flat.get_json()['case_id']}").get_json()
    assert detail["renovation_filings"] == []


def test_compound_registration_is_the_districts(people: People, session: Session) -> None:
    people.add("far_dispatcher", "dispatcher", district="310115")
    people.add("pm", "property_manager")
    body = {
        "name": "X",
        "address": "Y",
        "geometry": {"type": "Point", "coordinates": [LON, LAT]},
        "managers": [people.users["pm"].username],
    }
    assert people.call("far_dispatcher", "POST", "/api/v1/compounds", body).status_code == 403
    not_pm = make_user(session, "reporter")
    session.commit()
    bad = people.call("admin", "POST", "/api/v1/compounds", {**body, "managers": [not_pm.username]})
    assert bad.status_code == 422
    broken = people.call(
        "admin",
        "POST",
        "/api/v1/compounds",
        {**body, "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT]]]}},
    )
    assert broken.status_code == 422
    ok = people.call("admin", "POST", "/api/v1/compounds", body)
    assert ok.status_code == 201
    # A clockwise ring comes back wound as RFC 7946 says (the contract check holds every answer to it).
    clockwise = {"type": "Polygon", "coordinates": [list(reversed(POLYGON["coordinates"][0]))]}
    rewound = people.call("admin", "POST", "/api/v1/compounds", {**body, "geometry": clockwise})
    assert rewound.status_code == 201
    assert rewound.get_json()["geometry"]["coordinates"][0] != clockwise["coordinates"][0]


# 金山 (310116), away from its borders; and a point in 嘉兴 (Zhejiang), outside the alliance.
JINSHAN_POINT = (121.25, 30.80)
OUTSIDE_POINT = (120.85, 30.75)


def test_compound_edit_is_the_districts(people: People, session: Session) -> None:
    """The district's dispatcher renames a compound, re-addresses it and replaces its managers; a new
    point locates it again — into another district only for whoever manages there (an admin)."""
    pm, pm2 = people.add("pm", "property_manager"), people.add("pm2", "property_manager")
    people.add("dispatcher", "dispatcher", district="310120")
    people.add("far_dispatcher", "dispatcher", district="310116")
    made = people.call(
        "dispatcher",
        "POST",
        "/api/v1/compounds",
        {"name": "海湾花园", "address": "海湾路 88 号", "geometry": POLYGON, "managers": [pm.username]},
    ).get_json()
    url = f"/api/v1/compounds/{made['id']}"

    changes = {"name": "海湾花园二期", "address": "海湾路 90 号", "managers": [pm2.username]}
    edited = people.call("dispatcher", "PATCH", url, changes)
    assert edited.status_code == 200, edited.get_json()
    assert {k: edited.get_json()[k] for k in ("name", "address", "managers", "district", "town")} == {
        "name": "海湾花园二期",
        "address": "海湾路 90 号",
        "managers": [pm2.username],
        "district": "310120",
        "town": made["town"],
    }
    assert edited.get_json()["geometry"] == made["geometry"]  # not sent: kept
    listed = people.call("pm2", "GET", "/api/v1/compounds").get_json()["compounds"]
    assert [c["id"] for c in listed] == [made["id"]]
    assert people.call("pm", "GET", "/api/v1/compounds").get_json()["compounds"] == []
    assert people.call("dispatcher", "PATCH", url, {}).get_json()["name"] == "海湾花园二期"  # nothing sent

    assert people.call("far_dispatcher", "PATCH", url, {"name": "抢来的"}).status_code == 403
    jinshan = {"geometry": {"type": "Point", "coordinates": list(JINSHAN_POINT)}}
    moved_away = people.call("dispatcher", "PATCH", url, jinshan)
    assert moved_away.status_code == 403
    assert moved_away.get_json()["error"]["details"] == {"district": "310116"}
    outside = {"geometry": {"type": "Point", "coordinates": list(OUTSIDE_POINT)}}
    refused = people.call("admin", "PATCH", url, outside)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "outside_alliance"
    bad_manager = people.call("dispatcher", "PATCH", url, {"managers": ["nobody-here"]})
    assert bad_manager.status_code == 422
    assert people.call("dispatcher", "GET", "/api/v1/compounds").get_json()["compounds"][0]["managers"] == [
        pm2.username
    ]  # every refusal changed nothing

    moved = people.call("admin", "PATCH", url, jinshan)
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["district"], moved.get_json()["lon"]) == ("310116", JINSHAN_POINT[0])
    assert moved.get_json()["town"] not in (None, made["town"])
    assert people.call("far_dispatcher", "PATCH", url, {"name": "金山花园"}).status_code == 200
    assert people.call("dispatcher", "GET", "/api/v1/compounds").get_json()["compounds"] == []
    assert people.call("admin", "PATCH", "/api/v1/compounds/999999", {"name": "X"}).status_code == 404


def test_a_compound_is_retired_once_no_filing_of_it_is_open(people: People, session: Session) -> None:
    """The district's dispatcher retires a compound registered by mistake: refused while a filing waits
    for the district; once it is returned, retired — gone from the lists, no new filing and no
    resubmission, its filing still readable."""
    compound_id = setup_compound(people, session)
    people.add("far_dispatcher", "dispatcher", district="310116")
    url = f"/api/v1/compounds/{compound_id}/retire"
    fid = people.call(
        "pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id}
    ).get_json()["id"]
    number = people.call("pm", "GET", f"/api/v1/renovation-filings/{fid}").get_json()["number"]

    assert people.call("far_dispatcher", "POST", url).status_code == 403
    blocked = people.call("dispatcher", "POST", url)
    assert blocked.status_code == 409, blocked.get_json()
    assert blocked.get_json()["error"]["code"] == "compound_has_open_filings"
    assert blocked.get_json()["error"]["details"] == {"filings": [number]}
    assert [c["id"] for c in people.call("pm", "GET", "/api/v1/compounds").get_json()["compounds"]] == [
        compound_id
    ]

    returned = people.call(
        "dispatcher", "POST", f"/api/v1/renovation-filings/{fid}/return", {"reasons": ["图纸不全"]}
    )
    assert returned.status_code == 200
    retired = people.call("dispatcher", "POST", url)
    assert retired.status_code == 200, retired.get_json()
    assert retired.get_json()["active"] is False
    for who in ("pm", "dispatcher"):
        assert people.call(who, "GET", "/api/v1/compounds").get_json()["compounds"] == []
    new = people.call("pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id})
    assert new.status_code == 409 and new.get_json()["error"]["code"] == "compound_retired"
    again = people.call("pm", "POST", f"/api/v1/renovation-filings/{fid}/resubmit", {"note": "已补充"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "compound_retired"
    kept = people.call("pm", "GET", f"/api/v1/renovation-filings/{fid}")
    assert kept.status_code == 200 and kept.get_json()["state"] == "returned"
    assert people.call("dispatcher", "POST", url).status_code == 404
    edit = people.call("dispatcher", "PATCH", f"/api/v1/compounds/{compound_id}", {"name": "X"})
    assert edit.status_code == 404
