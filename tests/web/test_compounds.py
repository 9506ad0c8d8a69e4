"""The compounds page (小区登记): through the test client (a dispatcher's district, an admin's all, who
may open it, escaping) and in a real browser (a dispatcher registers a compound with the map and the
typed point, edits it, and is refused a point in another district in words)."""

from __future__ import annotations

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.community.models import Compound
from coordinator.community.seed import DEMO_COMPOUND_GEOMETRY
from tests.factories import bearer, make_token, make_user
from tests.web.conftest import PHONE, screenshots
from tests.web.helpers import ZHELIN, leader, login
from tests.web.test_browser import log_in
from tests.web.test_pages import SCRIPT, html

JINSHAN_POINT = (121.25, 30.80)  # 金山, away from its borders


def register(
    client: FlaskClient, token: str, name: str, geometry: dict[str, object], managers: list[str]
) -> int:
    body = {"name": name, "address": "某路 1 号", "geometry": geometry, "managers": managers}
    made = client.post("/api/v1/compounds", json=body, headers=bearer(token))
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def test_compounds_page_lists_the_dispatchers_district_with_the_form(
    client: FlaskClient, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    admin = make_user(session, "admin")
    pm = make_user(session, "property_manager")
    pm.display_name = "海湾物业"
    token = make_token(session, admin)
    session.commit()
    ours = register(client, token, "海湾花苑" + SCRIPT, DEMO_COMPOUND_GEOMETRY, [pm.username])
    theirs = register(client, token, "金山花园", {"type": "Point", "coordinates": list(JINSHAN_POINT)}, [])

    login(client, dispatcher.username)
    page = html(client.get("/compounds"))
    assert 'href="/compounds"' in page and "小区登记" in page  # the navigation link, in Chinese
    rows = page[page.index('id="compounds"') : page.index('id="compound-editor"')]
    assert f'data-compound="{ours}"' in rows and f'data-compound="{theirs}"' not in rows
    assert "奉贤区" in rows and "柘林镇" in rows and pm.username in rows
    assert SCRIPT not in page and "&lt;script&gt;" in rows  # the name is text, escaped
    form = page[page.index('id="compound-form"') :]
    assert 'data-url="/api/v1/compounds"' in form and 'id="compound-map"' in form
    assert f'value="{pm.username}"> {pm.username} · 海湾物业' in form  # the managers to choose from
    assert 'id="lon" name="lon" inputmode="decimal" autocomplete="off"' in form  # typed, not read-only

    login(client, admin.username)
    rows = html(client.get("/compounds"))
    assert f'data-compound="{ours}"' in rows and f'data-compound="{theirs}"' in rows and "金山区" in rows

    for user in (leader(session), pm, make_user(session, "committee")):
        session.commit()
        login(client, user.username)
        assert client.get("/compounds").status_code == 403
    login(client, leader(session).username)
    assert 'href="/compounds"' not in html(client.get("/inbox"))


def test_dispatcher_registers_a_compound_on_the_map_and_edits_it(
    page: Page, live: str, client: FlaskClient, session: Session
) -> None:
    dispatcher = make_user(session, "dispatcher", district="310120")
    pm = make_user(session, "property_manager")
    other_pm = make_user(session, "property_manager")
    session.commit()
    log_in(page, live, dispatcher.username, "/desk")
    page.click("header nav a[href='/compounds']")  # 小区登记
    expect(page.locator("#compound-map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#compound-list .empty")).to_be_visible()
    form = page.locator("#compound-form")
    form.locator("button[type=submit]").click()  # nothing filled: the browser asks for the name
    expect(form.locator("input[name=name]:invalid")).to_have_count(1)
    form.locator("input[name=name]").fill("海湾花苑")
    form.locator("input[name=address]").fill("奉贤区柘林镇海湾路 8 号")
    form.locator("button[type=submit]").click()  # no point yet: said so, nothing sent
    expect(page.locator("#flash.bad")).to_have_text("请在地图上点选小区位置，或填写经纬度")
    page.locator("#compound-map").click(position={"x": 160, "y": 110})  # a pin puts its point in the fields
    expect(form.locator("#lon")).not_to_have_value("")
    expect(form.locator("#compound-map path.pin-marker")).to_have_count(1)
    form.locator("#lon").fill(f"{ZHELIN[0]:.6f}")  # the exact point, typed
    form.locator("#lat").fill(f"{ZHELIN[1]:.6f}")
    form.locator(f"input[name=managers][value='{pm.username}']").check()
    screenshots(page, "compounds")
    form.locator("button[type=submit]").click()

    expect(page.locator("#flash")).to_have_text("小区已登记")  # after the reload
    row = page.locator("#compounds tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".name")).to_have_text("海湾花苑")
    expect(row.locator(".district")).to_have_text("奉贤区")
    expect(row.locator(".town")).to_contain_text("柘林镇")
    expect(row.locator(".managers")).to_have_text(pm.username)

    # Edit: rename, hand it to another property manager; the point stays where it is.
    row.locator("button.edit-compound").click()
    expect(page.locator("#compound-form-title")).to_have_text("编辑小区: 海湾花苑")
    expect(form.locator("input[name=name]")).to_have_value("海湾花苑")
    expect(form.locator("#lon")).to_have_value(f"{ZHELIN[0]:.6f}")
    expect(form.locator(f"input[name=managers][value='{pm.username}']")).to_be_checked()
    form.locator("input[name=name]").fill("海湾花苑二期")
    form.locator(f"input[name=managers][value='{pm.username}']").uncheck()
    form.locator(f"input[name=managers][value='{other_pm.username}']").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash")).to_have_text("小区信息已保存")
    expect(row.locator(".name")).to_have_text("海湾花苑二期")
    expect(row.locator(".managers")).to_have_text(other_pm.username)

    # Moving it into 金山 is not this dispatcher's to do: refused in words, nothing changed.
    page.set_viewport_size(PHONE)
    row.locator("button.edit-compound").click()
    form.locator("#lon").fill(str(JINSHAN_POINT[0]))
    form.locator("#lat").fill(str(JINSHAN_POINT[1]))
    form.locator("button[type=submit]").click()
    expect(page.locator("#flash.bad")).to_have_text(
        "该位置属于其他区：只有该区调度员或管理员可以把小区登记在那里"
    )
    screenshots(page, "compounds-refused")
    page.wait_for_load_state("networkidle")  # the server is idle: the test may use the shared connection
    stored = session.scalars(select(Compound).where(Compound.name == "海湾花苑二期")).one()
    assert (stored.district_code, stored.town_code) == ("310120", "310120118")
    assert (round(stored.lon, 6), round(stored.lat, 6)) == ZHELIN

    # Retire it (registered by mistake): asked first; declining changes nothing, accepting retires it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button.retire-compound").click()
    expect(row).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.retire-compound").click()
    expect(page.locator("#flash")).to_have_text("小区已停用")
    expect(page.locator("#compounds tbody tr")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    session.expire_all()
    assert session.get_one(Compound, stored.id).active is False
