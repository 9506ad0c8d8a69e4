"""The synthetic demo caseload goes through the real intake and covers every state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.demo_caseload import seed_demo_caseload
from coordinator.cases.models import Case, Report
from coordinator.geolocation.services import LocatorCache
from coordinator.worktime import SHANGHAI


def test_caseload_is_synthetic_clustered_and_spread_over_states(
    session: Session, locator_cache: LocatorCache
) -> None:
    locator = locator_cache.get(lambda: session)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
    result = seed_demo_caseload(session, locator, reports=400, now=now, seed=7)
    assert result.reports == 400 and 0 < result.cases < 400  # some reports merged into cases
    cases = session.scalars(select(Case).where(Case.synthetic.is_(True))).all()
    assert len(cases) == result.cases
    statuses = {c.status for c in cases}
    assert {"routed", "closed", "void"} <= statuses and len(statuses) >= 6
    assert sum(c.in_border_zone for c in cases) > len(cases) / 2  # clustered at border hotspots
    assert all(c.lead_squad_id or c.queue_unit_id for c in cases)
    # states were reached through the workflow: claimed cases have a holder, closed ones a full trail
    assert all(c.claimed_by_id for c in cases if c.status in ("claimed", "in_progress", "resolved", "closed"))
    closed = next(c for c in cases if c.status == "closed")
    kinds = [e.kind for e in closed.events]
    assert kinds[:2] == ["reported", "routed"] and kinds[-5:] == [
        "claimed",
        "started",
        "resolved",
        "verified",
        "closed",
    ]
    reports = session.scalars(select(Report).where(Report.synthetic.is_(True))).all()
    assert len({r.source for r in reports}) >= 5 and len({r.category_code for r in reports}) >= 5
    assert all(r.description.startswith("【演示数据】") for r in reports)
    # idempotent
    assert seed_demo_caseload(session, locator, reports=400, now=now).skipped
    assert session.scalar(select(func.count()).where(Report.synthetic.is_(True))) == 400
