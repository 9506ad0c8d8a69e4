"""Camera and drone alerts: signed requests (bad signature, unknown device, stale timestamp, replay and
oversize frames refused with nothing stored), thresholds (a case at once, or the review queue), storm
control, idempotency, flood throttling, review, frames, drone tracks, and the real-time warning."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case, Report
from coordinator.evidence.models import Evidence
from coordinator.field.devices import signed_headers
from coordinator.field.models import Alert, AlertReceipt, Device, DeviceNonce, DroneFlight, RealtimeWarning
from coordinator.field.warnings import NightHours, roster_night
from coordinator.hotspots.models import Hotspot
from coordinator.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from coordinator.rosters.models import Roster, RosterShift
from coordinator.squads.services import get_squad
from coordinator.worktime import SHANGHAI
from tests.factories import bearer, make_token, make_user
from tests.field.conftest import (
    DAYTIME,
    LAST_NIGHT,
    NANQIAO,
    ZHELIN,
    alert,
    alert_body,
    camera,
    jpeg,
    register,
    signed_post,
)

ALERTS = "/api/v1/alerts"


def counts(session: Session) -> tuple[int, int, int, int]:
    """Alerts, receipts, nonces, reports: what a refused request must leave untouched."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Alert)) or 0,
        session.scalar(select(func.count()).select_from(AlertReceipt)) or 0,
        session.scalar(select(func.count()).select_from(DeviceNonce)) or 0,
        session.scalar(select(func.count()).select_from(Report)) or 0,
    )


def test_a_signed_alert_above_threshold_opens_a_routed_case(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    code, secret = camera(client, dispatcher_token)
    frame = base64.b64encode(jpeg()).decode()
    response = signed_post(client, ALERTS, code, secret, alert_body(alert("a-1", frame=frame)))
    assert response.status_code == 200, response.get_json()
    [result] = response.get_json()["results"]
    assert result["status"] == "confirmed" and result["case_number"].startswith("JJ-")
    assert not result["duplicate"] and not result["folded"] and result["count"] == 1
    case = session.scalars(select(Case).where(Case.number == result["case_number"])).one()
    # Routed like any report at this point: 柘林 leads, 漕泾 across the border is partner.
    assert case.routing["lead"]["code"] == "SQ-310120118"
    assert [p["code"] for p in case.routing["partners"]] == ["SQ-310116112"]
    report = session.scalars(select(Report).where(Report.case_id == case.id)).one()
    assert report.source == "camera" and report.category_code == "01-11"
    # The frame is the alert's evidence, and the report's photo.
    shown = client.get(f"{ALERTS}/{result['id']}", headers=bearer(dispatcher_token)).get_json()
    assert shown["device"] == code and shown["location_source"] == "device"
    assert shown["in_border_zone"] and shown["border_pair"] == ["310116", "310120"]
    frame_row = session.scalars(select(Evidence).where(Evidence.subject_type == "alert")).one()
    assert (frame_row.subject_id, frame_row.purpose) == (result["id"], "frame")
    assert shown["frame_url"] == f"http://127.0.0.1:5000/api/v1/evidence/{frame_row.id}"
    assert report.photos == [shown["frame_url"]]
    # Staff fetch it (re-encoded, without EXIF); a patroller may not.
    got = client.get(f"/api/v1/evidence/{frame_row.id}", headers=bearer(dispatcher_token))
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    got.close()
    volunteer = make_token(session, make_user(session, "volunteer"))
    session.commit()
    denied = client.get(f"/api/v1/evidence/{frame_row.id}", headers=bearer(volunteer))
    assert denied.status_code == 403


def test_below_threshold_waits_for_review_then_confirm_or_dismiss(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    code, secret = camera(client, dispatcher_token)
    low = signed_post(
        client,
        ALERTS,
        code,
        secret,
        alert_body(
            alert("low-1", confidence=0.41), alert("low-2", cls="illegal_construction", confidence=0.5)
        ),
    )
    assert low.status_code == 200
    first, second = low.get_json()["results"]
    assert first["status"] == second["status"] == "pending_review" and first["case_number"] is None
    assert session.scalar(select(func.count()).select_from(Report)) == 0

    queue = client.get(f"{ALERTS}?status=pending_review", headers=bearer(dispatcher_token)).get_json()
    assert queue["total"] == 2 and {a["id"] for a in queue["alerts"]} == {first["id"], second["id"]}
    # Jinshan's dispatcher does not review Fengxian's alerts.
    jinshan = make_token(session, make_user(session, "dispatcher", district="310116"))
    session.commit()
    assert client.get(f"{ALERTS}?status=pending_review", headers=bearer(jinshan)).get_json()["total"] == 0
    assert client.post(f"{ALERTS}/{first['id']}/confirm", headers=bearer(jinshan)).status_code == 403

    confirmed = client.post(f"{ALERTS}/{first['id']}/confirm", headers=bearer(dispatcher_token))
    assert confirmed.status_code == 200
    body = confirmed.get_json()
    assert body["status"] == "confirmed" and body["case_number"].startswith("JJ-")
    again = client.post(f"{ALERTS}/{first['id']}/confirm", headers=bearer(dispatcher_token))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_pending"

    no_reason = client.post(f"{ALERTS}/{second['id']}/dismiss", json={}, headers=bearer(dispatcher_token))
    assert no_reason.status_code == 422
    dismissed = client.post(
        f"{ALERTS}/{second['id']}/dismiss",
        json={"reason": "农户自建棚架，已核实合法"},
        headers=bearer(dispatcher_token),
    )
    assert dismissed.status_code == 200
    assert dismissed.get_json()["status"] == "dismissed"
    assert dismissed.get_json()["dismiss_reason"] == "农户自建棚架，已核实合法"
    assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_thresholds_are_data(client: FlaskClient, session: Session, dispatcher_token: str) -> None:
    classes = client.get("/api/v1/alert-classes", headers=bearer(dispatcher_token)).get_json()["classes"]
    dumping = next(c for c in classes if c["code"] == "dumping")
    assert dumping["threshold"] == 0.8 and dumping["category"] == "01-11"
    patched = client.patch(
        "/api/v1/alert-classes/dumping", json={"threshold": 0.4}, headers=bearer(dispatcher_token)
    )
    assert patched.status_code == 200 and patched.get_json()["classes"][0]["threshold"] == 0.4
    code, secret = camera(client, dispatcher_token)
    response = signed_post(client, ALERTS, code, secret, alert_body(alert("t-1", confidence=0.41)))
    assert response.get_json()["results"][0]["status"] == "confirmed"
    assert (
        client.patch(
            "/api/v1/alert-classes/nope", json={"threshold": 0.4}, headers=bearer(dispatcher_token)
        ).status_code
        == 404
    )


def test_replay_and_resend_create_nothing(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    code, secret = camera(client, dispatcher_token)
    body = alert_body(alert("r-1"), alert("r-2", at=LAST_NIGHT + timedelta(minutes=30)))
    now = time.time()
    first = signed_post(client, ALERTS, code, secret, body, now=now, nonce="nonce-0001")
    assert first.status_code == 200
    before = counts(session)

    # The very same signed request again: a replay, refused, nothing stored.
    replay = signed_post(client, ALERTS, code, secret, body, now=now, nonce="nonce-0001")
    assert replay.status_code == 409 and replay.get_json()["error"]["code"] == "replayed"
    assert counts(session) == before

    # The same batch re-sent (a new signature): every alert answers as before, nothing new is stored.
    resent = signed_post(client, ALERTS, code, secret, body)
    assert resent.status_code == 200
    assert [r["duplicate"] for r in resent.get_json()["results"]] == [True, True]
    assert [r["id"] for r in resent.get_json()["results"]] == [r["id"] for r in first.get_json()["results"]]
    alerts, receipts, _, reports = counts(session)
    assert (alerts, receipts, reports) == before[:2] + before[3:]


def test_refused_requests_store_nothing(client: FlaskClient, session: Session, dispatcher_token: str) -> None:
    code, secret = camera(client, dispatcher_token)
    body = alert_body(alert("x-1"))
    before = counts(session)
    cases = [
        (signed_post(client, ALERTS, code, "dev_wrong-secret", body), 401, "bad_signature"),
        (signed_post(client, ALERTS, "CAM-NOBODY", secret, body), 401, "unknown_device"),
        (signed_post(client, ALERTS, code, secret, body, now=time.time() - 3600), 401, "stale_timestamp"),
        (client.post(ALERTS, data=body, content_type="application/json"), 401, "signature_missing"),
    ]
    big = base64.b64encode(os.urandom(1_000_001)).decode()  # over the default 1 MB limit
    cases.append(
        (
            signed_post(client, ALERTS, code, secret, alert_body(alert("x-2", frame=big))),
            413,
            "payload_too_large",
        )
    )
    not_jpeg = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()
    cases.append(
        (
            signed_post(client, ALERTS, code, secret, alert_body(alert("x-3", frame=not_jpeg))),
            415,
            "unsupported_media_type",
        )
    )
    for response, status, error in cases:
        assert response.status_code == status, response.get_json()
        assert response.get_json()["error"]["code"] == error
    assert counts(session) == before


def test_the_settings_limit_the_frame(
    client: FlaskClient, session: Session, dispatcher_token: str, app: Flask
) -> None:
    from coordinator.settings import SETTINGS_KEY, get_settings

    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides({"alert_frame_max_bytes": 200})
    code, secret = camera(client, dispatcher_token)
    before = counts(session)
    frame = base64.b64encode(jpeg((64, 64), noise=True)).decode()
    response = signed_post(client, ALERTS, code, secret, alert_body(alert("f-1", frame=frame)))
    assert response.status_code == 413
    assert counts(session) == before


def test_storm_control_folds_repeats_and_throttles_a_flooding_device(
    client: FlaskClient,
    session: Session,
    dispatcher_token: str,
    app: Flask,
) -> None:
    from coordinator.settings import SETTINGS_KEY, get_settings

    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides({"device_alert_limit": 12})
    code, secret = camera(client, dispatcher_token)
    storm = [alert(f"s-{i}", at=LAST_NIGHT + timedelta(seconds=20 * i)) for i in range(10)]
    response = signed_post(client, ALERTS, code, secret, alert_body(*storm))
    results = response.get_json()["results"]
    assert len({r["id"] for r in results}) == 1 and results[-1]["count"] == 10
    assert [r["folded"] for r in results] == [False] + [True] * 9
    assert session.scalar(select(func.count()).select_from(Report)) == 1  # one case, not ten
    later = signed_post(
        client, ALERTS, code, secret, alert_body(alert("s-late", at=LAST_NIGHT + timedelta(hours=1)))
    )
    assert later.get_json()["results"][0]["folded"] is False  # outside the window: a new alert

    flood = signed_post(client, ALERTS, code, secret, alert_body(*[alert(f"f-{i}") for i in range(5)]))
    assert flood.status_code == 429 and int(flood.headers["Retry-After"]) > 0
    assert flood.get_json()["error"]["code"] == "too_many_requests"
    notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "device_throttled")).one()
    assert notice.payload["device"] == code
    assert (
        session.scalar(
            select(func.count()).select_from(AlertReceipt).where(AlertReceipt.device_alert_id.like("f-%"))
        )
        == 0
    )
    still = signed_post(client, ALERTS, code, secret, alert_body(alert("f-9")))
    assert still.status_code == 429  # throttled: told once
    assert (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "device_throttled")
        )
        == 1
    )
    device = client.get(f"/api/v1/devices/{code}", headers=bearer(dispatcher_token)).get_json()
    assert device["throttle_count"] == 1 and device["throttled_until"] is not None


def _roster_tonight(session: Session, hotspot: Hotspot, night: date) -> None:
    roster = Roster(
        period_start=night,
        period_end=night,
        status="published",
        solver="greedy",
        solver_status="FEASIBLE",
        time_limit_s=1.0,
        objective=0,
        solve_time_s=0.0,
        breakdown={},
        explanation={},
        options={},
    )
    session.add(roster)
    session.flush()
    session.add(
        RosterShift(
            roster_id=roster.id,
            hotspot_id=hotspot.id,
            night=night,
            squad_a_id=get_squad(session, "SQ-310120118").id,
            squad_b_id=get_squad(session, "SQ-310116112").id,
            uid=f"test-{roster.id}@jiaojie",
        )
    )
    session.commit()


def test_a_night_border_alert_warns_tonight_s_roster_squads(
    client: FlaskClient, session: Session, dispatcher_token: str, hotspot: Hotspot
) -> None:
    _roster_tonight(session, hotspot, roster_night(LAST_NIGHT))
    code, secret = camera(client, dispatcher_token)
    frame = base64.b64encode(jpeg()).decode()
    result = signed_post(client, ALERTS, code, secret, alert_body(alert("w-1", frame=frame))).get_json()[
        "results"
    ][0]
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "realtime_warning")).one()
    data = message.payload
    assert data["case_number"] == result["case_number"] and data["via"] == "roster"
    assert [r["squad"] for r in data["recipients"]] == ["SQ-310120118", "SQ-310116112"]
    assert data["map_link"].startswith("http://127.0.0.1:5000/map?case=" + result["case_number"])
    frame_row = session.scalars(select(Evidence).where(Evidence.subject_type == "alert")).one()
    assert data["frame_url"].endswith(f"/api/v1/evidence/{frame_row.id}")
    warning = session.scalars(select(RealtimeWarning)).one()
    assert warning.queued_at >= warning.received_at >= warning.detected_at

    # The review shows the time from alert to notification; a delivered webhook adds its time.
    sub = WebhookSubscription(name="wecom-bridge", url="http://127.0.0.1:9/hook", secret="s", event_kinds=[])
    session.add(sub)
    session.flush()
    session.add(
        WebhookDelivery(
            message_id=message.id,
            subscription_id=sub.id,
            state="delivered",
            delivered_at=warning.queued_at + timedelta(seconds=2),
        )
    )
    session.commit()
    listed = client.get("/api/v1/alerts/warnings", headers=bearer(dispatcher_token)).get_json()
    [shown] = listed["warnings"]
    assert shown["case_number"] == result["case_number"] and shown["recipients"] == [
        "SQ-310120118",
        "SQ-310116112",
    ]
    assert shown["detection_to_queue_s"] > 0 and shown["delivered_at"] is not None
    assert abs(shown["detection_to_delivery_s"] - shown["detection_to_queue_s"] - 2) < 0.01
    assert listed["summary"]["warnings"] == 1 and listed["summary"]["delivered"] == 1


def test_without_a_patrol_tonight_the_lead_squad_on_call_is_warned(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    code, secret = camera(client, dispatcher_token)
    signed_post(client, ALERTS, code, secret, alert_body(alert("n-1")))
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "realtime_warning")).one()
    assert message.payload["via"] == "on_call"
    assert [r["squad"] for r in message.payload["recipients"]] == ["SQ-310120118"]
    # By day, or away from the border, there is no real-time warning.
    signed_post(client, ALERTS, code, secret, alert_body(alert("d-1", cls="vehicle_unloading", at=DAYTIME)))
    far, far_secret = camera(client, dispatcher_token, code="CAM-NQ-01", at=NANQIAO)
    signed_post(client, ALERTS, far, far_secret, alert_body(alert("n-2")))
    assert (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "realtime_warning")
        )
        == 1
    )


def test_night_hours() -> None:
    night = NightHours(20, 6)
    assert night.contains(LAST_NIGHT) and not night.contains(DAYTIME)
    early = LAST_NIGHT.replace(day=29, hour=3)
    assert night.contains(early) and roster_night(early) == date(2026, 11, 28)


def _drone(client: FlaskClient, token: str) -> tuple[str, str]:
    return register(
        client, token, code="UAV-FX-01", kind="drone", name="奉贤巡航 1 号", operator_squad="SQ-310120118"
    )


def test_a_drone_alert_takes_its_position_from_the_flight_track(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    code, secret = _drone(client, dispatcher_token)
    start = LAST_NIGHT - timedelta(minutes=5)
    track = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[121.43, 30.818], [121.44, 30.818]]},
        "properties": {"coordTimes": [start.isoformat(), (start + timedelta(minutes=10)).isoformat()]},
    }
    path = "/api/v1/flights?flight_id=F-20261128-1"
    uploaded = signed_post(
        client, path, code, secret, json.dumps(track).encode(), content_type="application/geo+json"
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    assert uploaded.get_json()["points"] == 2 and uploaded.get_json()["format"] == "geojson"

    response = signed_post(client, ALERTS, code, secret, alert_body(alert("u-1")))
    assert response.status_code == 200, response.get_json()
    shown = client.get(
        f"{ALERTS}/{response.get_json()['results'][0]['id']}", headers=bearer(dispatcher_token)
    ).get_json()
    assert shown["location_source"] == "track"
    assert abs(shown["lon"] - 121.435) < 1e-9 and shown["lat"] == 30.818  # half way, at half time
    report = session.scalars(select(Report).where(Report.source == "drone")).one()
    assert report.category_code == "01-11"

    # Outside every track and without a point: 422, nothing stored.
    before = counts(session)
    lost = signed_post(
        client, ALERTS, code, secret, alert_body(alert("u-2", at=LAST_NIGHT - timedelta(hours=2)))
    )
    assert lost.status_code == 422 and lost.get_json()["error"]["code"] == "no_position"
    assert counts(session) == before
    flights = client.get(f"/api/v1/devices/{code}/flights", headers=bearer(dispatcher_token)).get_json()[
        "flights"
    ]
    assert [f["flight_id"] for f in flights] == ["F-20261128-1"]


def test_a_gpx_track(client: FlaskClient, session: Session, dispatcher_token: str) -> None:
    code, secret = _drone(client, dispatcher_token)
    t0 = (LAST_NIGHT - timedelta(minutes=1)).astimezone(SHANGHAI)
    gpx = f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="30.818" lon="121.430"><time>{t0.isoformat()}</time></trkpt>
<trkpt lat="30.820" lon="121.430"><time>{(t0 + timedelta(minutes=2)).isoformat()}</time></trkpt>
</trkseg></trk></gpx>""".encode()
    path = "/api/v1/flights?flight_id=F-gpx"
    response = signed_post(client, path, code, secret, gpx, content_type="application/gpx+xml")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["format"] == "gpx"
    flight = session.scalars(select(DroneFlight)).one()
    assert flight.points == 2
    # The same upload again is a retry of the same flight; a tampered flight id breaks the signature
    # (the query string is signed too).
    retry = signed_post(client, path, code, secret, gpx, content_type="application/gpx+xml")
    assert retry.status_code == 201 and retry.get_json()["id"] == response.get_json()["id"]
    signed = signed_headers(code, secret, "POST", path, gpx, now=time.time())
    forged = client.post(
        "/api/v1/flights?flight_id=F-other", data=gpx, content_type="application/gpx+xml", headers=signed
    )
    assert forged.status_code == 401
    broken = signed_post(
        client, "/api/v1/flights?flight_id=F-bad", code, secret, b"<gpx", content_type="application/gpx+xml"
    )
    assert broken.status_code == 422 and broken.get_json()["error"]["code"] == "invalid_track"


def test_device_registry(client: FlaskClient, session: Session, dispatcher_token: str) -> None:
    code, secret = camera(client, dispatcher_token)
    assert secret.startswith("dev_")
    stored = session.scalars(select(Device).where(Device.code == code)).one()
    assert secret not in stored.secret_sealed and stored.secret_prefix == secret[:10]
    listed = client.get("/api/v1/devices?kind=camera", headers=bearer(dispatcher_token)).get_json()["devices"]
    assert [d["code"] for d in listed] == [code] and listed[0]["border_pair"] == ["310116", "310120"]
    duplicate = client.post(
        "/api/v1/devices",
        json={"code": code, "kind": "drone", "operator_squad": "SQ-310120118"},
        headers=bearer(dispatcher_token),
    )
    assert duplicate.status_code == 409
    no_place = client.post(
        "/api/v1/devices", json={"code": "CAM-X", "kind": "camera"}, headers=bearer(dispatcher_token)
    )
    assert no_place.status_code == 422
    jinshan = make_token(session, make_user(session, "dispatcher", district="310116"))
    session.commit()
    assert (
        client.patch(f"/api/v1/devices/{code}", json={"active": False}, headers=bearer(jinshan)).status_code
        == 403
    )

    rotated = client.post(f"/api/v1/devices/{code}/secret", headers=bearer(dispatcher_token))
    assert rotated.status_code == 200
    new_secret = rotated.get_json()["secret"]
    assert signed_post(client, ALERTS, code, secret, alert_body(alert("k-1"))).status_code == 401
    assert signed_post(client, ALERTS, code, new_secret, alert_body(alert("k-1"))).status_code == 200
    off = client.patch(f"/api/v1/devices/{code}", json={"active": False}, headers=bearer(dispatcher_token))
    assert off.status_code == 200 and off.get_json()["active"] is False
    refused = signed_post(client, ALERTS, code, new_secret, alert_body(alert("k-2")))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "device_inactive"


def test_payload_point_is_located(client: FlaskClient, session: Session, dispatcher_token: str) -> None:
    code, secret = camera(client, dispatcher_token)
    point = {"lon": ZHELIN[0] + 0.001, "lat": ZHELIN[1]}
    body = alert_body({**alert("p-1"), **point})
    response = signed_post(client, ALERTS, code, secret, body)
    alert_id = response.get_json()["results"][0]["id"]
    shown = client.get(f"{ALERTS}/{alert_id}", headers=bearer(dispatcher_token)).get_json()
    assert shown["location_source"] == "payload" and shown["lon"] == point["lon"]
    assert shown["frame_url"] is None
