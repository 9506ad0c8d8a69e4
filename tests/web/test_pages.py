"""The pages, through the test client: access by the policy table, HTML error pages, escaping, the
language switch and the security headers (the browser journeys are in test_browser.py)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_hotspot, make_user
from tests.web.helpers import ZHELIN, leader, login, report, resolved_citizen_case

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


def test_every_page_answers_html_to_a_visitor_without_a_session(app: Flask, client: FlaskClient) -> None:
    # A bookmarked /dashboard opened after the session ended must show the login form, not the API's
    # JSON error: every GET route of the web blueprint, with 1 for its path parameters.
    pages = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("web.")
        and rule.endpoint != "web.static"
        and "GET" in (rule.methods or ())
    ]
    assert len(pages) >= 20
    for rule in pages:
        path = rule.build(dict.fromkeys(rule.arguments, 1))[1] if rule.arguments else rule.rule
        response = client.get(path)
        assert response.mimetype == "text/html", (path, response.status_code, response.mimetype)
        if response.status_code == 401:
            assert 'id="login-form"' in html(response), path
        assert "Content-Security-Policy" in response.headers, path


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


def test_report_form_of_a_logged_in_reporter_account_files_the_account_s_report(
    client: FlaskClient, session: Session
) -> None:
    """The /report form posts where its `data-url` says, as report.js builds it (multipart: the report as
    JSON in `report`, photos in `photos`). Logged in as a reporter account, that is the reports API: the
    report is the account's — on 我的举报, and the account earns its points — not an anonymous one with a
    status link. Without an account (or as staff) the form stays the citizen API's."""
    import io
    import json

    from sqlalchemy import select

    from coordinator.cases.models import Report
    from coordinator.community import rewards
    from coordinator.evidence.services import list_evidence
    from tests.community.conftest import LAT, LON, People
    from tests.evidence.images import jpeg

    def form_url(page: str) -> str:
        form = re.search(r'<form id="report-form"[^>]*>', page)
        assert form is not None
        found = re.search(r'data-url="([^"]+)"', form.group(0))
        assert found is not None
        return found.group(1)

    anonymous = html(client.get("/report"))
    assert form_url(anonymous) == "/api/v1/citizen/reports" and 'data-account="true"' not in anonymous
    assert 'name="phone" type="tel" maxlength="32" autocomplete="tel" required' in anonymous

    people = People(session, client)
    people.add("admin", "admin")
    citizen = people.add("citizen", "reporter")
    csrf = login(client, citizen.username)
    page = html(client.get("/report"))
    url = form_url(page)
    assert url == "/api/v1/reports" and 'data-account="true"' in page and 'id="as-account"' in page
    assert citizen.username in page

    report = {"category": "01-11", "description": "桥下建筑垃圾", "lon": LON, "lat": LAT, "crs": "wgs84"}
    sent = client.post(
        url,
        data={"report": json.dumps(report), "photos": [(io.BytesIO(jpeg(320, 240)), "p.jpg")]},
        content_type="multipart/form-data",
        headers={"X-CSRF-Token": csrf},
    )
    assert sent.status_code == 201, sent.get_json()
    answer = sent.get_json()
    stored = session.get_one(Report, answer["report_id"])
    assert (stored.submitted_by_id, stored.source) == (citizen.id, "citizen")
    assert len(list_evidence(session, "report", stored.id)) == 1
    mine = client.get("/api/v1/my/reports").get_json()["reports"]
    assert [r["report_id"] for r in mine] == [answer["report_id"]]
    listed = html(client.get("/my-reports"))
    assert f'id="report-{answer["report_id"]}"' in listed and answer["case_number"] in listed

    # The dispatcher verifies the case: the account earns (the report has no phone to earn for).
    people.lead_squad_people(answer["case_id"])
    people.resolve(answer["case_id"])
    assert people.act("dispatcher", answer["case_id"], "verify").status_code == 200
    assert rewards.balance(session, rewards.Reporter(user_id=citizen.id)) == 10
    assert 'id="balance">10<' in html(client.get("/my-reports"))

    # Staff on the report form file anonymously, as before (their own reports go through the API).
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    login(client, people.users["dispatcher"].username)
    assert form_url(html(client.get("/report"))) == "/api/v1/citizen/reports"
    assert session.scalars(select(Report).where(Report.submitted_by_id == citizen.id)).all() == [stored]


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


def test_dashboard_shows_each_border_pair_with_its_chart_and_exports(
    client: FlaskClient, session: Session
) -> None:
    from datetime import datetime

    from coordinator.worktime import SHANGHAI

    case = report(client, session, "垃圾堆放")
    committee = make_user(session, "committee")
    session.commit()
    login(client, committee.username)
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    page = html(client.get(f"/dashboard?month={month}"))
    assert "联席会议看板" in page and "按时办结率" in page
    pair = re.search(r'id="pair-(\d+-\d+)"', page)
    assert pair is not None and "奉贤区" in page
    section = page.split(f'id="pair-{pair.group(1)}"')[1].split("</section>")[0]
    # the week of the case has a new-case bar of height > 0, drawn on the server
    bars = re.findall(
        r'<rect class="bar-new" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', section
    )
    assert bars and max(float(h) for h in bars) > 0
    assert "format=xlsx" in page and "/api/v1/review/cases/export?" in page and "format=geojson" in page
    assert case["case_number"] not in page  # aggregates only
    assert client.get("/dashboard?month=2026-13").status_code == 422
    member = leader(session, "squad_member")
    session.commit()
    login(client, member.username)
    assert client.get("/dashboard").status_code == 403


def test_dashboard_carries_the_hotspot_map_of_the_period_and_its_border_pair(
    client: FlaskClient, session: Session
) -> None:
    import json
    from datetime import datetime

    from coordinator.worktime import SHANGHAI

    hotspot = make_hotspot(session, lon=ZHELIN[0], lat=ZHELIN[1], name="柘林–漕泾沟渠")
    elsewhere = make_hotspot(session, lon=121.2, lat=30.9, pair=("310116", "310117"), name="别处热点")
    for category in ("01-11", "01-10"):  # two dumping cases at the hotspot (two categories: no dedup)
        report(client, session, "沟渠边倾倒垃圾", category=category)
    committee = make_user(session, "committee")
    session.commit()
    login(client, committee.username)
    month = datetime.now(SHANGHAI).strftime("%Y-%m")

    def points(query: str) -> dict[int, Any]:
        page = html(client.get(f"/dashboard?month={month}{query}"))
        assert 'id="hotspot-map"' in page and "热点地图" in page and 'src="/assets/web/map.js"' in page
        config = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', page, re.S)
        assert config is not None
        data = json.loads(config.group(1))
        assert data["trends"] == {"rising": "上升", "falling": "下降", "flat": "持平"}
        return {p["id"]: p for p in data["hotspots"]}

    both = points("")
    assert both[hotspot.id] == {
        "id": hotspot.id,
        "name": "柘林–漕泾沟渠",
        "kind": "沟渠",
        "border_pair": "310116-310120",
        "lon": ZHELIN[0],
        "lat": ZHELIN[1],
        "cases": 2,
        "previous": 0,
        "trend": "rising",
        "active": True,
    }
    assert both[elsewhere.id]["cases"] == 0 and both[elsewhere.id]["trend"] == "flat"
    only = points("&border_pair=310120-310116")  # the page's pair filter: that pair's hotspots only
    assert set(only) == {hotspot.id}


def test_dashboard_counts_renovation_filings_per_district_and_month(
    client: FlaskClient, session: Session, locator_cache: Any, session_factory: Any
) -> None:
    """The committee's dashboard shows the renovation counts of its period (and border pair): per district
    and month the filings by their state now and the spot checks' outcomes, with a total row."""
    from tests.review.test_renovation import build

    build(session, locator_cache.get(session_factory))
    committee = make_user(session, "committee")
    session.commit()
    login(client, committee.username)
    page = html(client.get("/dashboard?from=2026-10-01&to=2026-11-30"))
    card = page[page.index('id="renovation"') :].split("</section>")[0]
    assert "装修申报" in card and "城管抽查" in card and "已退回" in card

    def cells(row: str) -> dict[str, str]:
        return dict(re.findall(r'<td class="num ([\w-]+)">(\d+)</td>', row))

    rows = {
        (d, m): cells(r)
        for d, m, r in re.findall(r'<tr data-district="(\d*)" data-month="([\d-]+)">(.*?)</tr>', card, re.S)
    }
    assert set(rows) == {("310120", "2026-10"), ("310120", "2026-11"), ("310116", "2026-11")}
    october = rows[("310120", "2026-10")]
    assert (october["filings-total"], october["state-submitted"], october["state-returned"]) == (
        "3",
        "1",
        "1",
    )
    assert (october["state-accepted"], october["checks-total"]) == ("1", "0")
    november = rows[("310120", "2026-11")]
    assert (november["checks-passed"], november["checks-failed"], november["checks-cases"]) == ("1", "1", "1")
    total = cells(card.split('<tr class="total">')[1].split("</tr>")[0])
    assert (total["filings-total"], total["checks-total"], total["checks-cases"]) == ("5", "3", "1")
    assert "李四" not in page and "13912345678" not in page  # counts, not people
    assert "/api/v1/review/renovation?from=2026-10-01&amp;to=2026-11-30" in card

    other = html(client.get("/dashboard?from=2026-10-01&to=2026-11-30&border_pair=310116-310117"))
    assert 'data-district="310120"' not in other and 'data-district="310116"' in other  # the pair's districts
    quiet = html(client.get("/dashboard?month=2026-09"))
    assert "本期没有装修申报或城管抽查。" in quiet


def test_meeting_pages_show_the_record_and_give_the_host_its_forms(
    client: FlaskClient, session: Session
) -> None:
    from tests.meetings.conftest import alliance_series

    admin = make_user(session, "admin")
    series, _plan = alliance_series(session, admin)
    from coordinator.meetings import services as meetings

    first = meetings.list_meetings(session, series_id=series.id)[0]
    host = make_user(session, "dispatcher", district=first.host_district_code)
    elsewhere = next(d for d in ("310116", "310120") if d != first.host_district_code)
    other = make_user(session, "dispatcher", district=elsewhere)
    committee = make_user(session, "committee")
    session.commit()
    csrf = login(client, host.username)
    listing = html(client.get("/meetings"))
    assert f'href="/meetings/{first.id}"' in listing and first.title in listing
    page = html(client.get(f"/meetings/{first.id}"))
    assert 'id="minutes-form"' in page and 'id="agenda-form"' in page and 'id="action-item-form"' in page
    answer = client.put(
        f"/api/v1/meetings/{first.id}/minutes",
        json={"minutes": SCRIPT, "decisions": ["联合整治漕泾—柘林交界堆放点"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.get_json()
    page = html(client.get(f"/meetings/{first.id}"))
    assert "联合整治漕泾—柘林交界堆放点" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    for viewer in (other, committee):
        login(client, viewer.username)
        page = html(client.get(f"/meetings/{first.id}"))
        assert "联合整治漕泾—柘林交界堆放点" in page and 'id="minutes-form"' not in page
    assert client.get("/meetings/2000000000").status_code == 404


def test_roster_page_shows_the_grid_the_fairness_table_and_the_move_form(
    client: FlaskClient, session: Session, session_factory: Any, locator_cache: Any
) -> None:
    from coordinator.hotspots.demo import seed_demo_hotspots

    assert seed_demo_hotspots(session, locator_cache.get(session_factory)) >= 5
    dispatcher = make_user(session, "dispatcher", district="310120")
    session.commit()
    csrf = login(client, dispatcher.username)
    body = {"start": "2026-12-07", "weeks": 2, "options": {"time_limit_s": 3.0, "seed": 7}}
    drafted = client.post("/api/v1/rosters", json=body, headers={"X-CSRF-Token": csrf})
    assert drafted.status_code == 201, drafted.get_json()
    roster = drafted.get_json()
    assert f'href="/rosters/{roster["id"]}"' in html(client.get("/rosters"))
    page = html(client.get(f"/rosters/{roster['id']}"))
    grid = page.split('id="grid"')[1].split("</section>")[0]
    shifts = roster["shifts"]

    def squads_of(s: dict[str, Any]) -> set[str]:
        return {q["code"] for q in s["squads"]}

    shift = next(s for s in shifts if any(o["id"] != s["id"] and squads_of(o) & squads_of(s) for o in shifts))
    cell = grid.split(f'data-night="{shift["night"]}" data-hotspot="{shift["hotspot"]["id"]}">')[1]
    assert cell.split("</td>")[0].count('class="shift shift-planned"') >= 1
    assert shift["squads"][0]["name"] in cell.split("</td>")[0]
    fairness = page.split('id="fairness"')[1].split("</section>")[0]
    for squad in roster["squads"]:
        assert squad["name"] in fairness
    assert "每个中队均未超出其容量" in fairness
    assert 'id="move-form"' in page and f'data-url="/api/v1/rosters/{roster["id"]}/shifts/{{shift}}"' in page
    # the form's request for a night the same squad already patrols: refused with the reason it shows
    clash = next(s["night"] for s in shifts if s["id"] != shift["id"] and squads_of(s) & squads_of(shift))
    refused = client.patch(
        f"/api/v1/rosters/{roster['id']}/shifts/{shift['id']}",
        json={"night": clash},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 422
    violation = refused.get_json()["error"]["details"]["violations"][0]
    assert violation["message"] and violation["squads"] and violation["nights"]
    committee = make_user(session, "committee")
    session.commit()
    login(client, committee.username)
    assert client.get(f"/rosters/{roster['id']}").status_code == 403


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


def test_rewards_page_is_for_admins_with_the_month_the_rules_and_the_forms(
    client: FlaskClient, session: Session
) -> None:
    committee = make_user(session, "committee")
    admin = make_user(session, "admin")
    session.commit()
    login(client, committee.username)
    assert client.get("/rewards").status_code == 403  # the rewards API is admins' only
    assert 'href="/rewards"' not in html(client.get("/dashboard"))
    login(client, admin.username)
    page = html(client.get("/rewards?month=2026-10"))
    assert "积分奖励" in page and 'href="/rewards"' in page
    assert '<option value="2026-10" selected>' in page
    assert 'data-rule="citizen-01-11"' in page and 'class="rule-form"' in page
    assert 'id="redeem-form"' in page and "/assets/web/rewards.js" in page
    assert client.get("/rewards?month=2026-13").status_code == 422


def test_status_page_of_a_resolved_case_offers_rating_and_dispute_and_shows_points(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    from coordinator.settings import SETTINGS_KEY, get_settings

    token, case = resolved_citizen_case(client, session)
    page = html(client.get(f"/s/{token}"))
    assert "rating-form" in page and "dispute-form" in page and "您可在" in page
    assert f'data-url="/api/v1/status/{token}/dispute"' in page
    ledger = page[page.index('id="points"') :]
    assert 'id="balance">10<' in ledger and "获得" in ledger and case.number in ledger and "+10" in ledger
    assert "13700002222" not in page  # the phone that owns the points is never shown

    # The dispute path, as the page's form sends it: the case goes back to the dispatcher.
    disputed = client.post(f"/api/v1/status/{token}/dispute", json={"reason": "桥墩后面还有一堆没清"})
    assert disputed.status_code == 201 and disputed.get_json()["status"] == "resolved"
    page = html(client.get(f"/s/{token}"))
    assert "您的异议" in page and "桥墩后面还有一堆没清" in page and "dispute-form" not in page
    assert "rating-form" in page  # rating is still possible
    assert "对处置结果提出异议" in page  # the step in the progress list
    again = client.post(f"/api/v1/status/{token}/dispute", json={"reason": "再说一次"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_disputed"

    # After the window: no forms, the date it ended, and the API refuses with the code the page explains.
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides({"feedback_window_days": 0})
    page = html(client.get(f"/s/{token}"))
    assert "rating-form" not in page and "评价和异议的期限已于" in page
    late = client.post(f"/api/v1/status/{token}/rating", json={"stars": 5})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "feedback_window_closed"
    assert "feedback_window_closed" in page  # the script's words for that refusal travel with the page


def test_status_page_of_an_open_case_has_no_forms(client: FlaskClient, session: Session) -> None:
    answer = client.post(
        "/api/v1/citizen/reports",
        json={"category": "01-11", "lon": ZHELIN[0], "lat": ZHELIN[1], "reporter": {"phone": "13700003333"}},
    ).get_json()
    page = html(client.get(answer["status_url"].replace("http://localhost", "")))
    assert "rating-form" not in page and 'id="rate"' not in page
    assert 'id="balance">0<' in page and "还没有积分" in page


def test_my_reports_page_lists_a_reporters_reports_with_rating_and_points(
    client: FlaskClient, session: Session
) -> None:
    from tests.community.conftest import People

    people = People(session, client)
    people.add("admin", "admin")
    citizen = people.add("citizen", "reporter")
    sent = people.report("citizen", description="路边装修垃圾 " + SCRIPT).get_json()
    people.lead_squad_people(sent["case_id"])
    people.resolve(sent["case_id"])
    assert people.act("dispatcher", sent["case_id"], "verify").status_code == 200

    csrf = login(client, citizen.username)
    page = html(client.get("/my-reports"))
    assert 'href="/my-reports"' in page and "我的举报" in page
    card = page[page.index('id="my-reports"') :]
    assert sent["case_number"] in card and "已核查" in card and "已清运，现场恢复" in card
    assert f'data-url="/api/v1/my/reports/{sent["report_id"]}/rating"' in card
    assert 'id="balance">10<' in page
    rated = client.post(
        f"/api/v1/my/reports/{sent['report_id']}/rating",
        json={"stars": 4, "comment": "<b>快</b>"},
        headers={"X-CSRF-Token": csrf},
    )
    assert rated.status_code == 201, rated.get_json()
    page = html(client.get("/my-reports"))
    assert "★★★★☆" in page and "&lt;b&gt;快&lt;/b&gt;" in page and "rating-form" not in page

    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    login(client, leader(session).username)
    assert client.get("/my-reports").status_code == 403
