"""Helpers for the meetings tests: series, joint cases, a calendar that knows 2027."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.models import Case
from coordinator.meetings import services
from coordinator.meetings.models import MeetingSeries
from coordinator.meetings.planning import PlanResult
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI, WorkCalendar
from tests.factories import make_case, make_squad

# 2027's make-up days are not published yet: tests that plan into 2027 act as an operator who confirmed it.
CALENDAR = WorkCalendar(confirmed_years=frozenset({2026, 2027, 2028}))
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
ROTATION = ["310120", "310116", "310117", "310115"]  # 奉贤, 金山, 松江, 浦东
PAIR = ("310116", "310120")  # 金山–奉贤


def alliance_series(
    session: Session, user: User, *, now: datetime = NOW, code: str = "ALLIANCE"
) -> tuple[MeetingSeries, PlanResult]:
    """The alliance-wide monthly series (the 1st working day of each month, 14:30)."""
    return services.create_series(
        session,
        services.SeriesInput(
            code=code,
            name_zh="交界地带联席会议",
            scope="alliance",
            frequency="monthly",
            start_time=time(14, 30),
            day_of_month=1,
            host_rotation=ROTATION,
            location="奉贤区城管执法局 3 楼会议室",
        ),
        user,
        CALENDAR,
        now=now,
    )


def pair_series(session: Session, user: User, *, code: str = "JS-FX") -> MeetingSeries:
    """The 金山–奉贤 series, on demand."""
    series, _ = services.create_series(
        session,
        services.SeriesInput(
            code=code,
            name_zh="金山–奉贤交界联席会议",
            scope="border_pair",
            frequency="on_demand",
            start_time=time(9, 30),
            border_pair=PAIR,
        ),
        user,
        CALENDAR,
        now=NOW,
    )
    return series


def joint_case(
    session: Session,
    squad: Squad | None = None,
    *,
    overdue: bool,
    pair: tuple[str, str] = PAIR,
    now: datetime = NOW,
    joint: bool = True,
) -> Case:
    """An open case in a border zone of `pair` (or, with joint=False, inland), overdue or not at `now`."""
    squad = squad or make_squad(session, district=pair[1])
    created = now - timedelta(days=3)
    case = make_case(
        session,
        lead=squad,
        now=created,
        claim_by=now - timedelta(hours=1) if overdue else now + timedelta(days=2),
        resolve_by=now + timedelta(days=5),
    )
    case.in_border_zone = joint
    case.border_pair_a, case.border_pair_b = pair if joint else (None, None)
    session.flush()
    return case
