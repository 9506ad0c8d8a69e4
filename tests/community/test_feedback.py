"""Feedback to reporters: outbox messages on claim, resolution (with the squad's feedback and after
photos) and close, to consenting reporters only; rating and dispute within the window; a dispute sends
the case back to its dispatcher through the lifecycle."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordinator.cases.models import Case, CaseEvent
from coordinator.notifications.models import OutboxMessage
from tests.community.conftest import PHOTO, People


def reporter_messages(session: Session, case_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.kind.like("reporter_%"))
            .order_by(OutboxMessage.id)
        )
    )


def test_reporter_is_told_of_claim_resolution_and_close(people: People, session: Session) -> None:
    people.add("silent", "reporter")
    sent = people.report(
        "citizen",
        reporter={"name": "张三", "phone": "13812341234"},
        notify={"channel": "sms", "consent": True},
    )
    assert sent.status_code == 201, sent.get_json()
    case_id = sent.get_json()["case_id"]
    # A second reporter of the same pile who did not consent hears nothing.
    assert (
        people.report("silent", notify={"channel": "app", "consent": False}).get_json()["case_id"] == case_id
    )
    people.lead_squad_people(case_id)

    assert people.act("member", case_id, "claim").status_code == 200
    claimed = reporter_messages(session, case_id)
    assert [m.kind for m in claimed] == ["reporter_claimed"]
    assert claimed[0].payload["recipient"] == {"channel": "sms", "phone": "13812341234"}
    assert claimed[0].payload["consent"] is True

    assert people.act("member", case_id, "start").status_code == 200
    note = "已清运，如有疑问请联系 13900001111"
    resolved = people.act("member", case_id, "resolve", {"note": note, "photos": [PHOTO]})
    assert resolved.status_code == 200
    message = reporter_messages(session, case_id)[-1]
    assert message.kind == "reporter_resolved"
    assert message.payload["feedback"] == "已清运，如有疑问请联系 139****1111"  # the squad's phone masked
    assert message.payload["after_photos"] == [PHOTO]

    mine = people.call("citizen", "GET", "/api/v1/my/reports").get_json()["reports"]
    assert len(mine) == 1
    assert mine[0]["status"] == "resolved"
    assert mine[0]["feedback"] == "已清运，如有疑问请联系 139****1111"
    assert mine[0]["after_photos"] == [PHOTO]
    assert mine[0]["feedback_until"] is not None

    assert people.act("dispatcher", case_id, "verify").status_code == 200
    assert people.act("dispatcher", case_id, "close").status_code == 200
    kinds = [m.kind for m in reporter_messages(session, case_id)]
    assert kinds == ["reporter_claimed", "reporter_resolved", "reporter_closed"]


def test_sms_needs_a_phone(people: People) -> None:
    response = people.report("citizen", notify={"channel": "sms", "consent": True})
    assert response.status_code == 422


def test_rating_once_and_dispute_back_to_the_dispatcher(people: People, session: Session) -> None:
    sent = people.report("citizen")
    case_id, report_id = sent.get_json()["case_id"], sent.get_json()["report_id"]
    people.lead_squad_people(case_id)
    people.add("other", "reporter")

    early = people.call("citizen", "POST", f"/api/v1/my/reports/{report_id}/rating", {"stars": 5})
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "not_resolved"

    people.resolve(case_id)
    assert people.act("dispatcher", case_id, "verify").status_code == 200
    assert people.act("dispatcher", case_id, "close").status_code == 200

    not_mine = people.call("other", "POST", f"/api/v1/my/reports/{report_id}/rating", {"stars": 1})
    assert not_mine.status_code == 404
    rated = people.call(
        "citizen", "POST", f"/api/v1/my/reports/{report_id}/rating", {"stars": 2, "comment": "还有残留"}
    )
    assert rated.status_code == 201
    assert rated.get_json()["stars"] == 2
    again = people.call("citizen", "POST", f"/api/v1/my/reports/{report_id}/rating", {"stars": 5})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_rated"

    disputed = people.call(
        "citizen", "POST", f"/api/v1/my/reports/{report_id}/dispute", {"reason": "垃圾没有清完"}
    )
    assert disputed.status_code == 201, disputed.get_json()
    assert disputed.get_json()["status"] == "resolved"
    case = session.get_one(Case, case_id)
    session.refresh(case)
    assert case.status == "resolved" and case.closed_at is None
    last = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc())
    ).first()
    assert last is not None and (last.kind, last.from_status, last.reason) == (
        "disputed",
        "closed",
        "垃圾没有清完",
    )
    # The dispatcher decides: reopen (upheld) is what the lifecycle offers now, besides verify.
    detail = people.call("dispatcher", "GET", f"/api/v1/cases/{case_id}").get_json()
    assert set(detail["allowed_actions"]) >= {"verify", "reopen"}
    assert people.act("dispatcher", case_id, "reopen", {"reason": "异议成立，重新清运"}).status_code == 200
    twice = people.call("citizen", "POST", f"/api/v1/my/reports/{report_id}/dispute", {"reason": "再次"})
    assert twice.status_code == 409

    mine = people.call("citizen", "GET", "/api/v1/my/reports").get_json()["reports"][0]
    assert mine["rating"]["stars"] == 2 and mine["dispute"]["comment"] == "垃圾没有清完"


def test_dispute_window_closes(people: People, session: Session) -> None:
    sent = people.report("citizen")
    case_id, report_id = sent.get_json()["case_id"], sent.get_json()["report_id"]
    people.lead_squad_people(case_id)
    people.resolve(case_id)
    case = session.get_one(Case, case_id)
    session.execute(
        update(Case).where(Case.id == case_id).values(resolved_at=case.resolved_at - timedelta(days=8))
    )
    session.commit()
    late = people.call("citizen", "POST", f"/api/v1/my/reports/{report_id}/dispute", {"reason": "没清"})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "feedback_window_closed"
    session.refresh(case)
    assert case.status == "resolved"
