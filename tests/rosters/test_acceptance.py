"""The acceptance journey through the API: from the demo territory and hotspots a dispatcher drafts a
two-week roster, reads why each hotspot got its nights and that no squad exceeds its capacity, moves a
shift (a hard-rule violation is refused with the reason), publishes, and a squad's calendar feed shows
its shifts and round-trips through the icalendar parser; later changes bump SEQUENCE or cancel."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import icalendar
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.notifications.models import OutboxMessage
from tests.factories import bearer
from tests.rosters.conftest import START

FAST = {"time_limit_s": 3.0, "seed": 7}


def draft(client: FlaskClient, token: str, **body: Any) -> Any:
    payload = {"start": START.isoformat(), "weeks": 2, "options": FAST, **body}
    response = client.post("/api/v1/rosters", json=payload, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events(ics: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(ics)
    assert cal.walk("VTIMEZONE"), "DTSTART with TZID needs a VTIMEZONE"
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Asia/Shanghai"
    found = {}
    for event in cal.walk("VEVENT"):
        assert event.get("UID") and event.get("DTSTAMP"), event
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
        found[str(event["UID"])] = event
    # Round trip: what the parser read serialises to a calendar it reads the same way.
    again = icalendar.Calendar.from_ical(cal.to_ical())
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == list(found)
    return found


def test_dispatcher_drafts_moves_publishes_and_squads_subscribe(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    roster = draft(client, dispatcher_token)
    assert roster["status"] == "draft" and roster["period_end"] == (START + timedelta(days=13)).isoformat()
    solver = roster["solver"]
    assert solver["solver"] in ("cp-sat", "greedy") and solver["objective"] == sum(
        v for k, v in solver["breakdown"].items() if k != "objective"
    )
    assert solver["bound"] is None or solver["bound"] >= solver["objective"] - 1e-6
    # Why each hotspot got its nights, and the squads' nights against their capacity.
    assert roster["hotspots"] and all(h["reason"] and h["weight"] >= 1 for h in roster["hotspots"])
    for h in roster["hotspots"]:
        assert h["patrols_planned"] == len(h["nights"]) == sum(h["patrols_per_week"])
        assert all(
            got >= need for got, need in zip(h["patrols_per_week"], h["required_per_week"], strict=True)
        )
    assert roster["all_within_capacity"] is True
    for squad in roster["squads"]:
        assert max(squad["nights_per_week"]) <= squad["capacity_per_week"], squad
    shifts = roster["shifts"]
    assert shifts and all(len(s["squads"]) == 2 for s in shifts)

    # A move that breaks a hard rule is refused with the reason, and nothing changes: a Fengxian squad's
    # shift moved onto a night on which the squad already patrols (or the night after).
    def fengxian(s: dict[str, Any]) -> str:
        return next(q["code"] for q in s["squads"] if q["district"] == "310120")

    busy = [s for s in shifts if any(q["district"] == "310120" for q in s["squads"])]
    shift = next(s for s in busy if sum(fengxian(o) == fengxian(s) for o in busy) >= 2)
    a_code = fengxian(shift)
    night = date.fromisoformat(shift["night"])
    clash = next(o["night"] for o in busy if o["id"] != shift["id"] and fengxian(o) == a_code)
    url = f"/api/v1/rosters/{roster['id']}/shifts/{shift['id']}"
    refused = client.patch(url, json={"night": clash}, headers=bearer(dispatcher_token))
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "hard_rule_violated"
    violation = error["details"]["violations"][0]
    assert violation["rule"] in ("one_per_night", "back_to_back", "availability", "capacity")
    assert violation["squads"] and violation["nights"] and violation["message"]
    unchanged = client.get(f"/api/v1/rosters/{roster['id']}", headers=bearer(dispatcher_token)).get_json()
    assert unchanged["shifts"] == shifts

    # A move that keeps every rule: the dry run shows the cost, then the move is applied.
    period = [START + timedelta(days=i) for i in range(14)]
    for candidate in period:
        if candidate == night:
            continue
        check = client.patch(
            url, json={"night": candidate.isoformat(), "dry_run": True}, headers=bearer(dispatcher_token)
        )
        if check.status_code == 200:
            break
    else:
        raise AssertionError("no night to move the shift to")
    cost = check.get_json()
    assert cost["applied"] is False and set(cost["delta"]) == set(cost["before"])
    moved = client.patch(url, json={"night": candidate.isoformat()}, headers=bearer(dispatcher_token))
    assert moved.status_code == 200 and moved.get_json()["applied"] is True
    roster = moved.get_json()["roster"]
    assert next(s for s in roster["shifts"] if s["id"] == shift["id"])["night"] == candidate.isoformat()

    # Publish: locked for the solver, the squads are told through the outbox.
    published = client.post(f"/api/v1/rosters/{roster['id']}/publish", headers=bearer(dispatcher_token))
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    again = client.post(f"/api/v1/rosters/{roster['id']}/publish", headers=bearer(dispatcher_token))
    assert again.status_code == 409
    message = demo_hotspots.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "roster_published")
    ).one()
    assert a_code in message.payload["squads"]

    # The squad's feed, by its secret URL, shows exactly its shifts.
    issued = client.post(f"/api/v1/squads/{a_code}/calendar-token", headers=bearer(dispatcher_token))
    assert issued.status_code == 201
    feed_url = issued.get_json()["url"]
    assert client.get(f"/api/v1/squads/{a_code}/calendar.ics").status_code == 401  # no credentials
    response = client.get(feed_url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    mine = {s["uid"]: s for s in roster["shifts"] if a_code in {q["code"] for q in s["squads"]}}
    feed = events(response.data)
    assert set(feed) == set(mine)
    for uid, event in feed.items():
        assert event.decoded("DTSTART").date().isoformat() == mine[uid]["night"]
        assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == mine[uid]["sequence"]

    # After publishing: a moved night keeps the UID and bumps SEQUENCE; a removed shift is CANCELLED.
    uid, target = next(iter(mine.items()))
    for candidate in period:
        shifted = client.patch(
            f"/api/v1/rosters/{roster['id']}/shifts/{target['id']}",
            json={"night": candidate.isoformat()},
            headers=bearer(dispatcher_token),
        )
        if shifted.status_code == 200 and candidate.isoformat() != target["night"]:
            break
    feed = events(client.get(feed_url).data)
    assert int(feed[uid]["SEQUENCE"]) == target["sequence"] + 1
    assert feed[uid].decoded("DTSTART").date() == candidate
    removed = client.delete(
        f"/api/v1/rosters/{roster['id']}/shifts/{target['id']}", headers=bearer(dispatcher_token)
    )
    assert removed.status_code == 200
    feed = events(client.get(feed_url).data)
    assert str(feed[uid]["STATUS"]) == "CANCELLED" and int(feed[uid]["SEQUENCE"]) == target["sequence"] + 2

    # The roster's own calendar, and a revoked feed URL stops working.
    whole = client.get(f"/api/v1/rosters/{roster['id']}.ics", headers=bearer(dispatcher_token))
    assert len(events(whole.data)) == len(roster["shifts"])
    assert (
        client.delete(f"/api/v1/squads/{a_code}/calendar-token", headers=bearer(dispatcher_token)).status_code
        == 200
    )
    assert client.get(feed_url).status_code == 403


def test_all_squads_of_one_side_unavailable_is_a_422_naming_rule_squads_and_nights(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    squads = client.get("/api/v1/squads?district=310120&geometry=false", headers=bearer(dispatcher_token))
    fengxian = [f["id"] for f in squads.get_json()["features"]]
    last = START + timedelta(days=13)
    for code in fengxian:
        response = client.post(
            f"/api/v1/squads/{code}/unavailability",
            json={"start_date": START.isoformat(), "end_date": last.isoformat(), "reason": "全区集中整训"},
            headers=bearer(dispatcher_token),
        )
        assert response.status_code == 201
    refused = client.post(
        "/api/v1/rosters",
        json={"start": START.isoformat(), "weeks": 2, "options": FAST},
        headers=bearer(dispatcher_token),
    )
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "roster_infeasible" and "availability" in error["message"]
    violations = error["details"]["violations"]
    assert violations and {v["rule"] for v in violations} == {"availability"}
    named = {s["code"] for v in violations for s in v["squads"]}
    assert named and named <= set(fengxian)
    nights = {n for v in violations for n in v["nights"]}
    assert START.isoformat() in nights and last.isoformat() in nights
    assert all(v["hotspots"] for v in violations)


def test_a_year_without_published_holidays_needs_confirmation(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    body = {"start": "2030-03-04", "weeks": 1, "options": {**FAST, "solver": "greedy"}}
    refused = client.post("/api/v1/rosters", json=body, headers=bearer(dispatcher_token))
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "calendar_unconfirmed"
    body["options"]["confirm_unpublished_year"] = True
    accepted = client.post("/api/v1/rosters", json=body, headers=bearer(dispatcher_token))
    assert accepted.status_code == 201
    assert any("2030" in w for w in accepted.get_json()["warnings"])


def test_a_swap_exchanges_two_shifts_nights_once_the_rules_allow_it(
    client: FlaskClient, demo_hotspots: Session, dispatcher_token: str
) -> None:
    roster = draft(client, dispatcher_token, weeks=1, options={"solver": "greedy"})
    url = f"/api/v1/rosters/{roster['id']}/swap"
    nights = {s["id"]: s["night"] for s in roster["shifts"]}
    pairs = [(a, b) for a in nights for b in nights if a < b and nights[a] != nights[b]]
    refused = allowed = None
    for pair in pairs:
        check = client.post(
            url, json={"shift_ids": list(pair), "dry_run": True}, headers=bearer(dispatcher_token)
        )
        if check.status_code == 200 and allowed is None:
            allowed = pair
            assert check.get_json()["applied"] is False
            assert [s["night"] for s in check.get_json()["roster"]["shifts"] if s["id"] in pair] == [
                nights[i] for i in sorted(pair)
            ]
        elif check.status_code == 422 and refused is None:
            refused = check.get_json()["error"]
        if allowed and refused:
            break
    assert allowed is not None, "no two shifts of the week can swap nights"
    if refused is not None:  # e.g. a squad would patrol two nights in a row
        assert refused["code"] == "hard_rule_violated" and refused["details"]["violations"][0]["squads"]
    swapped = client.post(url, json={"shift_ids": list(allowed)}, headers=bearer(dispatcher_token))
    assert swapped.status_code == 200 and swapped.get_json()["applied"] is True
    after = {s["id"]: s["night"] for s in swapped.get_json()["roster"]["shifts"]}
    first, second = allowed
    assert (after[first], after[second]) == (nights[second], nights[first])
