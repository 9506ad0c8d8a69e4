"""Meetings over HTTP: a series and its meetings, the host's record, action items on case detail, the
calendar feed (parsed with icalendar) and its secret URL tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy.orm import Session

from coordinator.worktime import SHANGHAI
from tests.factories import bearer, make_token, make_user
from tests.meetings.conftest import CALENDAR, joint_case


@pytest.fixture
def app_calendar(app: Flask) -> None:
    """The app plans with a calendar that knows 2027 (an operator confirmed it)."""
    app.extensions["coordinator.calendar"] = CALENDAR


@pytest.fixture
def people(session: Session) -> dict[str, dict[str, str]]:
    users = {
        "desk": make_user(session, "dispatcher"),
        "fengxian": make_user(session, "dispatcher", district="310120"),
        "jinshan": make_user(session, "dispatcher", district="310116"),
        "committee": make_user(session, "committee"),
        "leader": make_user(session, "squad_leader"),
    }
    headers = {name: bearer(make_token(session, user)) for name, user in users.items()}
    session.commit()
    return headers


SERIES = {
    "code": "ALLIANCE",
    "name": "交界地带联席会议",
    "scope": "alliance",
    "day_of_month": 1,
    "start_time": "14:30",
    "host_rotation": ["310120", "310116", "310117", "310115"],
    "location": "奉贤区城管执法局",
}


def test_series_meetings_record_and_action_items(
    client: FlaskClient, session: Session, people: dict[str, dict[str, str]], app_calendar: None
) -> None:
    assert client.post("/api/v1/meetings/series", json=SERIES, headers=people["committee"]).status_code == 403
    assert client.post("/api/v1/meetings/series", json=SERIES, headers=people["fengxian"]).status_code == 403
    response = client.post("/api/v1/meetings/series", json=SERIES, headers=people["desk"])
    assert response.status_code == 201, response.get_json()
    series = response.get_json()
    assert series["plan"]["created"] == 6 and series["plan"]["blocked_year"] is None
    upcoming = series["upcoming"]
    assert (
        len(upcoming) == 6 and [m["host"]["code"] for m in upcoming[:4]] != [upcoming[0]["host"]["code"]] * 4
    )
    assert len({m["host"]["code"] for m in upcoming[:4]}) == 4
    assert all(datetime.fromisoformat(m["starts_at"]).strftime("%H:%M") == "14:30" for m in upcoming)
    assert client.post("/api/v1/meetings/series", json=SERIES, headers=people["desk"]).status_code == 409

    meeting = next(m for m in upcoming if m["host"]["code"] == "310116")  # hosted by 金山
    url = f"/api/v1/meetings/{meeting['id']}"
    case = joint_case(session, overdue=True, now=datetime.now(SHANGHAI))
    session.commit()

    # the host's dispatcher keeps the record; others read it
    agenda = {"items": [{"title": "联合整治部署", "detail": "沟渠、断头路"}]}
    assert client.put(f"{url}/agenda", json=agenda, headers=people["fengxian"]).status_code == 403
    assert client.put(f"{url}/agenda", json=agenda, headers=people["committee"]).status_code == 403
    assert client.put(f"{url}/agenda", json=agenda, headers=people["jinshan"]).status_code == 200
    built = client.post(f"{url}/agenda/build", headers=people["jinshan"]).get_json()
    kinds = [a["kind"] for a in built["agenda"]]
    assert kinds[-1] == "host" and "overdue_cases" in kinds and built["can_edit_record"] is True
    overdue = next(a for a in built["agenda"] if a["kind"] == "overdue_cases")
    assert case.number in {c["number"] for c in overdue["cases"]}
    minutes = {"minutes": "会议纪要：……", "decisions": ["12月底前清运完毕"]}
    body = client.put(f"{url}/minutes", json=minutes, headers=people["jinshan"]).get_json()
    assert body["decisions"] == ["12月底前清运完毕"] and body["status"] == "scheduled"  # not begun yet
    attendance = {
        "districts": [
            {"district": "310116", "status": "present", "attendees": 3},
            {"district": "310120", "status": "absent"},
        ]
    }
    body = client.put(f"{url}/attendance", json=attendance, headers=people["jinshan"]).get_json()
    assert [(a["district"]["code"], a["status"]) for a in body["attendance"]] == [
        ("310116", "present"),
        ("310120", "absent"),
    ]
    bad = {"districts": [{"district": "310101", "status": "present"}]}  # 黄浦: not in the alliance
    assert client.put(f"{url}/attendance", json=bad, headers=people["jinshan"]).status_code == 422

    item = {
        "title": "沟渠建筑垃圾联合清运",
        "owner_district": "310120",
        "due_date": "2026-12-31",
        "case_numbers": [case.number],
    }
    response = client.post(f"{url}/action-items", json=item, headers=people["jinshan"])
    assert response.status_code == 201, response.get_json()
    action = response.get_json()
    assert action["case_numbers"] == [case.number] and action["owner_district"]["name"] == "奉贤区"
    assert (
        client.post(
            f"{url}/action-items", json={**item, "owner_squad": "SQ-X"}, headers=people["jinshan"]
        ).status_code
        == 422
    )

    # an open action item shows on its case (additive field of the case detail)…
    detail = client.get(f"/api/v1/cases/{case.id}", headers=people["committee"]).get_json()
    assert [a["id"] for a in detail["action_items"]] == [action["id"]]
    assert detail["action_items"][0]["owner"] == "奉贤区"
    # …until its owner's dispatcher marks it done (the committee may not)
    done = {"status": "done", "done_note": "已清运"}
    assert (
        client.patch(
            f"/api/v1/action-items/{action['id']}", json=done, headers=people["committee"]
        ).status_code
        == 403
    )
    unchanged = dict.fromkeys(("status", "done_note", "due_date", "title", "case_numbers"), None)
    kept = client.patch(f"/api/v1/action-items/{action['id']}", json=unchanged, headers=people["fengxian"])
    assert kept.status_code == 200 and kept.get_json()["title"] == action["title"]
    assert kept.get_json()["status"] == "open"
    response = client.patch(f"/api/v1/action-items/{action['id']}", json=done, headers=people["fengxian"])
    assert response.status_code == 200 and response.get_json()["status"] == "done"
    assert (
        client.get(f"/api/v1/cases/{case.id}", headers=people["committee"]).get_json()["action_items"] == []
    )

    # the committee reads everything
    listed = client.get("/api/v1/action-items?status=done", headers=people["committee"]).get_json()
    assert [a["id"] for a in listed["action_items"]] == [action["id"]]
    read = client.get(url, headers=people["committee"]).get_json()
    assert read["minutes"] == "会议纪要：……" and read["can_edit_record"] is False
    assert client.get(url, headers=people["leader"]).status_code == 200


def test_a_series_is_read_and_changed_by_whoever_manages_it(
    client: FlaskClient, people: dict[str, dict[str, str]], app_calendar: None
) -> None:
    created = client.post("/api/v1/meetings/series", json=SERIES, headers=people["desk"]).get_json()
    url = f"/api/v1/meetings/series/{created['id']}"
    read = client.get(url, headers=people["committee"]).get_json()
    assert read["code"] == "ALLIANCE" and read["plan"] is None
    assert [m["id"] for m in read["upcoming"]] == [m["id"] for m in created["upcoming"]]

    later = {"start_time": "15:00"}
    assert client.patch(url, json=later, headers=people["fengxian"]).status_code == 403  # the desk's series
    assert client.patch(url, json=later, headers=people["committee"]).status_code == 403
    response = client.patch(url, json=later, headers=people["desk"])
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["start_time"] == "15:00" and changed["plan"]["changed"] == len(created["upcoming"])
    assert all(
        datetime.fromisoformat(m["starts_at"]).strftime("%H:%M") == "15:00" and m["ical_sequence"] == 1
        for m in changed["upcoming"]
    )
    # null keeps a field's value, as leaving it out does (the fuzzer's PATCH of nulls was a 500)
    nulls = dict.fromkeys(("name", "day_of_month", "start_time", "duration_min", "location"), None)
    nulls |= {"host_rotation": None, "agenda_lead_h": None, "reminder_lead_h": None}
    kept = client.patch(url, json=nulls, headers=people["desk"])
    assert kept.status_code == 200, kept.get_json()
    assert {k: kept.get_json()[k] for k in ("start_time", "host_rotation", "name")} == {
        "start_time": "15:00",
        "host_rotation": changed["host_rotation"],
        "name": changed["name"],
    }
    stopped = client.patch(url, json={"active": False}, headers=people["desk"]).get_json()
    assert stopped["active"] is False and stopped["plan"]["created"] == 0
    assert {m["status"] for m in stopped["upcoming"]} == {"cancelled"}


def test_meetings_only_on_working_days_and_not_in_unpublished_years(
    client: FlaskClient, people: dict[str, dict[str, str]], app: Flask
) -> None:
    pair = {
        "code": "JS-FX",
        "name": "金山–奉贤联席会议",
        "scope": "border_pair",
        "border_pair": ["310120", "310116"],
        "frequency": "on_demand",
        "start_time": "09:30",
    }
    response = client.post("/api/v1/meetings/series", json=pair, headers=people["fengxian"])
    assert response.status_code == 201 and response.get_json()["border_pair"] == ["310116", "310120"]
    series_id = response.get_json()["id"]
    add = f"/api/v1/meetings/series/{series_id}/meetings"
    saturday = {"starts_at": "2026-12-12T09:30:00+08:00"}
    response = client.post(add, json=saturday, headers=people["fengxian"])
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "not_a_working_day"
    next_year = {"starts_at": "2027-03-10T09:30:00+08:00"}  # the app's stored calendar: 2027 unconfirmed
    response = client.post(add, json=next_year, headers=people["fengxian"])
    assert (
        response.status_code == 422 and response.get_json()["error"]["code"] == "calendar_year_not_published"
    )
    response = client.post(add, json={"starts_at": "2026-12-09T09:30:00+08:00"}, headers=people["jinshan"])
    assert response.status_code == 201 and response.get_json()["host"]["code"] in ("310116", "310120")


def parse(body: bytes) -> list:  # type: ignore[type-arg]
    calendar = Calendar.from_ical(body)
    return calendar, [c for c in calendar.walk("VEVENT")]


def test_calendar_feed_with_a_revocable_secret_url(
    client: FlaskClient, people: dict[str, dict[str, str]], app_calendar: None
) -> None:
    series = client.post("/api/v1/meetings/series", json=SERIES, headers=people["desk"]).get_json()
    token = client.post(
        "/api/v1/meetings/feed-tokens", json={"label": "委员会日历"}, headers=people["committee"]
    )
    assert token.status_code == 201
    feed = token.get_json()
    assert feed["token"].startswith("jjcal_") and feed["url"].endswith(feed["token"])
    url = f"/api/v1/meetings/calendar.ics?token={feed['token']}"

    response = client.get(url)  # no bearer token: a calendar app
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar, events = parse(response.get_data())
    assert len(events) == 6
    assert [t["TZID"] for t in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    uids = set()
    for event in events:
        assert event["UID"].endswith("@jiaojie") and event.get("DTSTAMP") is not None
        assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
        assert event["DTSTART"].dt.tzinfo is not None and event["DTSTART"].dt.strftime("%H:%M") == "14:30"
        assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
        assert "主持" in str(event["SUMMARY"])
        uids.add(str(event["UID"]))
    assert len(uids) == 6

    # moving and cancelling: same UID, SEQUENCE grows, STATUS:CANCELLED
    first, second = series["upcoming"][0], series["upcoming"][1]
    later = datetime.fromisoformat(first["starts_at"]) + timedelta(days=1)
    while later.weekday() >= 5:
        later += timedelta(days=1)
    moved = client.patch(
        f"/api/v1/meetings/{first['id']}", json={"starts_at": later.isoformat()}, headers=people["desk"]
    )
    assert moved.status_code == 200, moved.get_json()
    cancelled = client.post(
        f"/api/v1/meetings/{second['id']}/cancel", json={"reason": "与防汛会议冲突"}, headers=people["desk"]
    )
    assert cancelled.get_json()["status"] == "cancelled"
    _, events = parse(client.get(url).get_data())
    by_uid = {str(e["UID"]): e for e in events}
    assert len(by_uid) == 6
    moved_event = by_uid[first["ical_uid"]]
    assert int(moved_event["SEQUENCE"]) == 1 and moved_event["DTSTART"].dt == later
    gone = by_uid[second["ical_uid"]]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 1

    # with a bearer token it works too; without either it does not; a revoked URL stops working
    assert client.get("/api/v1/meetings/calendar.ics", headers=people["committee"]).status_code == 200
    assert client.get("/api/v1/meetings/calendar.ics").status_code == 401
    assert client.get("/api/v1/meetings/calendar.ics?token=jjcal_guess").status_code == 403
    listed = client.get("/api/v1/meetings/feed-tokens", headers=people["committee"]).get_json()["tokens"]
    assert [t["id"] for t in listed] == [feed["id"]] and listed[0]["token"] is None
    assert (
        client.post(f"/api/v1/meetings/feed-tokens/{feed['id']}/revoke", headers=people["desk"]).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/meetings/feed-tokens/{feed['id']}/revoke", headers=people["committee"]
        ).status_code
        == 200
    )
    assert client.get(url).status_code == 403  # feed_token_invalid (tests/feedtokens)


def test_a_district_feed_holds_that_districts_meetings(
    client: FlaskClient, people: dict[str, dict[str, str]], app_calendar: None
) -> None:
    client.post("/api/v1/meetings/series", json=SERIES, headers=people["desk"])
    pair = {
        "code": "SJ-JS",
        "name": "松江–金山联席会议",
        "scope": "border_pair",
        "border_pair": ["310117", "310116"],
        "day_of_month": 15,
        "start_time": "10:00",
    }
    assert client.post("/api/v1/meetings/series", json=pair, headers=people["desk"]).status_code == 201
    token = client.post(
        "/api/v1/meetings/feed-tokens", json={"district": "310120"}, headers=people["fengxian"]
    ).get_json()
    _, events = parse(client.get(f"/api/v1/meetings/calendar.ics?token={token['token']}").get_data())
    assert len(events) == 6 and all("SJ-JS" not in str(e["UID"]) for e in events)  # 奉贤 is not in 松江–金山
    _, everything = parse(client.get("/api/v1/meetings/calendar.ics", headers=people["committee"]).get_data())
    assert len(everything) == 12
