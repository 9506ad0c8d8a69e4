"""Purging cases lets go of what other domains link to them (patrol findings, links, outbox)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.cases.retention import purge_cases
from coordinator.rosters.models import PatrolFinding, PatrolLog
from tests.factories import make_case, make_hotspot, make_patrol_log, make_roster, make_shift, make_squad


def test_purging_a_case_found_on_patrol_removes_the_finding_and_keeps_the_log(session: Session) -> None:
    squad, other = make_squad(session), make_squad(session, district="310116")
    case = make_case(session, lead=squad)
    roster = make_roster(session, first=date(2026, 11, 2))
    shift = make_shift(session, roster, make_hotspot(session), date(2026, 11, 3), (squad, other))
    log = make_patrol_log(session, shift, found=(case,))

    assert purge_cases(session, [case.id], reason="retention test") == 1

    assert session.get(Case, case.id) is None
    findings = session.scalar(
        select(func.count()).select_from(PatrolFinding).where(PatrolFinding.case_id == case.id)
    )
    assert findings == 0
    assert session.get(PatrolLog, log.id) is not None
