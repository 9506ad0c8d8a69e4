"""Patrollers' checks: a grid worker (网格员) or village volunteer (村民志愿者) checks a hotspot or any point
of their town — GPS position and time, "clean" or what was found, photos.

A finding becomes a report through the normal intake (source `grid_worker` / `volunteer`, submitted by
the patroller), so it merges and routes like any other; a clean check is kept as evidence of coverage.
Per hotspot: when it was last checked and how many checks a week; per patroller: checks and confirmed
findings (their case was verified or closed). Patrollers see only their own checks and the cases they
reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from coordinator.auth.models import PATROLLER_ROLES, User
from coordinator.cases.intake import ReportInput, submit_report
from coordinator.cases.models import Case, Report
from coordinator.db import UtcDateTime
from coordinator.errors import Forbidden, NotFound, ValidationFailed
from coordinator.field.models import PatrolCheck
from coordinator.geolocation.services import check_and_locate
from coordinator.hotspots.models import Hotspot
from coordinator.worktime import WorkCalendar
from geo.locator import Locator

# A check "at a hotspot" is within this distance of it (GPS on a phone, a ditch is long).
HOTSPOT_RADIUS_M = 300.0
CONFIRMED_STATUSES = ("verified", "closed")
COVERAGE_WEEKS = 4


@dataclass(frozen=True)
class CheckInput:
    """A check as a patroller records it."""

    lon: float
    lat: float
    crs: str
    checked_at: datetime
    outcome: str
    hotspot_id: int | None = None
    accuracy_m: float | None = None
    note: str = ""
    photos: Sequence[str] = ()
    category: str | None = None  # for a finding: what was found


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    from coordinator.field.alerts import _distance_m as haversine

    return haversine(lon1, lat1, lon2, lat2)


def record_check(
    session: Session,
    user: User,
    data: CheckInput,
    *,
    locator: Locator,
    calendar: WorkCalendar,
    now: datetime,
) -> PatrolCheck:
    """Store a check; a finding is filed through the normal intake as the patroller's report."""
    if user.role not in PATROLLER_ROLES or user.town_code is None:
        raise Forbidden("only grid workers and volunteers record checks")
    if data.outcome == "found" and not data.category:
        raise ValidationFailed("a finding needs the category of what was found", code="category_required")
    if data.outcome == "clean" and data.category:
        raise ValidationFailed("a clean check has no category", code="inconsistent_outcome")
    location = check_and_locate(locator, data.lon, data.lat, data.crs)
    hotspot: Hotspot | None = None
    if data.hotspot_id is not None:
        hotspot = session.get(Hotspot, data.hotspot_id)
        if hotspot is None or not hotspot.active:
            raise ValidationFailed(f"no active hotspot {data.hotspot_id}", code="unknown_hotspot")
        distance = _distance_m(hotspot.lon, hotspot.lat, location.lon, location.lat)
        if distance > HOTSPOT_RADIUS_M:
            raise ValidationFailed(
                f"the position is {distance:.0f} m from the hotspot; a check there is within "
                f"{HOTSPOT_RADIUS_M:.0f} m",
                code="not_at_hotspot",
                details={"distance_m": round(distance)},
            )
    in_town = location.town is not None and location.town.code == user.town_code
    district = user.town_code[:6]
    at_own_border = hotspot is not None and district in hotspot.pair
    if not (in_town or at_own_border):
        raise Forbidden(
            f"a patroller checks the town {user.town_code} (and the hotspots on its district's borders)",
            code="outside_town",
            details={"town": user.town_code, "located_town": location.town.code if location.town else None},
        )
    check = PatrolCheck(
        patroller_id=user.id,
        hotspot_id=hotspot.id if hotspot else None,
        town_code=user.town_code,
        lon=location.lon,
        lat=location.lat,
        accuracy_m=data.accuracy_m,
        checked_at=data.checked_at,
        outcome=data.outcome,
        note=data.note,
        photos=list(data.photos),
        created_at=now,
    )
    if data.outcome == "found":
        assert data.category is not None
        result = submit_report(
            session,
            locator,
            ReportInput(
                category=data.category,
                lon=data.lon,
                lat=data.lat,
                crs=data.crs,
                description=data.note,
                source=user.role,
                observed_at=data.checked_at,
                photos=tuple(data.photos),
            ),
            submitter=user,
            calendar=calendar,
            now=now,
        )
        check.report_id = result.report_id
        check.case_id = result.case_facts.id
    session.add(check)
    session.flush()
    return check


def add_photos(session: Session, check: PatrolCheck, urls: Sequence[str]) -> None:
    """Name uploaded photos on the check and, for a finding, on its report (the case shows them)."""
    check.photos = [*check.photos, *urls]
    if check.report_id is not None:
        report = session.get_one(Report, check.report_id)
        report.photos = [*report.photos, *urls]
    session.flush()


def get_check(session: Session, user: User, check_id: int) -> PatrolCheck:
    """A check by id: a patroller sees only their own (others' are 404 to them)."""
    check = session.get(PatrolCheck, check_id)
    if check is None or (user.role in PATROLLER_ROLES and check.patroller_id != user.id):
        raise NotFound(f"no check {check_id}", details={"id": check_id})
    return check


def list_checks(
    session: Session,
    user: User,
    *,
    hotspot_id: int | None = None,
    patroller: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[PatrolCheck]:
    """Checks, newest first: a patroller's own only; staff see all (filters: hotspot, patroller)."""
    stmt = select(PatrolCheck)
    if user.role in PATROLLER_ROLES:
        stmt = stmt.where(PatrolCheck.patroller_id == user.id)
    elif patroller is not None:
        stmt = stmt.join(User, User.id == PatrolCheck.patroller_id).where(User.username == patroller)
    if hotspot_id is not None:
        stmt = stmt.where(PatrolCheck.hotspot_id == hotspot_id)
    if since is not None:
        stmt = stmt.where(PatrolCheck.checked_at >= since)
    return list(
        session.scalars(stmt.order_by(PatrolCheck.checked_at.desc(), PatrolCheck.id.desc()).limit(limit))
    )


def case_summaries(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Case number and status by id."""
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.number, Case.status).where(Case.id.in_(set(case_ids))))
    return {cid: (number, status) for cid, number, status in rows}


def reported_cases(session: Session, user: User, *, limit: int = 100) -> list[dict[str, Any]]:
    """The cases a user reported (any source), by their latest report of each, newest first — all a
    patroller sees of cases."""
    latest = func.max(Report.received_at, type_=UtcDateTime()).label("reported_at")
    rows = session.execute(
        select(Case.number, Case.status, Case.category_code, Case.created_at, latest)
        .join(Report, Report.case_id == Case.id)
        .where(Report.submitted_by_id == user.id)
        .group_by(Case.id, Case.number, Case.status, Case.category_code, Case.created_at)
        .order_by(latest.desc(), Case.id.desc())
        .limit(limit)
    )
    return [
        {"number": n, "status": s, "category": c, "created_at": created, "reported_at": reported}
        for n, s, c, created, reported in rows
    ]


@dataclass(frozen=True)
class HotspotCoverage:
    """How a hotspot is checked."""

    hotspot: Hotspot
    last_checked_at: datetime | None
    checks: int
    checks_per_week: float
    findings: int


def hotspot_coverage(session: Session, hotspot: Hotspot, *, now: datetime) -> HotspotCoverage:
    """Last check and checks a week (over the last COVERAGE_WEEKS weeks) of one hotspot."""
    since = now - timedelta(weeks=COVERAGE_WEEKS)
    last = session.scalar(
        select(func.max(PatrolCheck.checked_at, type_=UtcDateTime())).where(
            PatrolCheck.hotspot_id == hotspot.id
        )
    )
    recent = session.execute(
        select(PatrolCheck.outcome, func.count())
        .where(PatrolCheck.hotspot_id == hotspot.id, PatrolCheck.checked_at >= since)
        .group_by(PatrolCheck.outcome)
    ).all()
    counts = {outcome: n for outcome, n in recent}
    total = sum(counts.values())
    return HotspotCoverage(hotspot, last, total, round(total / COVERAGE_WEEKS, 2), counts.get("found", 0))


@dataclass(frozen=True)
class PatrollerStats:
    """One patroller's work."""

    user: User
    checks: int
    clean: int
    findings: int
    confirmed_findings: int
    last_checked_at: datetime | None


def patroller_stats(session: Session, viewer: User) -> list[PatrollerStats]:
    """Checks and confirmed findings per patroller (a district's dispatcher: its district's towns)."""
    users = list(session.scalars(select(User).where(User.role.in_(PATROLLER_ROLES)).order_by(User.username)))
    if viewer.role == "dispatcher" and viewer.district_code is not None:
        users = [u for u in users if u.scope_district == viewer.district_code]
    if not users:
        return []
    ids = [u.id for u in users]
    rows = session.execute(
        select(PatrolCheck.patroller_id, PatrolCheck.outcome, Case.status, PatrolCheck.checked_at)
        .outerjoin(Case, Case.id == PatrolCheck.case_id)
        .where(PatrolCheck.patroller_id.in_(ids))
    ).all()
    per: dict[int, dict[str, Any]] = {
        i: {"checks": 0, "clean": 0, "found": 0, "confirmed": 0, "last": None} for i in ids
    }
    for pid, outcome, status, at in rows:
        p = per[pid]
        p["checks"] += 1
        p["clean" if outcome == "clean" else "found"] += 1
        if outcome == "found" and status in CONFIRMED_STATUSES:
            p["confirmed"] += 1
        if p["last"] is None or at > p["last"]:
            p["last"] = at
    return [
        PatrollerStats(
            u,
            per[u.id]["checks"],
            per[u.id]["clean"],
            per[u.id]["found"],
            per[u.id]["confirmed"],
            per[u.id]["last"],
        )
        for u in users
    ]


def patroller_hotspots(session: Session, user: User) -> list[tuple[Hotspot, datetime | None]]:
    """The active hotspots a patroller may check (those on their district's borders) with when each
    was last checked (by anyone), the longest unchecked first."""
    if user.town_code is None:
        return []
    district = user.town_code[:6]
    last = (
        select(PatrolCheck.hotspot_id, func.max(PatrolCheck.checked_at, type_=UtcDateTime()).label("last"))
        .group_by(PatrolCheck.hotspot_id)
        .subquery()
    )
    rows = session.execute(
        select(Hotspot, last.c.last)
        .outerjoin(last, last.c.hotspot_id == Hotspot.id)
        .where(Hotspot.active.is_(True), or_(Hotspot.district_a == district, Hotspot.district_b == district))
    ).all()
    never = datetime.min.replace(tzinfo=UTC)
    pairs = [(hotspot, when) for hotspot, when in rows]
    return sorted(pairs, key=lambda p: (p[1] or never, p[0].name))
