"""Rewards: a verified case credits its first reporters once, a voided one revokes, one phone or account
earns once per case (a database constraint), bursts are flagged, the daily cap holds, the ledger is
append-only, admins redeem against a reference and read totals."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from coordinator.community import rewards
from coordinator.community.models import RewardEntry, RewardRule
from coordinator.worktime import SHANGHAI
from tests.community.conftest import People

PHONE = "13812345678"


def ledger(session: Session, case_id: int) -> list[tuple[str, int, int | None, str | None]]:
    rows = session.scalars(select(RewardEntry).where(RewardEntry.case_id == case_id).order_by(RewardEntry.id))
    return [(e.kind, e.points, e.user_id, e.phone_hash) for e in rows]


def test_verified_case_credits_once_and_voided_case_revokes(people: People, session: Session) -> None:
    people.add("second", "reporter")
    first = people.report("citizen", reporter={"phone": PHONE})
    case_id = first.get_json()["case_id"]
    # The same phone again (from another account, and anonymously per phone): earns nothing more.
    again = people.report("second", reporter={"phone": "+86 138-1234-5678"})
    assert again.get_json()["case_id"] == case_id
    people.lead_squad_people(case_id)
    people.resolve(case_id)
    assert people.act("dispatcher", case_id, "verify").status_code == 200

    citizen = people.users["citizen"]
    assert ledger(session, case_id) == [("earned", 10, citizen.id, rewards.phone_hash(PHONE))]
    mine = people.call("citizen", "GET", "/api/v1/my/rewards").get_json()
    assert mine["balance"] == 10
    assert [(h["kind"], h["points"], h["rule"]) for h in mine["history"]] == [("earned", 10, "citizen-01-11")]
    assert people.call("second", "GET", "/api/v1/my/rewards").get_json()["balance"] == 0

    # Verified again after a reopen: nobody is credited twice.
    assert people.act("dispatcher", case_id, "reopen", {"reason": "复核"}).status_code == 200
    assert (
        people.act(
            "member", case_id, "resolve", {"note": "再次清运", "photos": ["https://img.example.cn/b.jpg"]}
        ).status_code
        == 200
    )
    assert people.act("dispatcher", case_id, "verify").status_code == 200
    assert len(ledger(session, case_id)) == 1

    # Found to be a false report: reopened and voided, the points go.
    assert people.act("dispatcher", case_id, "reopen", {"reason": "核实为虚假举报"}).status_code == 200
    voided = people.act("dispatcher", case_id, "void", {"kind": "false_report", "reason": "虚假举报"})
    assert voided.status_code == 200, voided.get_json()
    assert [row[:2] for row in ledger(session, case_id)] == [("earned", 10), ("revoked", -10)]
    assert people.call("citizen", "GET", "/api/v1/my/rewards").get_json()["balance"] == 0


def test_one_phone_earns_once_per_case_in_the_database(people: People, session: Session) -> None:
    sent = people.report("citizen", reporter={"phone": PHONE})
    case_id = sent.get_json()["case_id"]
    people.lead_squad_people(case_id)
    people.resolve(case_id)
    assert people.act("dispatcher", case_id, "verify").status_code == 200
    nested = session.begin_nested()
    with pytest.raises(IntegrityError):
        session.add(
            RewardEntry(
                kind="earned", points=10, phone_hash=rewards.phone_hash(PHONE), case_id=case_id, note="x"
            )
        )
        session.flush()
    nested.rollback()


def test_ledger_is_append_only(people: People, session: Session) -> None:
    session.add(RewardEntry(kind="redeemed", points=-1, user_id=people.users["citizen"].id, reference="R1"))
    session.flush()
    for statement in ("UPDATE reward_entry SET points = 100", "DELETE FROM reward_entry"):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        nested.rollback()


def test_first_k_daily_cap_and_burst_flag(people: People, session: Session) -> None:
    rule = session.scalars(select(RewardRule).where(RewardRule.name == "citizen-01-11")).one()
    rule.first_k, rule.daily_cap, rule.burst_count, rule.burst_minutes = 2, 15, 2, 10
    session.commit()
    for name in ("b", "c"):
        people.add(name, "reporter")
    case_id = people.report("citizen", description="一号").get_json()["case_id"]
    for name in ("b", "c"):
        assert people.report(name).get_json()["case_id"] == case_id
    # The first reporter sends another report elsewhere right after: a burst of 2 within 10 minutes.
    other = people.report("citizen", lon=121.50, lat=30.86, category="01-12")
    assert other.get_json()["case_id"] != case_id
    people.lead_squad_people(case_id)
    people.resolve(case_id)
    assert people.act("dispatcher", case_id, "verify").status_code == 200
    earned = {
        e.user_id: e for e in session.scalars(select(RewardEntry).where(RewardEntry.case_id == case_id))
    }
    assert set(earned) == {people.users["citizen"].id, people.users["b"].id}  # first K = 2
    assert earned[people.users["citizen"].id].points == 10

    # The cap: 15 a day, 10 already earned today → the next case earns 5.
    second = other.get_json()["case_id"]
    rule2 = session.scalars(select(RewardRule).where(RewardRule.name == "citizen-01-12")).one()
    rule2.daily_cap, rule2.burst_count, rule2.burst_minutes = 15, 2, 10
    session.commit()
    people.lead_squad_people(second)
    people.resolve(second)
    assert people.act("dispatcher", second, "verify").status_code == 200
    line = session.scalars(select(RewardEntry).where(RewardEntry.case_id == second)).one()
    assert (line.points, line.flag) == (5, "burst")
    flagged = people.call("admin", "GET", "/api/v1/rewards/flagged").get_json()["entries"]
    assert [e["case_number"] for e in flagged] == [line.case_number]


def test_redeem_rules_and_totals(people: People, session: Session) -> None:
    sent = people.report("citizen", reporter={"phone": PHONE})
    case_id = sent.get_json()["case_id"]
    people.lead_squad_people(case_id)
    people.resolve(case_id)
    assert people.act("dispatcher", case_id, "verify").status_code == 200

    too_much = people.call(
        "admin",
        "POST",
        "/api/v1/rewards/redemptions",
        {"username": people.users["citizen"].username, "points": 11, "reference": "V-1"},
    )
    assert too_much.status_code == 409
    assert too_much.get_json()["error"]["code"] == "insufficient_points"
    # The points belong to the account that reported (its phone only guards against double earning).
    by_phone = people.call(
        "admin", "POST", "/api/v1/rewards/redemptions", {"phone": PHONE, "points": 4, "reference": "V-2"}
    )
    assert by_phone.status_code == 409
    redeemed = people.call(
        "admin",
        "POST",
        "/api/v1/rewards/redemptions",
        {"username": people.users["citizen"].username, "points": 4, "reference": "V-3"},
    )
    assert redeemed.status_code == 201, redeemed.get_json()
    assert redeemed.get_json()["balance"] == 6
    assert redeemed.get_json()["entry"]["reference"] == "V-3"
    assert people.call("citizen", "GET", "/api/v1/my/rewards").get_json()["balance"] == 6

    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    totals = people.call("admin", "GET", f"/api/v1/rewards/totals?month={month}").get_json()
    by_district = {d["district"]: d for d in totals["districts"]}
    assert by_district["310120"]["earned"] == 10 and by_district["310120"]["reporters"] == 1
    assert by_district[None]["redeemed"] == 4

    rules = people.call("admin", "GET", "/api/v1/rewards/rules").get_json()["rules"]
    assert [r["name"] for r in rules][:3] == ["citizen-01-11", "citizen-01-12", "citizen-01-51"]
    put = people.call(
        "admin",
        "PUT",
        "/api/v1/rewards/rules/citizen-01-11",
        {"priority": 10, "category": "01-11", "source": "citizen", "points": 20, "first_k": 1},
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["points"] == 20
    clash = people.call("admin", "PUT", "/api/v1/rewards/rules/new", {"priority": 10, "points": 1})
    assert clash.status_code == 409
