"""Issue 17 item 1: a report's source comes from the credential that sent it, never from a public
client's body, and retry identities (external id, Idempotency-Key) are scoped per submitter — so nobody
can squat the hotline's ids or replay another user's report."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases import intake
from coordinator.cases.models import Report
from coordinator.geolocation.services import LocatorCache
from coordinator.worktime import WorkCalendar
from tests.cases.conftest import zone_point
from tests.factories import bearer, make_token, make_user

FENGXIAN, JINSHAN = "310120", "310116"


def post(client: FlaskClient, token: str, point: tuple[float, float], **fields: object) -> dict[str, object]:
    body = {"category": "01-11", "lon": point[0], "lat": point[1], **fields}
    response = client.post("/api/v1/reports", json=body, headers=bearer(token))
    answer: dict[str, object] = response.get_json()
    answer["_status"] = response.status_code
    return answer


def test_the_source_is_the_credentials(client: FlaskClient, session: Session) -> None:
    point = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    reporter = make_token(session, make_user(session, "reporter"))
    member = make_token(session, make_user(session, "squad_member"))
    dispatcher = make_token(session, make_user(session, "dispatcher"))
    session.commit()
    sources = {}
    for name, token, extra in (
        ("reporter", reporter, {}),
        ("member", member, {}),
        ("dispatcher", dispatcher, {"source": "volunteer"}),
    ):
        answer = post(client, token, point, **extra)
        assert answer["_status"] == 201, answer
        sources[name] = session.get_one(Report, answer["report_id"]).source
    assert sources == {"reporter": "citizen", "member": "patrol", "dispatcher": "volunteer"}


def test_a_public_client_cannot_claim_the_hotline_or_a_device(client: FlaskClient, session: Session) -> None:
    point = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    reporter = make_token(session, make_user(session, "reporter"))
    dispatcher = make_token(session, make_user(session, "dispatcher"))
    session.commit()
    for token, source in ((reporter, "hotline_12345"), (reporter, "camera"), (dispatcher, "hotline_12345")):
        answer = post(client, token, point, source=source, external_id="12345-2026-0001")
        assert answer["_status"] == 422, answer
        assert answer["error"]["code"] == "source_not_allowed"  # type: ignore[index]
    assert not session.scalars(select(Report).where(Report.source == "hotline_12345")).first()


def test_the_hotline_import_is_not_squatted_by_a_reporter(
    client: FlaskClient, session: Session, locator_cache: LocatorCache
) -> None:
    """A reporter who sends the hotline's next ids first does not block or capture the real rows."""
    point = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    reporter = make_token(session, make_user(session, "reporter"))
    session.commit()
    refused = post(client, reporter, point, source="hotline_12345", external_id="12345-2026-0042")
    assert refused["_status"] == 422
    squat = post(client, reporter, point, external_id="12345-2026-0042")  # as a citizen: its own id
    assert squat["_status"] == 201
    hotline_row = intake.ReportInput(
        "01-11", point[0], point[1], source="hotline_12345", external_id="12345-2026-0042"
    )
    imported = intake.submit_report(
        session, locator_cache.get(lambda: session), hotline_row, submitter=None, calendar=WorkCalendar()
    )
    assert not imported.replayed and imported.report_id != squat["report_id"]
    assert imported.report.source == "hotline_12345" and imported.report.external_id == "12345-2026-0042"


def test_another_users_external_id_or_key_replays_nothing_of_theirs(
    client: FlaskClient, session: Session
) -> None:
    point = zone_point(session, (JINSHAN, FENGXIAN), FENGXIAN)
    alice = make_token(session, make_user(session, "reporter"))
    mallory = make_token(session, make_user(session, "reporter"))
    session.commit()
    original = post(client, alice, point, external_id="app-77")
    replay = post(client, mallory, point, external_id="app-77")
    assert replay["_status"] == 201 and replay["report_id"] != original["report_id"]
    # a different body under her id is no conflict naming Alice's ids either
    clash = post(client, mallory, (point[0] + 0.01, point[1]), external_id="app-78")
    assert clash["_status"] == 201
    # while Alice's own retry is still recognised
    again = post(client, alice, point, external_id="app-77")
    assert again["report_id"] == original["report_id"]
