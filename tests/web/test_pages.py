"""The pages, through the test client: access by the policy table, HTML error pages, escaping, the
language switch and the security headers (the browser journeys are in test_browser.py)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_hotspot, make_user
from tests.web.helpers import ZHELIN, leader, login, report

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def html(response) -> str:  # type: ignore[no-untyped-def]
    assert response.mimetype == "text/html", response.mimetype
    text: str = response.get_data(as_text=True)
    assert text.lstrip().lower().startswith("<!doctype html>")
    return text


def test_a_page_without_a_session_answers_401_with_the_login_form(client: FlaskClient) -> None:
    response = client.get("/inbox?x=1")
    assert response.status_code == 401
    page = html(response)
    assert 'id="login-form"' in page and 'data-next="/inbox?x=1"' in page
    assert "登录" in page  # zh-CN by default


def test_start_page_sends_each_role_to_its_page(client: FlaskClient, session: Session) -> None:
    assert client.get("/").headers["Location"] == "/login"
    user = leader(session)
    dispatcher = make_user(session, "dispatcher", district="310120")
    session.commit()
    login(client, user.username)
    assert client.get("/").headers["Location"] == "/inbox"
    login(client, dispatcher.username)
    assert client.get("/").headers["Location"] == "/desk"


def test_login_page_only_returns_to_this_site(client: FlaskClient) -> None:
    assert 'data-next="/"' in html(client.get("/login?next=//evil.example/x"))
    assert 'data-next="/"' in html(client.get("/login?next=https://evil.example/"))
    assert 'data-next="/map"' in html(client.get("/login?next=/map"))


def test_inbox_lists_the_case_with_one_tap_claim(client: FlaskClient, session: Session) -> None:
    user = leader(session)
    case = report(client, session, "路边占道经营")
    login(client, user.username)
    page = html(client.get("/inbox"))
    assert case["case_number"] in page
    assert f'data-action="claim" data-case="{case["case_id"]}"' in page
    assert "认领" in page and "交界地带" in page


def test_a_script_in_a_description_shows_as_text(client: FlaskClient, session: Session) -> None:
    user = make_user(session, "dispatcher", district="310120")
    case = report(client, session, SCRIPT)
    login(client, user.username)
    page = html(client.get(f"/cases/{case['case_id']}"))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    # every <script> of the page is ours: an external file, or a JSON data block
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/assets/' in tag or 'type="application/json"' in tag, tag


def test_case_page_shows_routing_timeline_and_the_api_allowed_actions(
    client: FlaskClient, session: Session
) -> None:
    user = leader(session)
    case = report(client, session, "垃圾堆放")
    csrf = login(client, user.username)
    page = html(client.get(f"/cases/{case['case_id']}"))
    assert "柘林中队" in page and "分派依据" in page
    assert 'data-action="claim"' in page and 'data-action="start"' not in page
    claimed = client.post(f"/api/v1/cases/{case['case_id']}/claim", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 200
    page = html(client.get(f"/cases/{case['case_id']}"))
    assert 'data-action="start"' in page and 'data-action="claim"' not in page
    assert "kind-claimed" in page and user.username in page


def test_pages_follow_the_policy_table(client: FlaskClient, session: Session) -> None:
    member = leader(session, "squad_member")
    session.commit()
    login(client, member.username)
    response = client.get("/desk")
    assert response.status_code == 403
    assert "无权访问" in html(response)
    assert client.get("/map").status_code == 200
    assert client.get("/cases/2000000000").status_code == 404


def test_desk_shows_queue_transfers_and_overdue(client: FlaskClient, session: Session) -> None:
    from datetime import timedelta

    from coordinator.db import utcnow
    from coordinator.squads.services import get_squad
    from tests.factories import make_case

    dispatcher = make_user(session, "dispatcher", district="310120")
    queued = make_case(session, lead=None)
    late = make_case(
        session,
        lead=get_squad(session, "SQ-310120118"),
        now=utcnow() - timedelta(days=5),
        claim_by=utcnow() - timedelta(days=4),
        resolve_by=utcnow() - timedelta(days=1),
    )
    session.commit()
    login(client, dispatcher.username)
    page = html(client.get("/desk"))
    assert queued.number in page and 'data-action="transfer"' in page
    assert "柘林中队" in page and late.number not in page.split('id="overdue"')[0].split('id="queue"')[1]


def test_language_switch(client: FlaskClient, session: Session) -> None:
    user = leader(session)
    session.commit()
    login(client, user.username)
    assert "待办" in html(client.get("/inbox"))
    switched = client.get("/lang/en?next=/inbox")
    assert switched.status_code == 302 and switched.headers["Location"] == "/inbox"
    page = html(client.get("/inbox"))
    assert "Inbox" in page and "待办" not in page
    client.get("/lang/zh_CN")
    assert "待办" in html(client.get("/inbox"))


def test_security_headers_and_csp(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "img-src 'self' blob:;" in csp  # no basemap configured: no tile host
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_report_form_is_public(client: FlaskClient) -> None:
    page = html(client.get("/report"))
    assert 'id="report-form"' in page and "使用我的位置" in page


def test_vendored_leaflet_is_served(client: FlaskClient) -> None:
    response = client.get("/assets/vendor/leaflet-1.9.4/leaflet.js")
    assert response.status_code == 200 and b"Leaflet 1.9.4" in response.data[:400]
    response.close()


def test_status_page_by_its_secret_token(client: FlaskClient, session: Session) -> None:
    import secrets

    from coordinator.citizen.models import StatusLink
    from coordinator.citizen.services import hash_token
    from coordinator.db import utcnow

    case = report(client, session, SCRIPT)
    token = secrets.token_urlsafe(24)
    session.add(StatusLink(report_id=case["report_id"], token_hash=hash_token(token), created_at=utcnow()))
    session.commit()
    page = html(client.get(f"/s/{token}"))
    assert case["case_number"] in page and "您的反映已收到" in page and "已派遣至处置中队" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    response = client.get(f"/s/{token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    missing = client.get("/s/" + "x" * 32)
    assert missing.status_code == 404 and "未找到" in html(missing)


def test_patrol_page_lists_hotspots_and_own_checks_for_a_patroller(
    client: FlaskClient, session: Session
) -> None:
    hotspot = make_hotspot(session, name="柘林沟渠热点")
    elsewhere = make_hotspot(session, name="松江浦东热点", pair=("310115", "310117"))
    worker = make_user(session, "grid_worker", town="310120118")
    other = make_user(session, "volunteer", town="310120118")
    session.commit()
    csrf = login(client, other.username)
    found = client.post(
        "/api/v1/patrol-checks",
        json={
            "lon": ZHELIN[0],
            "lat": ZHELIN[1],
            "checked_at": "2026-11-28T22:30:00+08:00",
            "outcome": "found",
            "category": "01-11",
            "hotspot_id": hotspot.id,
            "note": SCRIPT,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert found.status_code == 201, found.get_json()
    number = found.get_json()["case_number"]
    assert client.get("/").headers["Location"] == "/patrol"
    page = html(client.get("/patrol"))
    assert number in page and "发现问题" in page
    assert SCRIPT not in page and "&lt;script&gt;" in page  # the note shows as text

    login(client, worker.username)
    assert client.get("/").headers["Location"] == "/patrol"
    page = html(client.get("/patrol"))
    assert "柘林沟渠热点" in page and "松江浦东热点" not in page  # their district's borders only
    assert f'data-hotspot="{hotspot.id}"' in page and f'data-hotspot="{elsewhere.id}"' not in page
    assert "2026-11-28 22:30" in page  # the hotspot's last check (the volunteer's)
    assert number not in page and "暂无巡查记录" in page  # only their own checks
    assert 'id="patrol-form" data-url="/api/v1/patrol-checks"' in page
    assert "巡查" in page and "无异常" in page

    for role in ("squad_leader", "dispatcher", "reporter"):
        user = make_user(session, role, district="310120" if role == "dispatcher" else None)
        session.commit()
        login(client, user.username)
        assert client.get("/patrol").status_code == 403
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login(client, worker.username)})
    assert client.get("/patrol").status_code == 401
