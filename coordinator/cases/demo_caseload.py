"""A realistic synthetic caseload for demos (every row marked `synthetic`).

Reports arrive over the last 90 days, clustered at border hotspots (沟渠, 断头路 along the member
borders) with some spread inland and a few outside the alliance; sources and categories are mixed the
way a Shanghai 城运 platform sees them. They go through the real intake (locate, dedup, route), so
nearby reports merge into cases exactly as live ones would. Older cases are moved along the workflow
so every state appears.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth import services as auth
from coordinator.auth.models import User
from coordinator.boundaries import services as boundaries
from coordinator.cases import workflow
from coordinator.cases.intake import ReportInput, submit_report
from coordinator.cases.models import Case
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator
from geo.metric import to_lonlat, to_metric

SOURCES = (
    ("grid_worker", 30),
    ("citizen", 25),
    ("hotline_12345", 20),
    ("camera", 12),
    ("patrol", 8),
    ("drone", 3),
    ("volunteer", 2),
)
HOTSPOT_CATEGORIES = (("01-11", 40), ("01-51", 35), ("01-10", 15), ("01-01", 10))
INLAND_CATEGORIES = (("01-10", 30), ("01-01", 25), ("05-51", 20), ("05-52", 15), ("01-51", 10))
DESCRIPTIONS = {
    "01-11": ("沟渠边偷倒建筑垃圾", "断头路堆放渣土", "夜间偷倒装修垃圾"),
    "01-51": ("河岸边生活垃圾成堆", "路边偷倒生活垃圾", "林地内倾倒垃圾袋"),
    "01-10": ("道路旁暴露垃圾", "绿化带内垃圾未清"),
    "01-01": ("农田旁新建违章棚屋", "屋顶加盖违法建筑"),
    "05-51": ("住宅违法装修拆改承重墙",),
    "05-52": ("出租屋群租隔间",),
}


@dataclass
class CaseloadReport:
    """What the demo caseload seeding did."""

    reports: int = 0
    cases: int = 0
    skipped: bool = False


def has_demo_caseload(session: Session) -> bool:
    """Whether the synthetic caseload was already created."""
    return session.scalar(select(Case.id).where(Case.synthetic.is_(True)).limit(1)) is not None


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _hotspots(session: Session, rng: random.Random, per_border: int) -> list[tuple[float, float]]:
    """Points 50–400 m from the member borders, inside one of the two districts."""
    spots: list[tuple[float, float]] = []
    for border in boundaries.list_shared_borders(session, members_only=True):
        line = to_metric(to_shape(border.geom))
        union = to_metric(to_shape(boundaries.get_area(session, border.code_a).geom)).union(
            to_metric(to_shape(boundaries.get_area(session, border.code_b).geom))
        )
        found = 0
        for _ in range(per_border * 20):
            anchor = line.interpolate(rng.random(), normalized=True)
            distance = rng.uniform(50, 400)
            angle = rng.uniform(0, 2 * math.pi)
            probe = Point(anchor.x + distance * math.cos(angle), anchor.y + distance * math.sin(angle))
            if union.contains(probe):
                p = to_lonlat(probe)
                spots.append((p.x, p.y))
                found += 1
                if found == per_border:
                    break
    return spots


def _inland_point(session: Session, rng: random.Random, locator: Locator) -> tuple[float, float]:
    for _ in range(1000):
        lon, lat = rng.uniform(121.0, 121.95), rng.uniform(30.7, 31.35)
        d, _z = locator.district_and_zone(lon, lat)
        if d >= 0 and locator.districts[d].member:
            return lon, lat
    raise RuntimeError("no inland point found")


def _jitter(lon: float, lat: float, rng: random.Random, sigma_m: float) -> tuple[float, float]:
    p = to_metric(Point(lon, lat))
    q = to_lonlat(Point(p.x + rng.gauss(0, sigma_m), p.y + rng.gauss(0, sigma_m)))
    return q.x, q.y


def seed_demo_caseload(
    session: Session,
    locator: Locator,
    *,
    reports: int = 3000,
    days: int = 90,
    seed: int = 2026,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
    progress: Callable[[int], None] | None = None,
) -> CaseloadReport:
    """Create the synthetic caseload once; a second run does nothing (idempotent)."""
    if has_demo_caseload(session):
        return CaseloadReport(skipped=True)
    rng = random.Random(seed)
    now = now or datetime.now(SHANGHAI)
    calendar = calendar or WorkCalendar()
    hotspots = _hotspots(session, rng, per_border=6)
    times = sorted(now - timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(reports))
    result = CaseloadReport()
    for i, when in enumerate(times):
        roll = rng.random()
        if roll < 0.70 and hotspots:
            lon, lat = _jitter(*rng.choice(hotspots), rng, sigma_m=90)
            category = _weighted(rng, HOTSPOT_CATEGORIES)
        elif roll < 0.97:
            lon, lat = _inland_point(session, rng, locator)
            category = _weighted(rng, INLAND_CATEGORIES)
        else:  # a few reports from just outside the alliance (闵行, 青浦) reach the dispatcher
            lon, lat = rng.uniform(121.35, 121.45), rng.uniform(31.05, 31.12)
            category = _weighted(rng, INLAND_CATEGORIES)
        source = _weighted(rng, SOURCES)
        intake = submit_report(
            session,
            locator,
            ReportInput(
                category=category,
                lon=lon,
                lat=lat,
                description=f"【演示数据】{rng.choice(DESCRIPTIONS[category])}",
                source=source,
                observed_at=when - timedelta(minutes=rng.randint(5, 240)),
                external_id=f"demo-{seed}-{i}" if source == "hotline_12345" else None,
                synthetic=True,
            ),
            submitter=None,
            calendar=calendar,
            now=when,
        )
        result.reports += 1
        result.cases += 0 if intake.merged else 1
        if progress is not None:
            progress(1)
    _advance_states(session, rng, now)
    session.flush()
    return result


# Final state per case by age (older cases are further along), reached through the real workflow.
_PATHS = (
    (),
    ("claim",),
    ("claim", "start"),
    ("claim", "start", "resolve"),
    ("claim", "start", "resolve", "verify"),
    ("claim", "start", "resolve", "verify", "close"),
    ("void",),
)
DEMO_PHOTO = "https://demo.invalid/jiaojie/evidence.jpg"  # synthetic: .invalid never resolves


def _demo_user(session: Session, cache: dict[str, User], username: str, **kwargs: str) -> User:
    if username not in cache:
        user = auth.find_user(session, username)
        if user is None:
            # Token-only synthetic accounts that act in the demo history (no password, no token).
            user = auth.create_user(session, username=username, display_name="【演示】", **kwargs)
        cache[username] = user
    return cache[username]


def _advance_states(session: Session, rng: random.Random, now: datetime) -> None:
    """Move synthetic cases along the workflow with the real actions (conditional updates, events)."""
    users: dict[str, User] = {}
    squads = {sq.id: sq for sq in session.scalars(select(Squad))}
    cases = session.scalars(
        select(Case).where(Case.synthetic.is_(True), Case.status == "routed").order_by(Case.id)
    ).all()
    for case in cases:
        squad = squads.get(case.lead_squad_id) if case.lead_squad_id else None
        if squad is None or case.district_code is None:
            continue  # dispatcher-queue cases wait for a dispatcher (and the SLA sweep escalates them)
        age_days = (now - case.created_at).total_seconds() / 86400
        if age_days < 1:
            weights = (60, 25, 15, 0, 0, 0, 0)
        elif age_days < 7:
            weights = (10, 20, 30, 20, 10, 5, 5)
        else:
            weights = (2, 2, 4, 6, 8, 70, 8)
        path = rng.choices(_PATHS, weights=weights)[0]
        member = _demo_user(
            session, users, f"demo_sq_{squad.code}".lower(), role="squad_member", squad_code=squad.code
        )
        dispatcher = _demo_user(
            session,
            users,
            f"demo_dispatch_{case.district_code}",
            role="dispatcher",
            district=case.district_code,
        )
        at = case.created_at
        for action in path:
            at = at + timedelta(hours=rng.uniform(0.5, 30))
            if at > now:
                break
            if action == "claim":
                workflow.claim(session, case.id, member, now=at)
            elif action == "start":
                workflow.start(session, case.id, member, now=at, note="【演示数据】已到场")
            elif action == "resolve":
                evidence = workflow.Evidence(note="【演示数据】已清运完毕", photos=[DEMO_PHOTO])
                workflow.resolve(session, case.id, member, evidence, now=at)
            elif action == "verify":
                workflow.verify(session, case.id, dispatcher, now=at, note="【演示数据】核查通过")
            elif action == "close":
                workflow.close(session, case.id, dispatcher, now=at, note="【演示数据】结案")
            elif action == "void":
                workflow.void(
                    session,
                    case.id,
                    dispatcher,
                    now=at,
                    kind="not_actionable",
                    reason="【演示数据】现场无此问题",
                )
