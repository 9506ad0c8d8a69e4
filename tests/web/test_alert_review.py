"""The alert review queue (/alerts), the device registry (/devices) and the desk's count of alerts
awaiting review: through the test client, and the dispatcher's journey in a real browser (a signed
camera alert below threshold is confirmed into a case; another is dismissed, not without a reason)."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.evidence.models import Evidence
from coordinator.field.models import Alert, Device
from tests.factories import bearer, make_token, make_user
from tests.field.conftest import LAST_NIGHT, alert, alert_body, camera, jpeg, register, signed_post
from tests.web.conftest import PHONE, screenshots
from tests.web.helpers import DEMO_SQUAD, login
from tests.web.test_browser import log_in
from tests.web.test_pages import html

ALERTS = "/api/v1/alerts"


def below_threshold(client: FlaskClient, token: str, *ids: str, code: str = "CAM-ZL-01") -> list[int]:
    """A Fengxian border camera sends dumping detections at 0.55 (the class's threshold is 0.80), each
    with a frame, an hour apart (no storm folding); their alert ids."""
    code, secret = camera(client, token, code=code)
    frame = base64.b64encode(jpeg((64, 48))).decode()
    body = alert_body(
        *(
            alert(i, confidence=0.55, at=LAST_NIGHT - timedelta(hours=n), frame=frame)
            for n, i in enumerate(ids)
        )
    )
    response = signed_post(client, ALERTS, code, secret, body)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert {r["status"] for r in results} == {"pending_review"}
    return [r["id"] for r in results]


def drone_with_a_flight(client: FlaskClient, token: str) -> None:
    """柘林中队's drone UAV-FX-01, with one flight of last night uploaded (GeoJSON, signed)."""
    code, secret = register(
        client, token, code="UAV-FX-01", kind="drone", name="奉贤 1 号机", operator_squad=DEMO_SQUAD
    )
    start = LAST_NIGHT - timedelta(minutes=5)
    track = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[121.43, 30.818], [121.44, 30.818]]},
        "properties": {"coordTimes": [start.isoformat(), (start + timedelta(minutes=10)).isoformat()]},
    }
    body = json.dumps(track).encode()
    path = "/api/v1/flights?flight_id=F-20261128-1"
    response = signed_post(client, path, code, secret, body, content_type="application/geo+json")
    assert response.status_code == 201, response.get_json()


def test_the_queue_shows_the_district_s_pending_alerts_and_the_desk_counts_them(
    client: FlaskClient, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    jinshan = make_user(session, "dispatcher", district="310116")
    token = make_token(session, dispatcher)
    session.commit()
    first, second = below_threshold(client, token, "a-1", "a-2")
    code, secret = camera(client, token, code="CAM-ZL-02")  # the same place again: a storm of three
    storm = [alert(f"s-{i}", confidence=0.6, at=LAST_NIGHT + timedelta(seconds=30 * i)) for i in range(3)]
    assert signed_post(client, ALERTS, code, secret, alert_body(*storm)).status_code == 200
    client.post(f"{ALERTS}/{second}/dismiss", json={"reason": "<b>农机</b> 非倾倒"}, headers=bearer(token))

    login(client, dispatcher.username)
    page = html(client.get("/alerts"))
    assert f'data-alert="{first}"' in page and f'data-alert="{second}"' not in page
    assert "偷倒垃圾渣土" in page and "置信度 55%" in page and "阈值" in page and "80%" in page
    assert "柘林沟渠 1 号" in page and "视频监控" in page
    assert "2026-11-28 22:30" in page  # detected, in Shanghai time
    assert "合并 ×3" in page  # the storm-folded count
    assert "/map#17/30.81800/121.43500" in page and "金山区–奉贤区" in page
    evidence = session.scalars(select(Evidence).where(Evidence.subject_id == first)).one()
    assert f'src="/api/v1/evidence/{evidence.id}/thumbnail"' in page
    assert f'href="/api/v1/evidence/{evidence.id}"' in page
    assert 'id="count-pending_review">2<' in page and 'id="count-dismissed">1<' in page

    history = html(client.get("/alerts?status=dismissed"))
    assert f'data-alert="{second}"' in history and f'data-alert="{first}"' not in history
    assert "&lt;b&gt;农机&lt;/b&gt; 非倾倒" in history and "<b>农机" not in history
    assert 'class="alert-confirm"' not in history

    desk = html(client.get("/desk"))
    assert 'href="/alerts"' in desk and "待审核的摄像头和无人机告警" in desk
    assert re.search(r'id="desk-alerts".*?<span class="count pending">2</span>', desk, re.S)
    assert '<a href="/alerts"' in desk and '<a href="/devices"' in desk  # in the navigation

    login(client, jinshan.username)  # another district's dispatcher: none of these
    assert f'data-alert="{first}"' not in html(client.get("/alerts"))
    assert re.search(r'id="desk-alerts".*?<span class="count">0</span>', html(client.get("/desk")), re.S)
    assert client.get("/alerts?status=unknown").status_code == 422


def test_the_device_registry_shows_cameras_and_drones_read_only(
    client: FlaskClient, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    admin = make_user(session, "admin")
    leader = make_user(session, "squad_leader")
    token = make_token(session, dispatcher)
    session.commit()
    below_threshold(client, token, "a-1")
    drone_with_a_flight(client, token)

    login(client, dispatcher.username)
    page = html(client.get("/devices"))
    assert 'data-device="CAM-ZL-01"' in page and "柘林沟渠 1 号" in page
    assert "东南 135°" in page and "金山区–奉贤区" in page and "奉贤区" in page
    assert "2026-11-28 22:30" in page  # its last alert
    assert 'data-device="UAV-FX-01"' in page and "柘林中队" in page
    assert "F-20261128-1 · 2026-11-28 22:25–22:35 · 2 个航点" in page
    assert "POST /api/v1/devices" not in page  # the API hint is the admin's
    secret_prefix = session.scalars(select(Device.secret_prefix).where(Device.code == "CAM-ZL-01")).one()
    assert secret_prefix not in page

    login(client, admin.username)
    page = html(client.get("/devices"))
    assert "POST /api/v1/devices" in page and 'id="register-hint"' in page

    login(client, leader.username)
    assert client.get("/devices").status_code == 403 and client.get("/alerts").status_code == 403
    assert 'href="/alerts"' not in html(client.get("/inbox"))


def test_the_demo_seed_has_a_camera_with_alerts_awaiting_review(app: Flask, session: Session) -> None:
    from coordinator.demo import seed_demo_field_devices

    with app.app_context():
        assert "3 alerts awaiting review" in seed_demo_field_devices(session)
        assert seed_demo_field_devices(session) == "demo devices: already there"
    camera_id = session.scalars(select(Device.id).where(Device.code == "CAM-DEMO-ZL-01")).one()
    alerts = session.scalars(select(Alert).where(Alert.device_id == camera_id).order_by(Alert.count)).all()
    assert [a.status for a in alerts] == ["pending_review"] * 3
    assert sorted(a.count for a in alerts) == [1, 1, 3]  # the dumping storm folded
    assert all(a.district_code == "310120" and a.in_border_zone for a in alerts)
    assert all(a.frame_evidence_id is not None for a in alerts)
    assert (
        session.scalar(select(func.count()).select_from(Device).where(Device.code == "UAV-DEMO-FX-01")) == 1
    )


def test_dispatcher_confirms_one_alert_into_a_case_and_dismisses_another_with_a_reason(
    page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    token = make_token(session, dispatcher)
    session.commit()
    confirm_id, dismiss_id, raced_id = below_threshold(client, token, "a-1", "a-2", "a-3")
    drone_with_a_flight(client, token)

    log_in(page, live, dispatcher.username, "/desk")
    expect(page.locator("#desk-alerts .count")).to_have_text("3")
    page.locator("#desk-alerts a").click()
    page.wait_for_url(f"{live}/alerts")
    card = page.locator(f"article.alert-card[data-alert='{confirm_id}']")
    expect(card).to_contain_text("偷倒垃圾渣土")
    expect(card).to_contain_text("置信度 55%")
    expect(card).to_contain_text("2026-11-28 22:30")
    # The thumbnail loads (lazy, it may still be in flight when the card's text is there): fails on
    # timeout if not. (A one-shot look at naturalWidth here found 0 on a busy machine.)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=card.locator(".frame img").element_handle()
    )
    screenshots(page, "alerts")

    # Dismissing without a reason is refused on the page; the alert stays in the queue.
    other = page.locator(f"article.alert-card[data-alert='{dismiss_id}']")
    other.locator("form.alert-dismiss button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_have_text("请填写理由")
    expect(other.locator("input[name=reason]")).to_have_attribute("aria-invalid", "true")
    # With a reason it leaves the queue.
    other.locator("input[name=reason]").fill("农户收割机作业，非倾倒")
    other.locator("form.alert-dismiss button[type=submit]").click()
    expect(other).to_have_count(0)
    expect(page.locator("#flash")).to_contain_text("已排除")
    expect(page.locator("#count-pending_review")).to_have_text("2")

    # Another dispatcher (here: the API) reviewed one meanwhile: the 409 is shown, nothing changes.
    assert (
        client.post(
            f"{ALERTS}/{raced_id}/dismiss", json={"reason": "重复"}, headers=bearer(token)
        ).status_code
        == 200
    )
    page.locator(f"article.alert-card[data-alert='{raced_id}'] button.alert-confirm").click()
    expect(page.locator("#flash.bad")).to_contain_text("该告警已由他人审核")

    # Confirming opens a case routed like any report there, and lands on its page.
    card.locator("button.alert-confirm").click()
    page.wait_for_url(re.compile(rf"{re.escape(live)}/cases/\d+$"))
    expect(page.locator("#case-map")).to_have_attribute("data-ready", "true")  # the page's requests are done
    session.expire_all()  # (the live server shares the test's connection: not while it serves)
    confirmed = session.get_one(Alert, confirm_id)
    case = session.get_one(Case, confirmed.case_id)
    assert page.url.endswith(f"/cases/{case.id}")
    expect(page.locator("h1")).to_contain_text(case.number)
    expect(page.locator(".routing")).to_contain_text("柘林中队")
    expect(page.locator(".reports")).to_contain_text("摄像头")

    page.goto(f"{live}/alerts")
    expect(page.locator("article.alert-card")).to_have_count(0)
    expect(page.locator("#alerts .empty")).to_be_visible()
    page.locator(".tabs a[data-status=dismissed]").click()
    expect(page.locator(f"article.alert-card[data-alert='{dismiss_id}']")).to_contain_text(
        "农户收割机作业，非倾倒"
    )
    page.locator(".tabs a[data-status=confirmed]").click()
    expect(page.locator(f"article.alert-card[data-alert='{confirm_id}'] a.case-link")).to_have_text(
        case.number
    )
    expect(page.locator(f"article.alert-card[data-alert='{confirm_id}']")).to_contain_text(
        dispatcher.username
    )
    screenshots(page, "alerts-confirmed")

    page.set_viewport_size(PHONE)
    page.goto(f"{live}/devices")
    expect(page.locator("article.device[data-device='CAM-ZL-01']")).to_contain_text("柘林沟渠 1 号")
    expect(page.locator("article.device[data-device='UAV-FX-01']")).to_contain_text("F-20261128-1")
    screenshots(page, "devices")
