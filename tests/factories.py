"""Small factories for tests: squads, users, tokens, custom jurisdictions, cases, hotspots, rosters and
patrol logs. They flush, never commit."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, Polygon, box
from sqlalchemy.orm import Session

from coordinator.auth import services as auth
from coordinator.auth.models import User
from coordinator.boundaries.models import AdminArea, BoundaryGeneration
from coordinator.boundaries.services import current_areas
from coordinator.cases.intake import next_case_number
from coordinator.cases.models import Case, CasePartner
from coordinator.db import utcnow
from coordinator.geolocation.services import location_payload
from coordinator.hotspots.models import Hotspot
from coordinator.rosters.models import PatrolFinding, PatrolLog, Roster, RosterShift
from coordinator.squads import services as squads
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime import SHANGHAI
from geo.locator import AreaInfo, Location

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def unique(prefix: str) -> str:
    """A code or name not used by any other factory call in this run."""
    return f"{prefix}{next(_seq)}"


def make_area(
    session: Session,
    *,
    code: str | None = None,
    district: str = "310120",
    level: str = "custom",
    polygon: Polygon | None = None,
    approximate: bool = False,
) -> AdminArea:
    """A current boundary (own generation) — by default a small box in Fengxian."""
    generation = BoundaryGeneration(source="test", description="factory")
    session.add(generation)
    session.flush()
    area = AdminArea(
        code=code or unique("T"),
        name_zh="测试辖区",
        name_en="test area",
        level=level,
        parent_code=district,
        member=True,
        approximate=approximate,
        source="test",
        version=1,
        valid_from=utcnow(),
        generation_id=generation.id,
        geom=from_shape(MultiPolygon([polygon or box(121.45, 30.84, 121.47, 30.86)]), srid=4326),
    )
    session.add(area)
    session.flush()
    return area


def make_squad(
    session: Session,
    *,
    code: str | None = None,
    district: str = "310120",
    jurisdiction: str | None = None,
    categories: list[str] | None = None,
    active: bool = True,
) -> Squad:
    """A squad under its district's dispatch desk."""
    squads.ensure_dispatch_units(session)
    unit = next(u for u in squads.list_dispatch_units(session) if u.district_code == district)
    squad = Squad(
        code=code or unique("SQ-T"),
        name_zh="测试中队",
        name_en="Test squad",
        district_code=district,
        dispatch_unit_id=unit.id,
        jurisdiction_code=jurisdiction,
        categories=categories or [],
        night_capacity=2,
        contact_channel="wecom:test",
        active=active,
    )
    session.add(squad)
    session.flush()
    return squad


def make_user(
    session: Session,
    role: str,
    *,
    squad: Squad | None = None,
    district: str | None = None,
    username: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    """A user of `role`; squad roles get a fresh squad unless one is given."""
    if role in ("squad_leader", "squad_member") and squad is None:
        squad = make_squad(session)
    return auth.create_user(
        session,
        username=username or unique(f"u_{role}_"),
        role=role,
        squad_code=squad.code if squad else None,
        district=district,
        password=password,
    )


def make_token(session: Session, user: User, *, ttl_days: int = 30, now: datetime | None = None) -> str:
    """A new API token for `user` (the token itself)."""
    _, token = auth.issue_token(session, user, ttl_days=ttl_days, now=now)
    return token


def bearer(token: str) -> dict[str, str]:
    """Request headers for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def _routing_record(
    session: Session,
    lead: Squad | None,
    queue: DispatchUnit | None,
    partners: tuple[Squad, ...],
    district: str,
    category: str,
) -> dict[str, Any]:
    """A routing record of the stored shape (the API shows it) for a case the factory places at
    121.47, 30.85 in `district`."""

    def squad(s: Squad) -> dict[str, Any]:
        return {"id": s.id, "code": s.code, "name": s.name_zh, "district": s.district_code}

    area = next((a for a in current_areas(session, level="district") if a.code == district), None)
    info = AreaInfo(district, area.name_zh, area.name_en, area.member) if area else None
    location = Location(121.47, 30.85, "member", info, None, False, None, None, False, None)
    return {
        "rule": "test",
        "reason": "factory",
        "lead": squad(lead) if lead else None,
        "queue": None if queue is None else {"id": queue.id, "code": queue.code, "name": queue.name_zh},
        "partners": [{**squad(s), "reason": "test partner"} for s in partners],
        "notes": [],
        "inputs": {"category": category, "location": location_payload(location)},
    }


def make_case(
    session: Session,
    *,
    lead: Squad | None,
    partners: tuple[Squad, ...] = (),
    district: str = "310120",
    category: str = "01-11",
    now: datetime | None = None,
    claim_by: datetime | None = None,
    resolve_by: datetime | None = None,
    status: str = "routed",
) -> Case:
    """A routed case owned by `lead` (or the district's dispatch desk when None), with partners."""
    now = now or utcnow()
    queue = None
    if lead is None:
        squads.ensure_dispatch_units(session)
        queue = next(u for u in squads.list_dispatch_units(session) if u.district_code == district)
    case = Case(
        number=next_case_number(session, now),
        status=status,
        category_code=category,
        lon=121.47,
        lat=30.85,
        geom=from_shape(Point(121.47, 30.85), srid=4326),
        district_code=district,
        outcome="member",
        routing=_routing_record(session, lead, queue, partners, district, category),
        lead_squad_id=lead.id if lead else None,
        queue_unit_id=queue.id if queue else None,
        claim_by=claim_by or now + timedelta(hours=2),
        resolve_by=resolve_by or now + timedelta(days=3),
        created_at=now,
        updated_at=now,
        last_report_at=now,
    )
    session.add(case)
    session.flush()
    for squad in partners:
        session.add(CasePartner(case_id=case.id, squad_id=squad.id, reason="test partner", added_at=now))
    session.flush()
    session.refresh(case)
    return case


def make_hotspot(
    session: Session,
    *,
    lon: float = 121.435,
    lat: float = 30.818,
    pair: tuple[str, str] = ("310116", "310120"),
    name: str | None = None,
    retired_at: datetime | None = None,
) -> Hotspot:
    """A hotspot at a point, of a border pair (not checked against the border zones)."""
    hotspot = Hotspot(
        name=name or unique("热点"),
        kind="ditch",
        lon=lon,
        lat=lat,
        district_a=min(pair),
        district_b=max(pair),
        active=retired_at is None,
        retired_at=retired_at,
    )
    session.add(hotspot)
    session.flush()
    return hotspot


def make_roster(session: Session, *, first: date, nights: int = 14, status: str = "published") -> Roster:
    """An empty roster of a period (add shifts with make_shift)."""
    roster = Roster(
        period_start=first,
        period_end=first + timedelta(days=nights - 1),
        status=status,
        solver="greedy",
        solver_status="TEST",
        seed=0,
        time_limit_s=1.0,
        objective=0,
        solve_time_s=0.0,
        breakdown={},
        explanation={},
        options={},
        warnings=[],
        published_at=utcnow() if status == "published" else None,
    )
    session.add(roster)
    session.flush()
    return roster


def make_shift(
    session: Session,
    roster: Roster,
    hotspot: Hotspot,
    night: date,
    squads_ab: tuple[Squad, Squad],
    *,
    status: str = "planned",
) -> RosterShift:
    """A shift of a roster: one hotspot, one night, two squads."""
    shift = RosterShift(
        roster_id=roster.id,
        hotspot_id=hotspot.id,
        night=night,
        squad_a_id=squads_ab[0].id,
        squad_b_id=squads_ab[1].id,
        uid=f"shift-{uuid.uuid4()}@test",
        status=status,
    )
    session.add(shift)
    session.flush()
    return shift


def make_patrol_log(session: Session, shift: RosterShift, *, found: tuple[Case, ...] = ()) -> PatrolLog:
    """A patrol log on a shift, linking the cases it found (or nothing found)."""
    start = datetime.combine(shift.night, time(20, 0), SHANGHAI)
    log = PatrolLog(
        shift_id=shift.id,
        started_at=start,
        ended_at=start + timedelta(hours=3),
        members=["测试队员"],
        outcome="found" if found else "nothing_found",
    )
    session.add(log)
    session.flush()
    for case in found:
        session.add(PatrolFinding(patrol_log_id=log.id, case_id=case.id, kind="linked"))
    session.flush()
    return log
