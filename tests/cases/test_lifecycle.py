"""The case lifecycle over the API: transitions, 403/409, evidence, transfers, void, the trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.auth.models import User
from coordinator.cases import lifecycle
from coordinator.cases.models import Case, CaseEvent, CaseTransfer
from coordinator.notifications.models import OutboxMessage
from coordinator.squads.models import Squad
from tests.factories import bearer, make_case, make_squad, make_token, make_user

PHOTO = "https://img.example.cn/after-1.jpg"


@dataclass
class Cast:
    """Everyone with a part in one border case, and some without."""

    case: Case
    lead: Squad
    partner: Squad
    other: Squad
    tokens: dict[str, str]
    users: dict[str, User]


@pytest.fixture
def cast(session: Session) -> Cast:
    lead = make_squad(session, district="310120")
    partner = make_squad(session, district="310116")
    other = make_squad(session, district="310120")
    case = make_case(session, lead=lead, partners=(partner,))
    people = {
        "lead_leader": make_user(session, "squad_leader", squad=lead),
        "lead_member": make_user(session, "squad_member", squad=lead),
        "partner_member": make_user(session, "squad_member", squad=partner),
        "partner_leader": make_user(session, "squad_leader", squad=partner),
        "other_leader": make_user(session, "squad_leader", squad=other),
        "dispatcher": make_user(session, "dispatcher", district="310120"),
        "far_dispatcher": make_user(session, "dispatcher", district="310115"),
        "committee": make_user(session, "committee"),
    }
    tokens = {name: make_token(session, user) for name, user in people.items()}
    session.commit()
    return Cast(case, lead, partner, other, tokens, people)


def act(
    client: FlaskClient, cast: Cast, who: str, path: str, body: dict[str, Any] | None = None
) -> TestResponse:
    url = f"/api/v1/cases/{cast.case.id}/{path}"
    return client.post(url, json=body if body is not None else {}, headers=bearer(cast.tokens[who]))


def trail(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    )


def test_happy_path_with_evidence_and_trail(client: FlaskClient, cast: Cast, session: Session) -> None:
    assert act(client, cast, "lead_member", "claim").status_code == 200
    assert act(client, cast, "lead_member", "start", {"note": "出发"}).status_code == 200
    no_photo = act(client, cast, "lead_member", "resolve", {"note": "已清运"})
    assert no_photo.status_code == 422
    assert no_photo.get_json()["error"]["code"] == "evidence_required"
    done = act(client, cast, "lead_member", "resolve", {"note": "已清运", "photos": [PHOTO]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "resolved"
    assert act(client, cast, "dispatcher", "verify").status_code == 200
    closed = act(client, cast, "dispatcher", "close", {"note": "结案"})
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed"
    assert body["allowed_actions"] == ["reopen"]
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["claimed", "started", "resolved", "verified", "closed"]
    first = body["events"][0]
    assert (first["from_status"], first["to_status"]) == ("routed", "claimed")
    assert first["actor"] == cast.users["lead_member"].username
    # every notifiable change produced an outbox message in the same transaction
    outbox = set(session.scalars(select(OutboxMessage.kind).where(OutboxMessage.case_id == cast.case.id)))
    assert outbox == {"claimed", "resolved", "verified", "closed"}


def test_illegal_transition_is_409_listing_the_allowed_ones(client: FlaskClient, cast: Cast) -> None:
    response = act(client, cast, "dispatcher", "verify")
    assert response.status_code == 409
    details = response.get_json()["error"]["details"]
    assert details["status"] == "routed"
    assert details["allowed"] == ["void", "transfer"]
    assert act(client, cast, "lead_member", "start").get_json()["error"]["details"]["allowed"] == ["claim"]


def test_claim_permissions_and_holder(client: FlaskClient, cast: Cast) -> None:
    committee = act(client, cast, "committee", "claim")
    assert committee.status_code == 403  # role gate
    unrelated = act(client, cast, "other_leader", "claim")
    assert unrelated.status_code == 403  # a squad with no part in the case
    assert unrelated.get_json()["error"]["details"]["case"] == cast.case.number
    won = act(client, cast, "partner_member", "claim")  # a partner squad may claim
    assert won.status_code == 200
    assert won.get_json()["claimed_by"] == cast.users["partner_member"].username
    lost = act(client, cast, "lead_leader", "claim")
    assert lost.status_code == 409
    error = lost.get_json()["error"]
    assert error["code"] == "already_claimed"
    assert error["details"]["claimed_by"] == cast.users["partner_member"].username
    assert cast.users["partner_member"].username in error["message"]


def test_case_reads_show_actions_deadlines_and_flags(client: FlaskClient, cast: Cast) -> None:
    detail = client.get(
        f"/api/v1/cases/{cast.case.id}", headers=bearer(cast.tokens["lead_leader"])
    ).get_json()
    assert detail["allowed_actions"] == ["claim", "transfer"]
    assert detail["claim_by"].endswith("+08:00") and detail["resolve_by"].endswith("+08:00")
    assert detail["escalated"] is False and detail["overdue"] is False
    as_dispatcher = client.get(f"/api/v1/cases/{cast.case.id}", headers=bearer(cast.tokens["dispatcher"]))
    assert as_dispatcher.get_json()["allowed_actions"] == ["void", "transfer"]
    far = client.get(f"/api/v1/cases/{cast.case.id}", headers=bearer(cast.tokens["far_dispatcher"]))
    assert far.get_json()["allowed_actions"] == []
    inbox = client.get("/api/v1/inbox", headers=bearer(cast.tokens["partner_member"])).get_json()["cases"]
    mine = next(c for c in inbox if c["id"] == cast.case.id)
    assert mine["allowed_actions"] == ["claim"]


def test_waiver_is_for_dispatchers_only(client: FlaskClient, cast: Cast) -> None:
    act(client, cast, "lead_member", "claim")
    act(client, cast, "lead_member", "start")
    squad_waiver = act(client, cast, "lead_member", "resolve", {"waive_evidence": "no camera"})
    assert squad_waiver.status_code == 403
    waived = act(client, cast, "dispatcher", "resolve", {"waive_evidence": "现场已由环卫清理，无需照片"})
    assert waived.status_code == 200
    assert waived.get_json()["events"][-1]["payload"]["waiver"] == "现场已由环卫清理，无需照片"


def test_transfer_declined_keeps_the_owner(client: FlaskClient, cast: Cast, session: Session) -> None:
    requested = act(
        client, cast, "lead_leader", "transfers", {"to_squad": cast.other.code, "reason": "不在辖区"}
    )
    assert requested.status_code == 201, requested.get_json()
    transfer_id = requested.get_json()["transfer"]["id"]
    assert requested.get_json()["case"]["pending_transfer"]["id"] == transfer_id
    # while pending, the case still belongs to its lead, and the receiver sees it in its inbox
    inbox = client.get("/api/v1/inbox", headers=bearer(cast.tokens["other_leader"])).get_json()["cases"]
    offered = next(c for c in inbox if c["id"] == cast.case.id)
    assert offered["allowed_actions"] == ["accept_transfer", "decline_transfer"]
    assert offered["lead_squad"]["code"] == cast.lead.code
    # only the receiver decides
    assert act(client, cast, "lead_leader", f"transfers/{transfer_id}/accept").status_code == 403
    declined = act(
        client, cast, "other_leader", f"transfers/{transfer_id}/decline", {"reason": "非本中队辖区"}
    )
    assert declined.status_code == 200, declined.get_json()
    case = declined.get_json()["case"]
    assert case["lead_squad"]["code"] == cast.lead.code
    assert case["pending_transfer"] is None
    assert declined.get_json()["transfer"]["state"] == "declined"
    assert trail(session, cast.case.id) == ["transfer_requested", "transfer_declined"]
    again = act(client, cast, "other_leader", f"transfers/{transfer_id}/accept")
    assert again.status_code == 403  # no longer pending: nobody is its receiver


@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_a_transfer_decision_that_loses_the_race_names_its_action(
    client: FlaskClient, cast: Cast, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    """Another decision lands between this one's check and its conditional UPDATE: 409 naming the
    action that was refused."""
    requested = act(client, cast, "lead_leader", "transfers", {"to_squad": cast.other.code, "reason": "争议"})
    transfer_id = requested.get_json()["transfer"]["id"]
    check = lifecycle.check

    def check_then_someone_else_decides(
        case: Case, action: str, user: User, pending: CaseTransfer | None
    ) -> lifecycle.Transition:
        transition = check(case, action, user, pending)
        if action.endswith("_transfer"):
            db = inspect(case).session
            assert db is not None
            db.execute(update(CaseTransfer).where(CaseTransfer.id == transfer_id).values(state="declined"))
        return transition

    monkeypatch.setattr(lifecycle, "check", check_then_someone_else_decides)
    lost = act(client, cast, "other_leader", f"transfers/{transfer_id}/{decision}", {"reason": "晚了一步"})
    assert lost.status_code == 409, lost.get_json()
    assert lost.get_json()["error"]["details"]["action"] == f"{decision}_transfer"


def test_transfer_accepted_moves_lead_and_informs_old_lead(
    client: FlaskClient, cast: Cast, session: Session
) -> None:
    act(client, cast, "lead_member", "claim")
    requested = act(
        client, cast, "dispatcher", "transfers", {"to_squad": cast.other.code, "reason": "争议件"}
    )
    transfer_id = requested.get_json()["transfer"]["id"]
    second = act(
        client, cast, "lead_leader", "transfers", {"to_squad": cast.partner.code, "reason": "再移交"}
    )
    assert second.status_code == 409  # one pending transfer at a time
    accepted = act(client, cast, "other_leader", f"transfers/{transfer_id}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    case = accepted.get_json()["case"]
    assert case["lead_squad"]["code"] == cast.other.code
    assert case["status"] == "routed" and case["claimed_by"] is None  # the new lead claims afresh
    assert {p["code"] for p in case["partner_squads"]} == {cast.partner.code, cast.lead.code}
    event = case["events"][-1]
    assert event["kind"] == "transfer_accepted"
    assert event["payload"]["inform_squad_ids"] == [cast.lead.id]
    messages = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.case_id == cast.case.id, OutboxMessage.kind == "transfer_accepted"
        )
    ).all()
    assert len(messages) == 1 and messages[0].payload["details"]["from_squad_id"] == cast.lead.id
    # the old lead still sees the case, now as a partner, and may claim it again as one
    old = client.get(f"/api/v1/cases/{cast.case.id}", headers=bearer(cast.tokens["lead_member"])).get_json()
    assert old["allowed_actions"] == ["claim"]
    assert trail(session, cast.case.id) == ["claimed", "transfer_requested", "transfer_accepted"]


def test_void_and_reopen(client: FlaskClient, cast: Cast, session: Session) -> None:
    other = make_case(session, lead=cast.lead)
    session.commit()
    missing = act(client, cast, "dispatcher", "void", {"kind": "duplicate", "reason": "重复上报"})
    assert missing.status_code == 422
    voided = act(
        client,
        cast,
        "dispatcher",
        "void",
        {"kind": "duplicate", "reason": "重复上报", "duplicate_of": other.number},
    )
    assert voided.status_code == 200
    assert voided.get_json()["status"] == "void"
    assert voided.get_json()["events"][-1]["payload"] == {"kind": "duplicate", "duplicate_of": other.number}
    assert act(client, cast, "lead_member", "claim").status_code == 409
    assert (
        act(client, cast, "far_dispatcher", "void", {"kind": "not_actionable", "reason": "x"}).status_code
        == 403
    )


def test_reopen_after_close(client: FlaskClient, cast: Cast) -> None:
    for who, path, body in [
        ("lead_member", "claim", {}),
        ("lead_member", "start", {}),
        ("lead_member", "resolve", {"note": "ok", "photos": [PHOTO]}),
        ("dispatcher", "verify", {}),
        ("dispatcher", "close", {}),
    ]:
        assert act(client, cast, who, path, body).status_code == 200
    reopened = act(client, cast, "dispatcher", "reopen", {"reason": "群众反映复发"})
    assert reopened.status_code == 200
    assert reopened.get_json()["status"] == "in_progress"
    assert reopened.get_json()["claimed_by"] == cast.users["lead_member"].username


def test_transition_table_is_consistent() -> None:
    statuses = {"reported", "routed", "claimed", "in_progress", "resolved", "verified", "closed", "void"}
    for t in lifecycle.TRANSITIONS:
        assert t.sources <= statuses, t.action
        assert t.target is None or t.target in statuses, t.action
        assert set(t.actors) <= set(lifecycle.ACTORS), t.action
    assert len(lifecycle.BY_ACTION) == len(lifecycle.TRANSITIONS)


def test_case_events_cannot_be_edited_or_deleted(cast: Cast, session: Session) -> None:
    session.add(CaseEvent(case_id=cast.case.id, kind="note", actor="t", payload={}))
    session.flush()
    for statement in ("UPDATE case_event SET reason = 'rewritten'", "DELETE FROM case_event"):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            try:
                session.execute(text(statement))
            finally:
                nested.rollback()
    assert session.scalar(select(func.count()).where(CaseEvent.case_id == cast.case.id)) == 1


def test_the_receiving_districts_dispatcher_decides_a_transfer_for_its_squad(
    client: FlaskClient, cast: Cast, session: Session
) -> None:
    """At night the receiving squad's leader may be out: its district's dispatcher accepts for it. The
    sending district's dispatcher and a third district's may not decide for a squad they do not manage."""
    jinshan_dispatcher = make_user(session, "dispatcher", district="310116")
    cast.tokens["jinshan_dispatcher"] = make_token(session, jinshan_dispatcher)
    session.commit()
    requested = act(
        client, cast, "lead_leader", "transfers", {"to_squad": cast.partner.code, "reason": "位于金山一侧"}
    )
    assert requested.status_code == 201, requested.get_json()
    transfer_id = requested.get_json()["transfer"]["id"]
    for outsider in ("dispatcher", "far_dispatcher"):  # 奉贤 (the sender's) and 浦东
        assert act(client, cast, outsider, f"transfers/{transfer_id}/accept").status_code == 403
    case = client.get(f"/api/v1/cases/{cast.case.id}", headers=bearer(cast.tokens["jinshan_dispatcher"]))
    assert "accept_transfer" in case.get_json()["allowed_actions"]
    accepted = act(client, cast, "jinshan_dispatcher", f"transfers/{transfer_id}/accept", {"reason": "同意"})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["case"]["lead_squad"]["code"] == cast.partner.code
    assert trail(session, cast.case.id) == ["transfer_requested", "transfer_accepted"]
