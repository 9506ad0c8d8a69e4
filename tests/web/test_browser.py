"""The three journeys in a real browser (Chromium): a squad leader, a citizen, a dispatcher."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases import workflow
from coordinator.cases.models import Case, Report
from coordinator.db import utcnow
from coordinator.squads.services import get_squad
from tests.evidence.images import jpeg
from tests.factories import PASSWORD, bearer, make_case, make_hotspot, make_squad, make_token, make_user
from tests.web.conftest import PHONE, screenshots
from tests.web.helpers import DEMO_SQUAD, ZHELIN, leader, report


def log_in(page: Page, live: str, username: str, target: str) -> None:
    page.goto(f"{live}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live}{target}")


def test_squad_leader_sees_the_map_claims_a_case_and_uploads_a_photo(
    page: Page, live: str, client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    user = leader(session)
    case: dict[str, Any] = report(client, session, "交界处垃圾堆放 <script>alert(1)</script>")
    page.goto(f"{live}/login")
    screenshots(page, "login")
    log_in(page, live, user.username, "/inbox")

    page.goto(f"{live}/map")
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    labels = page.locator(".district-label")
    expect(labels).to_have_count(4)
    for name in ("奉贤区", "金山区", "松江区", "浦东新区"):
        expect(labels.filter(has_text=name)).to_have_count(1)
    expect(page.locator(".leaflet-control-scale")).to_be_visible()
    expect(page.locator("#map")).to_have_attribute("data-mode", "clusters")  # GET /api/v1/map/clusters
    expect(page.locator(".cluster-icon")).to_have_text("1")
    screenshots(page, "map")
    page.select_option("#map-filters select[name=status]", "closed")  # a filter reloads the layer
    expect(page.locator("#map")).to_have_attribute("data-cases", "0")
    expect(page.locator(".cluster-icon")).to_have_count(0)
    page.select_option("#map-filters select[name=status]", "routed")
    expect(page.locator(".cluster-icon")).to_have_text("1")
    page.goto(f"{live}/map#17/{ZHELIN[1]}/{ZHELIN[0]}")  # zoomed in: the cases themselves
    expect(page.locator("#map")).to_have_attribute("data-mode", "cases")
    page.locator(".leaflet-overlay-pane path").last.click()  # drawn last: the case, over the polygons
    expect(page.locator("#case-card")).to_contain_text(case["case_number"])

    page.goto(f"{live}/inbox")
    card = page.locator(f"article.case[data-case='{case['case_id']}']")
    expect(card).to_contain_text(case["case_number"])
    screenshots(page, "inbox")
    card.locator("button[data-action=claim]").click()
    expect(card.locator("button[data-action=start]")).to_be_visible()  # reloaded: claimed, may start

    page.goto(f"{live}/cases/{case['case_id']}")
    expect(page.locator("#case-status")).to_have_text("已认领")
    expect(page.locator("#events .kind-claimed")).to_contain_text(user.username)
    expect(page.locator(".report .description")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#case-map")).to_have_attribute("data-ready", "true")

    not_a_photo = tmp_path / "photo.jpg"
    not_a_photo.write_bytes(b"MZ\x90\x00 an executable named .jpg")
    form = page.locator("#evidence-form")
    form.locator("input[name=photos]").set_input_files(not_a_photo)
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_contain_text("操作失败")  # 415 from the evidence API
    expect(page.locator("#gallery figure")).to_have_count(0)

    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(640, 480))
    form.locator("select[name=purpose]").select_option("before")
    form.locator("input[name=photos]").set_input_files(photo)
    form.locator("input[name=note]").fill("到场")
    form.locator("button[type=submit]").click()
    expect(page.locator("#gallery figure[data-purpose=before] img")).to_have_count(1)
    expect(page.locator("#events .kind-evidence_added")).to_contain_text("上传整改前照片 1 张：到场")
    # The thumbnail loads (it may still be in flight when the figure appears): fails on timeout if not.
    page.wait_for_function(
        "() => { const img = document.querySelector('#gallery img');"
        " return img !== null && img.complete && img.naturalWidth > 0; }"
    )
    screenshots(page, "case")


def test_dispatcher_reassigns_a_queue_case_and_the_receiving_leader_accepts(
    page: Page, live: str, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    receiver = leader(session)
    queued = make_case(session, lead=None)
    session.commit()
    log_in(page, live, dispatcher.username, "/desk")
    card = page.locator(f"#queue article.case[data-case='{queued.id}']")
    expect(card).to_contain_text(queued.number)
    screenshots(page, "desk")
    form = card.locator("form[data-action=transfer]")
    form.locator("select[name=to_squad]").select_option("SQ-310120118")
    form.locator("input[name=reason]").fill("属地为柘林，请接收")
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#transfers article.case[data-case='{queued.id}']")).to_contain_text("柘林中队")

    page.locator("#logout").click()
    page.wait_for_url(f"{live}/login")
    log_in(page, live, receiver.username, "/inbox")
    page.goto(f"{live}/cases/{queued.id}#transfer")
    form = page.locator("form#transfer")
    form.locator("input[name=reason]").fill("同意接收")
    form.locator("button[data-submit=accept_transfer]").click()
    expect(page.locator("#events .kind-transfer_accepted")).to_contain_text(receiver.username)
    expect(page.locator(".routing")).to_contain_text("柘林中队")


def test_citizen_files_a_report_with_a_photo_and_opens_its_status_page(
    page: Page, live: str, tmp_path: Path, session: Session
) -> None:
    page.goto(f"{live}/report")
    expect(page.locator("#report-map")).to_have_attribute("data-ready", "true")
    screenshots(page, "report")
    form = page.locator("#report-form")
    form.locator("select[name=category]").select_option("01-11")
    form.locator("textarea[name=description]").fill("路口有人倾倒建筑垃圾 <b>很多</b>")
    page.click("#use-gps")  # the browser's (mock) position: 柘林, in the 奉贤–金山 border zone
    expect(form.locator("#lon")).to_have_value("121.435000")
    expect(form.locator("#lat")).to_have_value("30.818000")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg(800, 600))
    form.locator("input[name=photos]").set_input_files(photo)
    form.locator("input[name=phone]").fill("138 0013 8000")
    form.locator("input[name=notify_sms]").check()  # 短信通知我处理进展
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/s/[A-Za-z0-9_-]+$"))
    expect(page.locator("h1")).to_contain_text("JJ-")
    expect(page.locator("#status")).to_have_text("已分派")
    expect(page.locator("#steps")).to_contain_text("您的反映已收到")
    expect(page.locator(".status-page .description")).to_have_text("路口有人倾倒建筑垃圾 <b>很多</b>")
    expect(page.locator(".gallery img")).to_have_count(1)
    assert "138" not in page.content()  # the phone number is never on the public page
    page.wait_for_load_state("networkidle")  # the server is idle: the test may use the shared connection
    sent = session.scalars(select(Report).where(Report.reporter_phone == "13800138000")).one()
    assert (sent.notify_channel, sent.notify_consent) == ("sms", True)  # the consent, for the outbox
    screenshots(page, "status")


def test_dispatcher_accepts_a_transfer_for_a_squad_of_the_district(
    page: Page, live: str, session: Session
) -> None:
    """A Jinshan squad asks 柘林中队 (奉贤) to take a case over at night; 奉贤's dispatcher finds it on the
    desk and accepts it for the squad."""
    dispatcher = make_user(session, "dispatcher", district="310120")
    sender_squad = make_squad(session, district="310116")
    sender = make_user(session, "squad_leader", squad=sender_squad)
    case = make_case(session, lead=sender_squad, district="310116")
    workflow.request_transfer(
        session, case.id, sender, to_squad=DEMO_SQUAD, reason="位于柘林一侧", now=utcnow()
    )
    session.commit()
    log_in(page, live, dispatcher.username, "/desk")
    card = page.locator(f"#transfers article.case[data-case='{case.id}']")
    expect(card).to_contain_text("柘林中队")
    card.locator("a.number").click()
    page.wait_for_url(re.compile(rf"{re.escape(live)}/cases/{case.id}"))
    form = page.locator("form#transfer")
    form.locator("input[name=reason]").fill("中队长夜间不在岗，由调度员代为接收")
    form.locator("button[data-submit=accept_transfer]").click()
    expect(page.locator("#events .kind-transfer_accepted")).to_contain_text(dispatcher.username)
    expect(page.locator(".routing")).to_contain_text("柘林中队")
    screenshots(page, "case-transfer-accepted-by-dispatcher")


def test_dispatcher_moves_a_shift_and_sees_a_hard_rule_refusal_with_its_reason(
    page: Page, live: str, client: FlaskClient, session: Session, session_factory: Any, locator_cache: Any
) -> None:
    from coordinator.hotspots.demo import seed_demo_hotspots
    from tests.factories import bearer, make_token

    assert seed_demo_hotspots(session, locator_cache.get(session_factory)) >= 5
    dispatcher = make_user(session, "dispatcher", district="310120")
    token = make_token(session, dispatcher)
    session.commit()
    body = {"start": "2026-12-07", "weeks": 2, "options": {"time_limit_s": 3.0, "seed": 7}}
    drafted = client.post("/api/v1/rosters", json=body, headers=bearer(token))
    assert drafted.status_code == 201, drafted.get_json()
    roster = drafted.get_json()
    shifts = roster["shifts"]

    def squads_of(s: dict[str, Any]) -> set[str]:
        return {q["code"] for q in s["squads"]}

    shift = next(s for s in shifts if any(o["id"] != s["id"] and squads_of(o) & squads_of(s) for o in shifts))
    clash = next(s["night"] for s in shifts if s["id"] != shift["id"] and squads_of(s) & squads_of(shift))

    log_in(page, live, dispatcher.username, "/desk")
    page.goto(f"{live}/rosters/{roster['id']}")
    expect(page.locator("#grid .shift")).to_have_count(len(shifts))
    screenshots(page, "roster")
    form = page.locator("#move-form")
    form.locator("select[name=shift]").select_option(str(shift["id"]))
    form.locator("select[name=night]").select_option(clash)
    form.locator("button[type=submit]").click()
    flash = page.locator("#flash.bad")
    expect(flash).to_contain_text("改动违反硬性规则")
    expect(flash).to_contain_text(clash)  # the broken rule's nights are named
    cell = page.locator(f'#grid td[data-night="{shift["night"]}"][data-hotspot="{shift["hotspot"]["id"]}"]')
    expect(cell.locator(f'[data-shift="{shift["id"]}"]')).to_have_count(1)  # nothing moved


def test_grid_worker_on_a_phone_records_a_clean_check_and_a_finding_at_a_hotspot(
    page: Page, live: str, client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    """At 390 px: a grid worker of 柘林 checks the ditch hotspot (clean), then finds dumping there; the
    finding becomes a case routed to 柘林中队, and the hotspot shows its checks."""
    hotspot = make_hotspot(session, lon=ZHELIN[0], lat=ZHELIN[1], name="柘林–漕泾沟渠")
    worker = make_user(session, "grid_worker", town="310120118")
    staff = make_token(session, make_user(session, "dispatcher", district="310120"))
    session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, live, worker.username, "/patrol")
    row = page.locator(f"li.hotspot[data-hotspot='{hotspot.id}']")
    expect(row.locator(".last-checked")).to_have_text("从未")
    expect(page.locator("#gps-status")).to_contain_text("GPS 30.81800, 121.43500")  # the (mock) GPS
    screenshots(page, "patrol")
    page.set_viewport_size(PHONE)

    form = page.locator("#patrol-form")
    row.locator("button.check-here").click()
    expect(form.locator("select[name=hotspot_id]")).to_have_value(str(hotspot.id))
    form.locator("button[type=submit]").click()
    first = page.locator("#my-checks li.check").first
    expect(first).to_contain_text("无异常")
    expect(first).to_contain_text("柘林–漕泾沟渠")
    expect(row.locator(".last-checked")).not_to_have_text("从未")

    form.locator("input[name=outcome][value=found]").check()
    form.locator("select[name=category]").select_option("01-11")
    form.locator("textarea[name=note]").fill("沟渠边新倒建筑垃圾约 3 方")
    photo = tmp_path / "沟渠.jpg"
    photo.write_bytes(jpeg(640, 480))
    form.locator("input[name=photos]").set_input_files(photo)
    form.locator("button[type=submit]").click()
    expect(page.locator("#my-checks li.check")).to_have_count(2)
    found = page.locator("#my-checks li.check").first
    expect(found.locator(".case-number")).to_contain_text("JJ-")
    expect(found.locator(".case-number")).to_contain_text("已分派")
    number = found.locator(".case-number").inner_text().split()[1]
    expect(page.locator("#flash")).to_contain_text(number)

    page.reload()  # as the server has it
    expect(page.locator("#my-checks li.check")).to_have_count(2)
    expect(page.locator("#my-checks li.check").first.locator(".case-number")).to_contain_text(number)
    expect(row.locator(".last-checked")).not_to_have_text("从未")
    screenshots(page, "patrol-after-checks")

    session.expire_all()
    case = session.scalars(select(Case).where(Case.number == number)).one()
    assert case.status == "routed" and case.lead_squad_id == get_squad(session, DEMO_SQUAD).id
    coverage = client.get(f"/api/v1/hotspots/{hotspot.id}/checks", headers=bearer(staff)).get_json()
    assert coverage["checks_4_weeks"] == 2 and coverage["findings_4_weeks"] == 1
    assert [c["outcome"] for c in coverage["recent"]] == ["found", "clean"]
    assert coverage["recent"][0]["case_number"] == number and len(coverage["recent"][0]["photos"]) == 1


def test_admin_reads_reward_totals_changes_a_rule_and_redeems_points(
    page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    """An admin picks the month on /rewards and sees 奉贤's earned points, raises a rule's points, is
    refused a redemption over the reporter's balance and books one within it (shown as redeemed)."""
    from datetime import datetime

    from coordinator.community import rewards
    from coordinator.community.models import RewardRule
    from coordinator.worktime import SHANGHAI

    admin = make_user(session, "admin")
    citizen = make_user(session, "reporter")
    token = make_token(session, citizen)
    session.commit()
    body = {"category": "01-11", "description": "沟渠边建筑垃圾", "lon": ZHELIN[0], "lat": ZHELIN[1]}
    sent = client.post("/api/v1/reports", json={**body, "source": "citizen"}, headers=bearer(token))
    assert sent.status_code == 201, sent.get_json()
    case = session.get_one(Case, sent.get_json()["case_id"])
    now = datetime.now(SHANGHAI)
    assert [e.points for e in rewards.credit_case(session, case, now=now)] == [10]  # as on verification
    session.commit()
    month = f"{now.year:04d}-{now.month:02d}"

    log_in(page, live, admin.username, "/desk")
    page.locator("header nav a[href='/rewards']").click()
    page.select_option("#month-form select[name=month]", month)
    page.click("#month-form button[type=submit]")
    page.wait_for_url(f"{live}/rewards?month={month}")
    row = page.locator("#totals-table tr[data-district='310120']")
    expect(row).to_contain_text("奉贤区")
    expect(row.locator(".earned")).to_have_text("10")
    screenshots(page, "rewards")

    rule_row = page.locator("#rules-table tr[data-rule='citizen-01-11']")
    expect(rule_row.locator(".points")).to_have_text("10")
    edit = page.locator("details.rule-edit[data-rule='citizen-01-11']")
    edit.locator("summary").click()
    edit.locator("input[name=points]").fill("15")
    edit.locator("button[type=submit]").click()
    expect(rule_row.locator(".points")).to_have_text("15")  # reloaded: as the server has it
    session.expire_all()
    rule = session.scalars(select(RewardRule).where(RewardRule.name == "citizen-01-11")).one()
    assert (rule.points, rule.first_k, rule.category_code, rule.active) == (15, 3, "01-11", True)

    form = page.locator("#redeem-form")
    form.locator("input[name=who]").fill(citizen.username)
    form.locator("input[name=points]").fill("11")
    form.locator("input[name=reference]").fill("券-0001")
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_contain_text("余额")
    expect(page.locator("#flash.bad")).to_contain_text("10")
    expect(page.locator("#totals-table tr[data-district='']")).to_have_count(0)  # nothing booked

    form.locator("input[name=points]").fill("4")
    form.locator("button[type=submit]").click()
    redeemed = page.locator("#totals-table tr[data-district=''] .redeemed")
    expect(redeemed).to_have_text("4")
    expect(page.locator("#totals-table tr[data-district='310120'] .earned")).to_have_text("10")
    assert rewards.balance(session, rewards.Reporter(user_id=citizen.id)) == 6


def test_citizen_rates_a_resolved_case_on_its_status_page_and_sees_the_points(
    app: Flask, page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    from coordinator.settings import SETTINGS_KEY, get_settings
    from tests.web.helpers import resolved_citizen_case

    token, case = resolved_citizen_case(client, session)
    page.goto(f"{live}/s/{token}")
    expect(page.locator("#status")).to_have_text("已核查")
    expect(page.locator("#feedback")).to_contain_text("已清运，现场恢复整洁")
    expect(page.locator("#rate")).to_contain_text("您可在")
    points = page.locator("#points")
    expect(points.locator("#balance")).to_have_text("10")
    expect(points.locator("tr.ledger-earned")).to_contain_text(case.number)
    expect(points.locator("tr.ledger-earned")).to_contain_text("获得")
    screenshots(page, "status-rate")

    form = page.locator("form.rating-form")
    form.locator("button[type=submit]").click()  # no stars chosen: said so, nothing sent
    expect(page.locator("#flash.bad")).to_have_text("请选择 1 至 5 星。")
    form.locator("label[title='4 星']").click()
    form.locator("textarea[name=comment]").fill("清理及时 <b>谢谢</b>")
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash")).to_have_text("感谢您的评价。")  # after the reload
    expect(page.locator(".rating-given .stars-shown")).to_have_text("★★★★☆")
    expect(page.locator(".rating-given")).to_contain_text("清理及时 <b>谢谢</b>")
    expect(page.locator("form.rating-form")).to_have_count(0)
    expect(page.locator("#points #balance")).to_have_text("10")

    # The window closes while the page is open: the dispute is refused, in words.
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides({"feedback_window_days": 0})
    page.locator("details.dispute summary").click()
    page.locator("form.dispute-form textarea[name=reason]").fill("还有一堆没清")
    page.locator("form.dispute-form button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_have_text("评价和异议的期限已过，无法再提交。")
    page.reload()
    expect(page.locator("#rate")).to_contain_text("评价和异议的期限已于")
    expect(page.locator("form.feedback-form")).to_have_count(0)
    assert "13700002222" not in page.content()


def test_reporter_account_files_a_report_on_the_form_and_disputes_a_result_on_my_reports(
    page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    """Logged in, a reporter's report from /report is the account's: the page says so, and it lands on
    我的举报 (no status link); there the reporter disputes an earlier resolved report."""
    from tests.community.conftest import People

    people = People(session, client)
    people.add("admin", "admin")
    citizen = people.add("citizen", "reporter")
    sent = people.report("citizen", description="小区门口装修垃圾").get_json()
    people.lead_squad_people(sent["case_id"])
    people.resolve(sent["case_id"], note="已清运")

    log_in(page, live, citizen.username, "/report")
    expect(page.locator("#as-account")).to_contain_text(citizen.username)
    expect(page.locator("#report-map")).to_have_attribute("data-ready", "true")
    form = page.locator("#report-form")
    form.locator("select[name=category]").select_option("01-11")
    form.locator("textarea[name=description]").fill("沟渠边又有建筑垃圾")
    page.click("#use-gps")
    expect(form.locator("#lon")).to_have_value("121.435000")
    form.locator("input[name=notify_sms]").check()  # SMS without a phone: said so, nothing sent
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_have_text("短信通知需要您的电话号码")
    form.locator("input[name=notify_sms]").uncheck()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/my-reports#report-[0-9]+$"))
    filed = page.locator("article.my-report:target")
    expect(filed).to_contain_text("JJ-")
    expect(filed.locator(".badge")).to_have_text("已分派")
    expect(page.locator("article.my-report")).to_have_count(2)
    page.wait_for_load_state("networkidle")  # the server is idle: the test may use the shared connection
    new_id = int(page.url.rsplit("-", 1)[1])
    assert session.get_one(Report, new_id).submitted_by_id == citizen.id

    card = page.locator(f"article.my-report[data-report='{sent['report_id']}']")
    expect(card).to_contain_text(sent["case_number"])
    expect(card.locator(".badge")).to_have_text("已处置")
    expect(card).to_contain_text("已清运")
    expect(page.locator("#points #balance")).to_have_text("0")  # nothing until the dispatcher verifies
    screenshots(page, "my-reports")
    card.locator("details.dispute summary").click()
    card.locator("form.dispute-form button[type=submit]").click()  # no reason: the browser asks for one
    expect(card.locator("form.dispute-form textarea:invalid")).to_have_count(1)
    card.locator("form.dispute-form textarea[name=reason]").fill("门口还有两袋没清")
    card.locator("form.dispute-form button[type=submit]").click()
    expect(page.locator("#flash")).to_have_text("异议已提交，调度员将重新核查本案。")
    expect(card.locator(".dispute-given")).to_contain_text("门口还有两袋没清")
    expect(card.locator("form.dispute-form")).to_have_count(0)
    page.wait_for_load_state("networkidle")  # the server is idle: the test may use the shared connection
    events = people.call("dispatcher", "GET", f"/api/v1/cases/{sent['case_id']}").get_json()["events"]
    assert events[-1]["kind"] == "disputed"  # back on the dispatcher's desk


def test_committee_reads_the_hotspot_map_of_the_dashboard_on_a_phone(
    page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    """At 390 px: the committee opens the dashboard; the hotspot map shows a circle per hotspot, coloured
    by its trend, whose popup tells the cases this period against the previous one; choosing a border
    pair leaves that pair's hotspots only."""
    from datetime import datetime

    from coordinator.worktime import SHANGHAI

    make_hotspot(session, lon=ZHELIN[0], lat=ZHELIN[1], name="柘林–漕泾沟渠")
    make_hotspot(session, lon=121.2, lat=30.9, pair=("310116", "310117"), name="别处热点")
    for category in ("01-11", "01-10"):
        report(client, session, "沟渠边倾倒垃圾", category=category)
    committee = make_user(session, "committee")
    session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, live, committee.username, "/map")
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    page.goto(f"{live}/dashboard?month={month}")
    hotmap = page.locator("#hotspot-map")
    expect(hotmap).to_have_attribute("data-ready", "true")
    expect(hotmap.locator("path.hotspot-marker")).to_have_count(2)
    expect(hotmap.locator("path.hotspot-marker.trend-flat")).to_have_count(1)
    expect(page.locator("#hotspot-legend")).to_contain_text("上升")
    hotmap.locator("path.hotspot-marker.trend-rising").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("柘林–漕泾沟渠")
    expect(popup).to_contain_text("沟渠 · 金山区–奉贤区")
    expect(popup).to_contain_text("本期案件: 2 · 上一期: 0")
    expect(popup).to_contain_text("趋势: 上升")
    screenshots(page, "dashboard-hotspot-map")

    page.set_viewport_size(PHONE)
    page.select_option("#period select[name=border_pair]", "310116-310120")
    page.click("#period button[type=submit]")
    page.wait_for_url(re.compile(r".*border_pair=310116-310120.*"))
    expect(hotmap).to_have_attribute("data-ready", "true")
    expect(hotmap.locator("path.hotspot-marker")).to_have_count(1)
    expect(hotmap.locator("path.hotspot-marker.trend-rising")).to_have_count(1)
