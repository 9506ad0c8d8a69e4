"""The renovation-filing pages (装修申报): through the test client (scope, masking, access, the demo
compound) and in a real browser (a property manager files with a document, the dispatcher returns it,
it is resubmitted and accepted; a failed spot check links the case it opened)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.community.models import Compound
from coordinator.community.seed import DEMO_COMPOUND, DEMO_COMPOUND_GEOMETRY, seed_demo_compound
from tests.evidence.images import jpeg, pdf
from tests.factories import bearer, make_token, make_user
from tests.web.conftest import screenshots
from tests.web.helpers import DEMO_SQUAD, leader, login
from tests.web.test_browser import log_in
from tests.web.test_pages import html

FILING: dict[str, Any] = {
    "flat": {"building": "3", "unit": "2", "room": "501"},
    "owner": {"name": "李四", "phone": "13912345678"},
    "contractor": {"name": "沪南装饰有限公司", "qualification": "二级"},
    "planned_start": "2026-12-01",
    "planned_end": "2027-02-28",
    "waste_plan": {"hauler": "奉贤环卫清运队", "schedule": "每周二上午", "destination": "奉贤区消纳场"},
}


def compound(client: FlaskClient, session: Session, manager: User, name: str = "海湾花苑") -> int:
    """A compound in 柘林 (the demo squad's town) registered by 奉贤's dispatcher, managed by `manager`."""
    dispatcher = make_user(session, "dispatcher", district="310120")
    token = make_token(session, dispatcher)
    session.commit()
    body = {
        "name": name,
        "address": "奉贤区柘林镇海湾路 8 号",
        "geometry": DEMO_COMPOUND_GEOMETRY,
        "managers": [manager.username],
    }
    made = client.post("/api/v1/compounds", json=body, headers=bearer(token))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["town"] == "310120118"
    return int(made.get_json()["id"])


def file_one(client: FlaskClient, session: Session, manager: User, compound_id: int) -> dict[str, Any]:
    token = make_token(session, manager)
    session.commit()
    filed = client.post(
        "/api/v1/renovation-filings", json={**FILING, "compound_id": compound_id}, headers=bearer(token)
    )
    assert filed.status_code == 201, filed.get_json()
    answer: dict[str, Any] = filed.get_json()
    return answer


def test_filing_pages_show_the_callers_scope_with_the_owner_masked_in_the_list(
    client: FlaskClient, session: Session
) -> None:
    pm = make_user(session, "property_manager")
    other = make_user(session, "property_manager")
    committee = make_user(session, "committee")
    member = leader(session, "squad_member")
    dispatcher = make_user(session, "dispatcher", district="310120")
    jinshan = make_user(session, "dispatcher", district="310116")
    filing = file_one(client, session, pm, compound(client, session, pm))

    login(client, pm.username)
    assert client.get("/").headers["Location"] == "/filings"
    page = html(client.get("/filings"))
    assert filing["number"] in page and 'href="/filings/new"' in page and 'href="/filings"' in page
    assert "李*" in page and "139****5678" in page and "13912345678" not in page  # the list masks
    assert "3号楼2单元501室" in page and "已提交" in page
    assert filing["number"] not in html(client.get("/filings?state=accepted"))
    assert html(client.get("/filings/new")).count("海湾花苑") == 1
    detail = html(client.get(f"/filings/{filing['id']}"))
    assert "13912345678" in detail  # its manager reads the owner in full (audited, as in the API)
    assert 'id="return-form"' not in detail and 'id="inspection-form"' not in detail  # not accepted yet

    login(client, dispatcher.username)
    assert filing["number"] in html(client.get("/filings"))
    detail = html(client.get(f"/filings/{filing['id']}"))
    assert 'id="accept-form"' in detail and 'id="return-form"' in detail
    assert client.get("/filings/new").status_code == 403

    login(client, member.username)  # the town's squad: the owner masked on the filing too
    detail = html(client.get(f"/filings/{filing['id']}"))
    assert "139****5678" in detail and "13912345678" not in detail and 'id="accept-form"' not in detail

    for outsider in (other, jinshan):
        login(client, outsider.username)
        assert filing["number"] not in html(client.get("/filings"))
        assert client.get(f"/filings/{filing['id']}").status_code == 403
    login(client, committee.username)
    assert client.get("/filings").status_code == 403
    assert client.get("/filings?state=nonsense").status_code == 403  # the role gate comes first
    login(client, dispatcher.username)
    bad = client.get("/filings?state=nonsense")
    assert bad.status_code == 422 and bad.mimetype == "text/html"


def test_seed_demo_compound_in_the_demo_squads_town_once(session: Session) -> None:
    admin = make_user(session, "admin")
    make_user(session, "property_manager", username="demo_property")
    line = seed_demo_compound(session, admin)
    assert "demo_property" in line
    row = session.scalars(select(Compound).where(Compound.name == DEMO_COMPOUND)).one()
    assert row.town_code == "310120118" and row.district_code == "310120"
    assert "already there" in seed_demo_compound(session, admin)


def test_property_manager_files_dispatcher_returns_then_accepts_and_a_failed_spot_check_opens_a_case(
    page: Page, live: str, client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    pm = make_user(session, "property_manager")
    dispatcher = make_user(session, "dispatcher", district="310120")
    squad_leader = leader(session)
    assert squad_leader.squad is not None and squad_leader.squad.code == DEMO_SQUAD
    compound(client, session, pm, name="【测试】柘林花苑")

    # The property manager files a renovation; a file that is no PDF is refused with the API's message.
    log_in(page, live, pm.username, "/filings")
    page.click("#new-filing")
    page.wait_for_url(f"{live}/filings/new")
    form = page.locator("#filing-form")
    for name, value in {
        "building": "3",
        "unit": "2",
        "room": "501",
        "owner_name": "李四",
        "owner_phone": "13912345678",
        "contractor_name": "沪南装饰有限公司",
        "contractor_qualification": "建筑装修装饰工程专业承包二级",
        "planned_start": "2026-12-01",
        "planned_end": "2027-02-28",
        "waste_hauler": "奉贤环卫清运队",
        "waste_schedule": "每周二、五上午",
        "waste_destination": "奉贤区建筑垃圾消纳场",
    }.items():
        form.locator(f"[name={name}]").fill(value)
    not_a_pdf = tmp_path / "图纸.pdf"
    not_a_pdf.write_bytes(b"MZ\x90\x00 an executable named .pdf")
    form.locator("input[name=documents]").set_input_files(not_a_pdf)
    screenshots(page, "filing-new")
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_contain_text("操作失败")  # 415 from the documents API
    expect(page.locator("#filed")).to_contain_text("ZX-")  # filed; the documents are still to come
    drawing = tmp_path / "平面图.pdf"
    drawing.write_bytes(pdf())
    form.locator("input[name=documents]").set_input_files(drawing)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/filings/[0-9]+$"))
    filing_url = page.url
    expect(page.locator("#filing-state")).to_have_text("已提交")
    expect(page.locator("#documents li")).to_have_count(1)
    expect(page.locator("#documents li")).to_contain_text("平面图.pdf")
    expect(page.locator("#owner")).to_contain_text("13912345678")

    # The district's dispatcher returns it with a reason.
    page.locator("#logout").click()
    page.wait_for_url(f"{live}/login")
    log_in(page, live, dispatcher.username, "/desk")
    page.click("nav a[href='/filings']")
    page.locator("#filings a.number").first.click()
    page.wait_for_url(filing_url)
    page.locator("#return-form textarea[name=reasons]").fill("缺少施工单位资质证书编号")
    page.locator("#return-form button[type=submit]").click()
    expect(page.locator("#filing-state")).to_have_text("已退回")
    expect(page.locator("#return-reasons")).to_contain_text("缺少施工单位资质证书编号")

    # The property manager corrects and resubmits.
    page.locator("#logout").click()
    page.wait_for_url(f"{live}/login")
    log_in(page, live, pm.username, "/filings")
    expect(page.locator("#filings article.filing")).to_contain_text("已退回")
    page.goto(filing_url)
    expect(page.locator("#return-reasons")).to_contain_text("缺少施工单位资质证书编号")
    documents = page.locator("#document-form")  # more documents: a refused one stores nothing
    documents.locator("input[name=documents]").set_input_files(not_a_pdf)
    documents.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_contain_text("操作失败")
    expect(page.locator("#documents li")).to_have_count(1)
    resubmit = page.locator("#resubmit-form")
    resubmit.locator("[name=contractor_qualification]").fill("二级（证书编号 D231234567）")
    resubmit.locator("[name=note]").fill("已补充资质证书编号")
    screenshots(page, "filing-returned")
    resubmit.locator("button[type=submit]").click()
    expect(page.locator("#filing-state")).to_have_text("已重新申报")
    expect(page.locator("#contractor")).to_contain_text("D231234567")

    # The dispatcher accepts it.
    page.locator("#logout").click()
    page.wait_for_url(f"{live}/login")
    log_in(page, live, dispatcher.username, "/desk")
    page.goto(filing_url)
    page.locator("#accept-form button[type=submit]").click()
    expect(page.locator("#filing-state")).to_have_text("已受理")
    trail = page.locator("#trail li strong")
    expect(trail).to_have_text(["已申报", "退回补正", "重新申报", "受理"])

    # The town's squad leader (城管) spot-checks: it fails, with a photo, and opens a routed case.
    page.locator("#logout").click()
    page.wait_for_url(f"{live}/login")
    log_in(page, live, squad_leader.username, "/inbox")
    page.click("nav a[href='/filings']")
    expect(page.locator("#filings .owner")).to_have_text("李* 139****5678")
    screenshots(page, "filings")
    page.goto(filing_url)
    inspection = page.locator("#inspection-form")
    inspection.locator("select[name=kind]").select_option("spot_check")
    expect(page.locator("#violation")).to_be_hidden()  # asked for a failed check only
    inspection.locator("input[name=result][value=fail]").check()
    expect(page.locator("#violation")).to_be_visible()
    inspection.locator("select[name=violation]").select_option("illegal_renovation")
    inspection.locator("textarea[name=notes]").fill("拆除承重墙")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(640, 480))
    inspection.locator("input[name=photos]").set_input_files(photo)
    inspection.locator("button[type=submit]").click()
    checked = page.locator("#inspections article.inspection.result-fail")
    expect(checked).to_contain_text("城管抽查")
    expect(checked).to_contain_text("未通过")
    expect(checked.locator(".gallery img")).to_have_count(1)
    screenshots(page, "filing")
    link = checked.locator(".opened-case a")
    number = link.inner_text()
    assert number
    link.click()
    page.wait_for_url(re.compile(r"/cases/[0-9]+$"))
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator(".report .description")).to_contain_text("拆除承重墙")
    expect(page.locator(".routing")).to_contain_text("柘林中队")
