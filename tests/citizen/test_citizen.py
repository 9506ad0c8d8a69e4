"""The anonymous citizen path: a report without an account, its photos, the rate limits per address and
per phone, and the secret status link that shows progress, feedback and after photos — nothing more."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.cases.models import Case, Report
from coordinator.citizen import services
from coordinator.citizen.models import StatusLink
from coordinator.evidence.models import Evidence
from coordinator.settings import SETTINGS_KEY, get_settings
from coordinator.squads.models import Squad
from tests.evidence import images
from tests.factories import bearer, make_token, make_user

POINT = {"lon": 121.368, "lat": 30.89}  # 奉贤, in the 金山–奉贤 交界地带
PHONE = "138 0013 8000"
URL = "/api/v1/citizen/reports"


def configure(app: Flask, **overrides: Any) -> None:
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides(overrides)


def body(**fields: Any) -> dict[str, Any]:
    return {
        "category": "01-11",
        "description": "河道边有人倾倒建筑垃圾",
        **POINT,
        "reporter": {"phone": PHONE, "name": "张三"},
        **fields,
    }


def submit(
    client: FlaskClient,
    photos: list[tuple[bytes, str]] | None = None,
    *,
    address: str = "10.0.0.1",
    **fields: Any,
) -> TestResponse:
    environ = {"REMOTE_ADDR": address}
    if photos is None:
        return client.post(URL, json=body(**fields), environ_base=environ)
    return client.post(
        URL,
        data={"report": json.dumps(body(**fields)), "photos": [(io.BytesIO(d), n) for d, n in photos]},
        content_type="multipart/form-data",
        environ_base=environ,
    )


def token_of(answer: dict[str, Any]) -> str:
    return str(answer["status_api_url"].rsplit("/", 1)[-1])


def rows(session: Session) -> tuple[int, int, int]:
    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    return count(Report), count(Evidence), count(StatusLink)


def test_a_citizen_reports_without_an_account_and_follows_the_link(
    client: FlaskClient, session: Session
) -> None:
    response = submit(client)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["case_number"].startswith("JJ-") and answer["photos"] == 0
    token = token_of(answer)
    assert answer["status_url"] == f"http://localhost/s/{token}"
    assert response.headers["Cache-Control"] == "no-store"
    # Only the token's hash is stored.
    link = session.scalars(select(StatusLink)).one()
    assert link.token_hash == services.hash_token(token) and token not in link.token_hash
    report = session.get_one(Report, link.report_id)
    assert (report.source, report.reporter_phone, report.submitted_by_id) == ("citizen", "13800138000", None)

    status = client.get(f"/api/v1/status/{token}")
    assert status.status_code == 200
    shown = status.get_json()
    assert shown["case_number"] == answer["case_number"] and shown["status"] == "routed"
    assert shown["status_label"] == "已派遣" and shown["feedback"] is None
    assert [t["kind"] for t in shown["timeline"]] == ["received", "routed"]
    assert status.headers["Referrer-Policy"] == "no-referrer"
    # (the case number may hold the same digits, e.g. JJ-2026-000013, when other tests opened cases)
    text = status.get_data(as_text=True).replace(answer["case_number"], "")
    assert "13800138000" not in text and "0013" not in text and "张三" not in text


def test_the_link_shows_feedback_and_after_photos_but_nothing_internal(
    client: FlaskClient, session: Session
) -> None:
    answer = submit(client, [(images.jpeg(), "现场.jpg")]).get_json()
    token = token_of(answer)
    assert answer["photos"] == 1
    case = session.scalars(select(Case).where(Case.number == answer["case_number"])).one()
    squad = session.get_one(Squad, case.lead_squad_id)
    leader = make_user(session, "squad_leader", squad=squad, username="leader_citizen_test")
    dispatcher_token = make_token(session, make_user(session, "dispatcher"))
    headers = bearer(make_token(session, leader))
    session.commit()
    # The dispatcher sees the reporter's phone in full; the status link never does.
    detail = client.get(f"/api/v1/cases/{case.id}", headers=bearer(dispatcher_token)).get_json()
    assert detail["reports"][0]["reporter"]["phone"] == "13800138000"
    assert detail["evidence"][0]["subject_type"] == "report"

    for action in ("claim", "start"):
        assert client.post(f"/api/v1/cases/{case.id}/{action}", json={}, headers=headers).status_code == 200
    before = client.post(
        f"/api/v1/cases/{case.id}/evidence",
        data={"purpose": "before", "photos": [(io.BytesIO(images.png()), "before.png")]},
        headers=headers,
        content_type="multipart/form-data",
    ).get_json()["evidence"][0]
    after_photos = [(io.BytesIO(images.jpeg()), "after.jpg"), (io.BytesIO(images.png()), "after.png")]
    after_photos.append((io.BytesIO(images.webp()), "after.webp"))
    after_items = client.post(
        f"/api/v1/cases/{case.id}/evidence",
        data={"purpose": "after", "photos": after_photos, "note": "内部备注"},
        headers=headers,
        content_type="multipart/form-data",
    ).get_json()["evidence"]
    after = after_items[0]
    resolved = client.post(
        f"/api/v1/cases/{case.id}/resolve", json={"note": "已清运，现场恢复整洁"}, headers=headers
    )
    assert resolved.status_code == 200

    shown = client.get(f"/api/v1/status/{token}").get_json()
    assert shown["status"] == "resolved" and shown["status_label"] == "已处置"
    assert shown["feedback"]["note"] == "已清运，现场恢复整洁"
    assert [t["kind"] for t in shown["timeline"]] == ["received", "routed", "claimed", "started", "resolved"]
    assert [p["id"] for p in shown["after_photos"]] == [e["id"] for e in after_items]
    assert len(shown["your_photos"]) == 1
    text = json.dumps(shown, ensure_ascii=False)
    assert "leader_citizen_test" not in text and "内部备注" not in text and "evidence_added" not in text

    # Photos through the link: the citizen's own and the after photos, without metadata; nothing else.
    photo = client.get(shown["after_photos"][0]["url"])
    assert photo.status_code == 200 and images.CAMERA.encode() not in photo.data
    assert photo.headers["Referrer-Policy"] == "no-referrer"
    served = [client.get(p["url"]).mimetype for p in shown["after_photos"]]
    assert served == ["image/jpeg", "image/png", "image/webp"]
    assert client.get(shown["your_photos"][0]["thumbnail_url"]).status_code == 200
    assert (
        client.get(f"/api/v1/status/{token}/evidence/{before['id']}").status_code == 404
    )  # before: internal
    other = token_of(submit(client, address="10.0.0.2", reporter={"phone": "13900139000"}).get_json())
    assert client.get(f"/api/v1/status/{other}/evidence/{after['id']}").status_code == 404  # not its case


@pytest.mark.parametrize("token", ["nope", "A" * 32, "../../etc/passwd"])
def test_a_wrong_token_is_404(client: FlaskClient, token: str) -> None:
    response = client.get(f"/api/v1/status/{token}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_reports_per_address_are_limited(app: Flask, client: FlaskClient) -> None:
    configure(app, citizen_reports_per_ip_hour=2)
    for n in range(2):
        assert submit(client, reporter={"phone": f"1390000000{n}"}).status_code == 201
    refused = submit(client, reporter={"phone": "13900000009"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert submit(client, address="10.9.9.9", reporter={"phone": "13900000009"}).status_code == 201


def test_reports_per_phone_are_limited_however_it_is_written(app: Flask, client: FlaskClient) -> None:
    configure(app, citizen_reports_per_phone_day=1)
    assert submit(client, address="10.0.0.1", reporter={"phone": "13800138000"}).status_code == 201
    # The same number, full-width with +86, from another address: still the same phone.
    again = submit(client, address="10.0.0.2", reporter={"phone": "+86 １３８-0013-8000"})
    assert again.status_code == 429
    assert again.get_json()["error"]["details"]["bucket"] == "citizen_reports:phone"
    assert submit(client, address="10.0.0.3", reporter={"phone": "021-5744 1234"}).status_code == 201


@pytest.mark.parametrize("phone", ["12345", "1380013800", "+1 415 555 0100", "abcdefghijk"])
def test_a_phone_that_is_not_chinese_is_422(client: FlaskClient, phone: str) -> None:
    response = submit(client, reporter={"phone": phone})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "reporter.phone"


def test_the_phone_is_required(client: FlaskClient) -> None:
    response = client.post(URL, json={k: v for k, v in body().items() if k != "reporter"})
    assert response.status_code == 422


def test_a_citizen_cannot_file_outside_the_service_area(client: FlaskClient, session: Session) -> None:
    # The public form is where fake reports would come from first: held to the area like a reporter.
    before = rows(session)
    for lon, lat in ((121.4367, 31.1883), (-74.006, 40.7128), (0.0, 0.0)):  # Xuhui, New York, (0, 0)
        refused = submit(client, lon=lon, lat=lat)
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["error"]["code"] == "outside_service_area"
    assert rows(session) == before
    assert submit(client).status_code == 201


@pytest.mark.parametrize(
    ("photo", "status"),
    [((b"\x89PNG\r\n\x1a\n broken", "a.png"), 415), ((images.bomb_png(9000), "bomb.png"), 413)],
    ids=["not-an-image", "too-many-pixels"],
)
def test_a_bad_photo_stores_nothing(
    client: FlaskClient, session: Session, tmp_path: Path, photo: tuple[bytes, str], status: int
) -> None:
    before = rows(session)
    response = submit(client, [(images.jpeg(), "ok.jpg"), photo])
    assert response.status_code == status
    assert rows(session) == before  # no report, no evidence, no status link
    root = tmp_path / "evidence"
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_phone_numbers_are_normalised() -> None:
    assert services.normalize_phone("138 0013 8000") == "13800138000"
    assert services.normalize_phone("+86-138.0013.8000") == "13800138000"
    assert services.normalize_phone("１３８００１３８０００") == "13800138000"
    assert services.normalize_phone("(021) 5744-1234") == "02157441234"
    assert services.normalize_phone("110") is None
    assert services.phone_key("13800138000", "a") != services.phone_key("13800138000", "b")


def test_a_citizen_may_ask_for_progress_messages_on_the_reports_phone(
    client: FlaskClient, session: Session
) -> None:
    from coordinator.notifications.models import OutboxMessage

    silent = submit(client, address="10.0.0.3", reporter={"phone": "13900139001"}).get_json()
    told = submit(
        client, address="10.0.0.4", reporter={"phone": "139 0013 9002"}, notify={"consent": True}
    ).get_json()
    refused = submit(client, address="10.0.0.5", notify={"channel": "app", "consent": True})
    assert refused.status_code == 422  # no account to reach: only the phone's channels
    assert told["case_number"] == silent["case_number"]  # the same pile: one case, two reports
    reports = {r.reporter_phone: r for r in session.scalars(select(Report))}
    assert (reports["13900139002"].notify_channel, reports["13900139002"].notify_consent) == ("sms", True)
    assert (reports["13900139001"].notify_channel, reports["13900139001"].notify_consent) == (None, False)

    case = session.scalars(select(Case).where(Case.number == told["case_number"])).one()
    leader = make_user(session, "squad_leader", squad=session.get_one(Squad, case.lead_squad_id))
    headers = bearer(make_token(session, leader))
    session.commit()
    assert client.post(f"/api/v1/cases/{case.id}/claim", json={}, headers=headers).status_code == 200
    messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("reporter_%"))))
    assert [(m.kind, m.payload["recipient"]) for m in messages] == [
        ("reporter_claimed", {"channel": "sms", "phone": "13900139002"})  # the consenting phone only
    ]
    assert messages[0].payload["consent"] is True and told["case_number"] in messages[0].payload["message"]
    # The status link never shows the phone, consent or not.
    page = client.get(told["status_url"].replace("http://localhost", "")).get_data(as_text=True)
    assert "13900139002" not in page and "139****9002" not in page
