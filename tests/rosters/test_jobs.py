"""The scheduler's roster jobs: next week's draft on the configured day (once), and the reminder of
tonight's patrols to both squads (once per shift)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coordinator.notifications.models import OutboxMessage
from coordinator.rosters import services
from coordinator.rosters.models import Roster
from coordinator.scheduler import jobs
from coordinator.worktime import SHANGHAI
from coordinator.worktime.services import load_calendar
from tests.rosters.conftest import START


def test_draft_next_week_once_then_remind_tonight_once(
    demo_hotspots: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs.bind(session_factory)
    thursday = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(jobs, "clock", lambda: thursday)
    first = jobs.draft_next_roster(time_limit_s=2.0, workers=1)
    assert first["created"] is True and first["week"] == START.isoformat()
    again = jobs.draft_next_roster(time_limit_s=2.0, workers=1)
    assert again == {"week": START.isoformat(), "roster": first["roster"], "created": False}

    roster = demo_hotspots.get_one(Roster, first["roster"])
    assert roster.origin == "scheduler" and roster.status == "draft"
    assert roster.period_start == START and (roster.period_end - roster.period_start).days == 6
    services.publish(
        demo_hotspots, roster, calendar=load_calendar(demo_hotspots), now=thursday, published_by_id=None
    )
    demo_hotspots.commit()

    tonight = [s for s in services.planned(roster) if s.night == START]
    assert tonight, "the first night of the week has patrols"
    monkeypatch.setattr(jobs, "clock", lambda: datetime(2026, 12, 7, 15, 0, tzinfo=SHANGHAI))
    assert jobs.remind_patrols() == {"reminded": len(tonight)}
    assert jobs.remind_patrols() == {"reminded": 0}
    messages = demo_hotspots.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "patrol_reminder")
    ).all()
    assert sorted(m.payload["shift_uid"] for m in messages) == sorted(s.uid for s in tonight)
    assert all(len(m.payload["squads"]) == 2 for m in messages)
