"""The review's hotspots with their trend and its joint-patrol coverage (planned vs done): what the SQL
answers equals a direct recount in Python from the rows (on SpatiaLite and, with TEST_DATABASE_URL, on
PostGIS), the trend rule, scopes, and the API and report page that show them."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.dedup import EARTH_RADIUS_M, geodesic_distance_m
from coordinator.cases.models import Case, Category
from coordinator.hotspots.models import Hotspot
from coordinator.hotspots.services import DUMPING_CATEGORIES, RADIUS_M
from coordinator.review import caseload
from coordinator.review.caseload import trend_of
from coordinator.review.services import Period, Scope
from coordinator.rosters.models import PatrolLog, Roster, RosterShift
from coordinator.worktime import SHANGHAI
from tests.factories import (
    bearer,
    make_case,
    make_hotspot,
    make_patrol_log,
    make_roster,
    make_shift,
    make_squad,
    make_token,
    make_user,
)

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
AFTER = datetime(2026, 11, 15, 12, 0, tzinfo=SHANGHAI)
ZHELIN = (121.435, 30.818)


@pytest.fixture
def committee(session: Session) -> dict[str, str]:
    return bearer(make_token(session, make_user(session, "committee")))


# -- the trend rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "trend"),
    [
        (0, 0, "flat"),
        (1, 0, "flat"),  # one more case is no rise
        (2, 0, "rising"),
        (3, 1, "rising"),
        (10, 8, "rising"),  # +2 and exactly 1.25 times
        (9, 8, "flat"),
        (42, 40, "flat"),  # +2 but only 1.05 times
        (50, 40, "rising"),
        (0, 2, "falling"),
        (8, 10, "falling"),  # −2 and exactly 0.8 times
        (9, 10, "flat"),
        (40, 42, "flat"),
    ],
)
def test_trend_rule(current: int, previous: int, trend: str) -> None:
    assert trend_of(current, previous) == trend


# -- hotspots with trend: the SQL against a recount ---------------------------------------------------


def _offset(lon: float, lat: float, distance_m: float, bearing: float) -> tuple[float, float]:
    """The point `distance_m` from (lon, lat) towards `bearing` (radians) on the sphere."""
    dlat = math.degrees(distance_m * math.cos(bearing) / EARTH_RADIUS_M)
    dlon = math.degrees(distance_m * math.sin(bearing) / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lon + dlon, lat + dlat


def _place(session: Session, lon: float, lat: float, when: datetime, category: str, status: str) -> Case:
    case = make_case(session, lead=None, category=category, now=when, status=status)
    case.lon, case.lat = lon, lat
    case.geom = from_shape(Point(lon, lat), srid=4326)  # type: ignore[assignment]
    session.flush()
    return case


@dataclass
class TrendWorld:
    hotspots: list[Hotspot]
    cases: list[Case]


def build_trend_world(session: Session) -> TrendWorld:
    """Five hotspots (two with overlapping circles, one in another pair, one retired during the period,
    one retired before it) and dumping cases around them — more in October near the first, more in the
    previous span near the second — with void ones, other categories and far-away ones mixed in."""
    rng = random.Random(1615)
    h1 = make_hotspot(session, lon=ZHELIN[0], lat=ZHELIN[1], name="甲 沟渠")
    h2_lon, h2_lat = _offset(*ZHELIN, 400, math.pi / 2)
    h2 = make_hotspot(session, lon=h2_lon, lat=h2_lat, name="乙 断头路")
    h3 = make_hotspot(session, lon=121.66, lat=30.96, pair=("310115", "310120"), name="丙 空地")
    h4 = make_hotspot(
        session, lon=121.20, lat=30.80, name="丁 已撤销", retired_at=datetime(2026, 10, 20, tzinfo=SHANGHAI)
    )
    gone = make_hotspot(
        session, lon=121.21, lat=30.81, name="戊 早已撤销", retired_at=datetime(2026, 8, 1, tzinfo=SHANGHAI)
    )
    other = session.scalars(select(Category.code).where(Category.code.not_in(DUMPING_CATEGORIES))).first()
    assert other is not None
    previous_start = OCTOBER.start - (OCTOBER.end - OCTOBER.start)
    spans = {
        "current": (OCTOBER.start, OCTOBER.end),
        "previous": (previous_start, OCTOBER.start),
        "outside": (previous_start - timedelta(days=20), previous_start),
        "later": (OCTOBER.end, AFTER),
    }
    plan = [(h1, "current", 12), (h1, "previous", 4), (h2, "current", 3), (h2, "previous", 9)]
    plan += [(h3, "current", 3), (h3, "previous", 3), (h4, "previous", 4), (gone, "current", 3)]
    plan += [(h, span, 2) for h in (h1, h2, h3) for span in ("outside", "later")]
    cases = []
    for hotspot, span, n in plan:
        start, end = spans[span]
        for _ in range(n):
            distance = rng.choice([rng.uniform(0, 290), rng.uniform(0, 290), rng.uniform(310, 700)])
            lon, lat = _offset(hotspot.lon, hotspot.lat, distance, rng.uniform(0, 2 * math.pi))
            when = start + (end - start) * rng.uniform(0.001, 0.999)
            category = rng.choice([*DUMPING_CATEGORIES, *DUMPING_CATEGORIES, other])
            status = rng.choice(["routed", "claimed", "closed", "void"])
            cases.append(_place(session, lon, lat, when, category, status))
    return TrendWorld([h1, h2, h3, h4, gone], cases)


def recount_trends(
    world: TrendWorld, period: Period, now: datetime, scope: Scope
) -> dict[int, tuple[int, int]]:
    """(cases in the period, cases in the equal span before) per hotspot of the scope, from the rows."""
    end = max(period.start, min(period.end, now))
    previous_start = period.start - (end - period.start)
    out = {}
    for h in world.hotspots:
        if h.retired_at is not None and h.retired_at < period.start:
            continue
        if scope.border_pair and (h.district_a, h.district_b) != scope.border_pair:
            continue
        if scope.district and scope.district not in (h.district_a, h.district_b):
            continue
        near = [
            c
            for c in world.cases
            if c.category_code in DUMPING_CATEGORIES
            and c.status != "void"
            and geodesic_distance_m(h.lon, h.lat, c.lon, c.lat) <= RADIUS_M
        ]
        current = sum(1 for c in near if period.start <= c.created_at < end)
        previous = sum(1 for c in near if previous_start <= c.created_at < period.start)
        out[h.id] = (current, previous)
    return out


@pytest.mark.parametrize(
    "scope",
    [Scope(), Scope(border_pair=("310116", "310120")), Scope(district="310115"), Scope(joint_only=True)],
    ids=["all", "pair", "district", "joint"],
)
def test_hotspot_trends_equal_a_recount(session: Session, scope: Scope) -> None:
    world = build_trend_world(session)
    section = caseload.hotspots_with_trend(session, OCTOBER, scope=scope, now=AFTER)
    expected = recount_trends(world, OCTOBER, AFTER, scope)
    got = {h.id: (h.cases, h.previous) for h in section.items}
    assert got == expected and got
    for h in section.items:
        assert h.change == h.cases - h.previous and h.trend == trend_of(h.cases, h.previous)
    assert section.compared == (OCTOBER.start, OCTOBER.end)
    assert section.previous == (OCTOBER.start - timedelta(days=31), OCTOBER.start)
    trends = [h.trend for h in section.items]
    assert trends == sorted(trends, key=caseload.TRENDS.index)  # rising first, falling last
    if scope == Scope():
        names = {h.name: h for h in section.items}
        assert "戊 早已撤销" not in names and names["丁 已撤销"].active is False
        assert names["甲 沟渠"].trend == "rising" and names["乙 断头路"].trend == "falling"
        assert [h.name for h in section.rising] == [h.name for h in section.items if h.trend == "rising"]


def test_a_running_period_compares_its_elapsed_part(session: Session) -> None:
    world = build_trend_world(session)
    midway = datetime(2026, 10, 16, 0, 0, tzinfo=SHANGHAI)
    section = caseload.hotspots_with_trend(session, OCTOBER, now=midway)
    assert section.compared == (OCTOBER.start, midway)
    assert section.previous == (OCTOBER.start - timedelta(days=15), OCTOBER.start)
    expected = recount_trends(world, OCTOBER, midway, Scope())
    assert {h.id: (h.cases, h.previous) for h in section.items} == expected


# -- joint-patrol coverage: the SQL against a recount ------------------------------------------------


@dataclass
class PatrolWorld:
    shifts: list[RosterShift]
    rosters: dict[int, Roster]
    logs: dict[int, list[PatrolLog]]
    findings: dict[int, int]
    hotspots: dict[int, Hotspot]


def build_patrol_world(session: Session) -> PatrolWorld:
    """Two published rosters and a draft over October (and its edges), shifts planned and cancelled at
    three hotspots of two border pairs, patrol logs on some of them (with and without findings)."""
    rng = random.Random(916)
    jinshan, fengxian = make_squad(session, district="310116"), make_squad(session, district="310120")
    pudong = make_squad(session, district="310115")
    h1 = make_hotspot(session, name="甲 沟渠")
    h2 = make_hotspot(session, lon=121.44, lat=30.82, name="乙 断头路")
    h3 = make_hotspot(session, lon=121.66, lat=30.96, pair=("310115", "310120"), name="丙 空地")
    sides = {h1.id: (jinshan, fengxian), h2.id: (jinshan, fengxian), h3.id: (pudong, fengxian)}
    rosters = [
        make_roster(session, first=date(2026, 9, 28), nights=21),
        make_roster(session, first=date(2026, 10, 19), nights=21),
        make_roster(session, first=date(2026, 10, 5), nights=14, status="draft"),
    ]
    found = [make_case(session, lead=None) for _ in range(4)]
    shifts, logs, findings = [], {}, {}
    for roster in rosters:
        night = roster.period_start
        while night <= roster.period_end:
            for hotspot in (h1, h2, h3):
                if rng.random() < 0.45:
                    continue
                status = "cancelled" if rng.random() < 0.15 else "planned"
                shift = make_shift(session, roster, hotspot, night, sides[hotspot.id], status=status)
                shifts.append(shift)
                if rng.random() < 0.6:
                    cases = tuple(rng.sample(found, rng.choice([0, 0, 1, 2])))
                    logs[shift.id] = [make_patrol_log(session, shift, found=cases)]
                    findings[shift.id] = len(cases)
            night += timedelta(days=1)
    return PatrolWorld(shifts, {r.id: r for r in rosters}, logs, findings, {h.id: h for h in (h1, h2, h3)})


def recount_coverage(
    world: PatrolWorld, period: Period, today: date, scope: Scope
) -> dict[int, tuple[int, int, int, int]]:
    """(planned, due, done, cases found) per hotspot, from the rows."""
    out: dict[int, tuple[int, int, int, int]] = {}
    for shift in world.shifts:
        hotspot = world.hotspots[shift.hotspot_id]
        if scope.border_pair and (hotspot.district_a, hotspot.district_b) != scope.border_pair:
            continue
        if world.rosters[shift.roster_id].status != "published" or shift.status != "planned":
            continue
        if not period.first <= shift.night <= period.last:
            continue
        logged = shift.id in world.logs
        planned, due, done, found = out.get(hotspot.id, (0, 0, 0, 0))
        out[hotspot.id] = (
            planned + 1,
            due + (shift.night < today or logged),
            done + logged,
            found + world.findings.get(shift.id, 0),
        )
    return out


@pytest.mark.parametrize("today", [date(2026, 10, 20), date(2026, 11, 15)], ids=["midway", "after"])
@pytest.mark.parametrize("scope", [Scope(), Scope(border_pair=("310116", "310120"))], ids=["all", "pair"])
def test_patrol_coverage_equals_a_recount(session: Session, today: date, scope: Scope) -> None:
    world = build_patrol_world(session)
    now = datetime.combine(today, datetime.min.time(), SHANGHAI) + timedelta(hours=12)
    section = caseload.patrol_coverage(session, OCTOBER, scope=scope, now=now)
    expected = recount_coverage(world, OCTOBER, today, scope)
    got = {
        h.id: (h.coverage.planned, h.coverage.due, h.coverage.done, h.coverage.cases_found)
        for h in section.items
    }
    assert got == expected and got
    assert section.as_of == today and section.available and section.reason == ""
    if today == date(2026, 10, 20):
        assert any(h.coverage.due < h.coverage.planned for h in section.items)  # future nights
    for pair in section.pairs:
        mine = [h.coverage for h in section.items if h.border_pair == pair.border_pair]
        assert pair.hotspots == len(mine)
        assert pair.coverage.planned == sum(c.planned for c in mine)
        assert pair.coverage.done == sum(c.done for c in mine)
        assert pair.coverage.missed == pair.coverage.due - pair.coverage.done
    assert section.total.planned == sum(v[0] for v in expected.values())
    total = section.total
    assert total.rate == (None if total.due == 0 else round(total.done / total.due, 4))


def test_no_published_roster_says_so(session: Session) -> None:
    section = caseload.patrol_coverage(session, Period(date(2031, 1, 1), date(2031, 1, 31)), now=AFTER)
    assert section.items == [] and section.pairs == [] and section.reason == caseload.NO_ROSTER
    assert section.total.rate is None


# -- the API and the report page -----------------------------------------------------------------------


@pytest.fixture
def worlds(session: Session) -> Iterator[tuple[TrendWorld, PatrolWorld]]:
    yield build_trend_world(session), build_patrol_world(session)


def test_the_api_and_the_report_page_show_both_sections(
    client: FlaskClient, session: Session, committee: dict[str, str], worlds: tuple[TrendWorld, PatrolWorld]
) -> None:
    trend_world, patrol_world = worlds
    session.commit()
    query = "from=2026-10-01&to=2026-10-31"
    hotspots = client.get(f"/api/v1/review/hotspots?{query}", headers=committee)
    assert hotspots.status_code == 200
    section = hotspots.get_json()["section"]
    everything = TrendWorld(
        [*trend_world.hotspots, *patrol_world.hotspots.values()],
        list(session.scalars(select(Case))),
    )
    expected = recount_trends(everything, OCTOBER, datetime.now(SHANGHAI), Scope())
    assert {h["id"]: (h["cases"], h["previous"]) for h in section["items"]} == expected
    assert section["available"] is True and "上升" in section["rule"]

    pair_query = f"{query}&border_pair=310120-310116"
    coverage = client.get(f"/api/v1/review/patrol-coverage?{pair_query}", headers=committee)
    assert coverage.status_code == 200
    body = coverage.get_json()["section"]
    today = datetime.now(SHANGHAI).date()
    pair = Scope(border_pair=("310116", "310120"))
    expected_coverage = recount_coverage(patrol_world, OCTOBER, today, pair)
    assert {h["id"]: h["coverage"]["done"] for h in body["items"]} == {
        k: v[2] for k, v in expected_coverage.items()
    }
    assert [p["label"] for p in body["pairs"]] == ["金山区–奉贤区"]

    summary = client.get(f"/api/v1/review/summary?{query}", headers=committee).get_json()
    assert summary["hotspots"]["items"] == section["items"]
    assert summary["patrol_coverage"]["total"]["planned"] == sum(
        v[0] for v in recount_coverage(patrol_world, OCTOBER, today, Scope()).values()
    )

    page = client.get(f"/api/v1/review/report?{query}", headers=committee).get_data(as_text=True)
    assert "甲 沟渠" in page and "上升" in page and "联合巡查覆盖" in page and "完成率" in page
