"""Planning on working days with rotating hosts, agendas built from the caseload, action items carried
until done, and scheduler jobs that change nothing when run twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from coordinator.errors import Forbidden
from coordinator.meetings import actions, agenda, planning, services
from coordinator.meetings.models import AgendaItem, Meeting
from coordinator.notifications.models import OutboxMessage
from coordinator.scheduler import jobs
from coordinator.worktime import SHANGHAI, WorkCalendar
from tests.factories import (
    make_case,
    make_hotspot,
    make_patrol_log,
    make_roster,
    make_shift,
    make_squad,
    make_user,
)
from tests.meetings.conftest import CALENDAR, NOW, PAIR, ROTATION, alliance_series, joint_case, pair_series


def local(meeting: Meeting) -> datetime:
    return meeting.starts_at.astimezone(SHANGHAI)


def test_an_alliance_series_yields_the_next_six_meetings_on_working_days_with_rotating_hosts(
    session: Session,
) -> None:
    desk = make_user(session, "dispatcher")  # the alliance desk: no district
    series, plan = alliance_series(session, desk)
    meetings = sorted(plan.created, key=lambda m: m.starts_at)
    assert len(meetings) == 6 and plan.blocked_year is None
    assert [(local(m).year, local(m).month) for m in meetings] == [
        (2026, 12), (2027, 1), (2027, 2), (2027, 3), (2027, 4), (2027, 5)
    ]  # fmt: skip
    for m in meetings:
        day = local(m).date()
        assert CALENDAR.is_working_day(day) and local(m).time() == time(14, 30) and m.starts_at > NOW
        # the first working day on or after the 1st: every day before it in the month is a day off
        assert not any(CALENDAR.is_working_day(day.replace(day=d)) for d in range(1, day.day))
    assert local(meetings[1]).date() == date(2027, 1, 4)  # 1 January is New Year's Day, 2–3 a weekend
    hosts = [m.host_district_code for m in meetings]
    assert hosts == [ROTATION[(m.occurrence - 1) % 4] for m in meetings]
    assert set(hosts[:4]) == set(ROTATION) and hosts[4] == hosts[0]
    # planning again changes nothing
    again = planning.plan_series(session, series, CALENDAR, now=NOW)
    assert again.created == [] and again.changed == []


def test_an_unpublished_year_is_not_planned(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    series, plan = services.create_series(
        session,
        services.SeriesInput(
            code="ALL-2",
            name_zh="联席会议",
            scope="alliance",
            frequency="monthly",
            start_time=time(9),
            day_of_month=10,
        ),
        desk,
        WorkCalendar(),  # the libraries know 2026's make-up days, not 2027's
        now=NOW,
    )
    assert [(local(m).year, local(m).month) for m in plan.created] == [(2026, 12)]
    assert plan.blocked_year == 2027
    assert series.host_rotation == sorted(ROTATION)  # default: the member districts by code


def test_a_changed_rule_moves_future_meetings_and_bumps_their_sequence(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    series, plan = alliance_series(session, desk)
    moved_by_hand = sorted(plan.created, key=lambda m: m.starts_at)[0]
    services.update_meeting(
        session,
        moved_by_hand,
        desk,
        CALENDAR,
        starts_at=moved_by_hand.starts_at + timedelta(days=1),
        host=None,
        location=None,
        now=NOW,
    )
    result = services.update_series(session, series, {"start_time": time(9, 0)}, desk, CALENDAR, now=NOW)
    assert len(result.changed) == 5  # not the one a dispatcher moved by hand
    assert all(local(m).time() == time(9, 0) and m.ical_sequence == 1 for m in result.changed)
    assert moved_by_hand.ical_sequence == 1 and local(moved_by_hand).time() == time(14, 30)


def test_who_manages_which_meeting(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    fengxian = make_user(session, "dispatcher", district="310120")
    pudong = make_user(session, "dispatcher", district="310115")
    with pytest.raises(Forbidden):
        alliance_series(session, fengxian)  # alliance-wide series are the alliance desk's
    series = pair_series(session, fengxian)  # 金山–奉贤: Fengxian's dispatcher may plan it
    with pytest.raises(Forbidden):
        services.add_meeting(
            session,
            series,
            pudong,
            CALENDAR,
            starts_at=datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI),
            host=None,
            location=None,
            now=NOW,
        )
    meeting = services.add_meeting(
        session,
        series,
        desk,
        CALENDAR,
        starts_at=datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI),
        host="310116",
        location=None,
        now=NOW,
    )
    jinshan = make_user(session, "dispatcher", district="310116")
    services.record_minutes(
        session, meeting, jinshan, minutes="纪要", decisions=["联合清运"], now=NOW
    )  # host
    with pytest.raises(Forbidden):
        services.record_minutes(session, meeting, fengxian, minutes="改纪要", decisions=[], now=NOW)
    with pytest.raises(Forbidden):
        services.replace_agenda(session, meeting, fengxian, [services.AgendaEdit("议题")], now=NOW)


def test_the_agenda_lists_the_overdue_joint_cases_that_exist_when_it_is_built(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    _series, plan = alliance_series(session, desk)
    first = sorted(plan.created, key=lambda m: m.starts_at)[0]
    build_at = first.agenda_due_at + timedelta(minutes=5)
    overdue = [joint_case(session, overdue=True, now=build_at) for _ in range(2)]
    other_pair = joint_case(session, overdue=True, pair=("310115", "310120"), now=build_at)
    on_time = joint_case(session, overdue=False, now=build_at)
    inland = joint_case(session, overdue=True, joint=False, now=build_at)
    built = agenda.build_due_agendas(session, now=build_at)
    assert built.meeting_ids == [first.id]
    items = {a.kind: a for a in session.get_one(Meeting, first.id).agenda}
    listed = {c["number"] for c in items["overdue_cases"].cases}
    assert listed == {c.number for c in [*overdue, other_pair]}  # alliance meeting: every border pair
    assert inland.number not in listed and on_time.number not in listed
    assert all(c["overdue"] for c in items["overdue_cases"].cases)
    assert on_time.number in {c["number"] for c in items["open_joint_cases"].cases}
    assert items["hotspots"].data == {"available": True, "count": 0, "hotspots": []}
    assert items["roster_coverage"].data == {"available": True, "coverage": []}
    # a case that falls overdue after the agenda was built is not added to it: the agenda is a snapshot
    joint_case(session, overdue=True, now=build_at)
    assert agenda.build_due_agendas(session, now=build_at + timedelta(minutes=5)).meeting_ids == []
    session.expire_all()
    again = {a.kind: a for a in session.get_one(Meeting, first.id).agenda}
    assert {c["number"] for c in again["overdue_cases"].cases} == listed
    # a border pair's meeting lists only its pair's cases
    pair_meeting = services.add_meeting(
        session,
        pair_series(session, desk),
        desk,
        CALENDAR,
        starts_at=first.starts_at + timedelta(days=1),
        host=None,
        location=None,
        now=NOW,
    )
    agenda.build(session, pair_meeting, build_at)
    pair_items = {a.kind: a for a in session.get_one(Meeting, pair_meeting.id).agenda}
    pair_listed = {c["number"] for c in pair_items["overdue_cases"].cases}
    assert other_pair.number not in pair_listed and {c.number for c in overdue} <= pair_listed
    assert all(c["border_pair"] == "-".join(PAIR) for c in pair_items["overdue_cases"].cases)


def test_an_open_action_item_shows_in_every_following_agenda_until_done(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    _series, plan = alliance_series(session, desk)
    first, second, third = sorted(plan.created, key=lambda m: m.starts_at)[:3]
    case = joint_case(session, overdue=True, now=first.starts_at)
    item = actions.add_action_item(
        session,
        first,
        desk,
        title="沟渠建筑垃圾联合清运",
        detail="",
        owner_squad=None,
        owner_district="310116",
        due_date=date(2026, 12, 20),
        case_numbers=[case.number],
        now=first.starts_at,
    )
    assert actions.open_action_items_for_case(session, case.id) == [item]
    agenda.build(session, second, second.agenda_due_at)
    carried = [a for a in session.get_one(Meeting, second.id).agenda if a.kind == "action_item"]
    assert [a.action_item_id for a in carried] == [item.id] and "已逾期" in carried[0].title
    assert carried[0].cases == [{"id": case.id}]
    actions.update_action_item(
        session, item, desk, {"status": "done", "done_note": "已清运"}, now=second.starts_at
    )
    assert actions.open_action_items_for_case(session, case.id) == []
    agenda.build(session, third, third.agenda_due_at)
    assert not [a for a in session.get_one(Meeting, third.id).agenda if a.kind == "action_item"]


def test_the_host_keeps_own_items_when_the_agenda_is_rebuilt(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    _, plan = alliance_series(session, desk)
    meeting = sorted(plan.created, key=lambda m: m.starts_at)[0]
    services.replace_agenda(
        session, meeting, desk, [services.AgendaEdit("春节前联合整治部署", "各区汇报")], now=NOW
    )
    agenda.build(session, meeting, meeting.agenda_due_at)
    titles = [a.title for a in session.get_one(Meeting, meeting.id).agenda]
    assert titles[-1] == "春节前联合整治部署" and len(titles) > 1
    agenda.build(session, meeting, meeting.agenda_due_at, rebuild=True)
    session.expire_all()
    rebuilt = session.get_one(Meeting, meeting.id).agenda
    assert [a.title for a in rebuilt] == titles and [a.position for a in rebuilt] == list(
        range(1, len(titles) + 1)
    )


def test_scheduler_jobs_change_nothing_when_run_twice(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = make_user(session, "dispatcher")
    _, plan = alliance_series(session, desk)
    meeting = sorted(plan.created, key=lambda m: m.starts_at)[0]
    joint_case(session, overdue=True, now=meeting.agenda_due_at)
    session.commit()
    monkeypatch.setattr(jobs, "_factory", session_factory)
    monkeypatch.setattr(jobs, "clock", lambda: meeting.starts_at - timedelta(hours=1))  # past both due times

    def state() -> tuple[int, int, int, list[datetime | None]]:
        with session_factory() as s:
            return (
                s.scalar(select(func.count()).select_from(AgendaItem)) or 0,
                s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.kind.like("meeting_%"))
                )
                or 0,
                s.scalar(select(func.count()).select_from(Meeting)) or 0,
                [
                    s.get_one(Meeting, meeting.id).agenda_built_at,
                    s.get_one(Meeting, meeting.id).reminder_sent_at,
                ],
            )

    assert jobs.plan_meetings() == {"created": 0, "changed": 0}
    assert jobs.meeting_agendas() == {"built": 1}
    assert jobs.meeting_reminders() == {"reminded": 1}
    after_first = state()
    assert after_first[0] > 0 and after_first[1] == 2  # agenda notice + reminder
    assert jobs.meeting_agendas() == {"built": 0}
    assert jobs.meeting_reminders() == {"reminded": 0}
    assert jobs.plan_meetings() == {"created": 0, "changed": 0}
    assert state() == after_first


def test_the_agenda_lists_rising_hotspots_and_roster_coverage(session: Session) -> None:
    desk = make_user(session, "dispatcher")
    _series, plan = alliance_series(session, desk)
    first = sorted(plan.created, key=lambda m: m.starts_at)[0]
    build_at = first.agenda_due_at + timedelta(minutes=5)
    rising = make_hotspot(session, name="柘林 交界沟渠")
    quiet = make_hotspot(session, lon=121.66, lat=30.96, pair=("310115", "310120"), name="曹路 空地")
    for days in (2, 3, 4):  # three dumping cases next to `rising` since the last month, none before
        case = make_case(session, lead=None, now=build_at - timedelta(days=days))
        case.lon, case.lat = rising.lon + 0.0005, rising.lat
    session.flush()
    squads_ab = (make_squad(session, district="310116"), make_squad(session, district="310120"))
    roster = make_roster(session, first=(build_at - timedelta(days=10)).date())
    done = make_shift(session, roster, rising, (build_at - timedelta(days=3)).date(), squads_ab)
    make_patrol_log(session, done)
    make_shift(session, roster, rising, (build_at - timedelta(days=5)).date(), squads_ab)  # not logged
    assert agenda.build_due_agendas(session, now=build_at).meeting_ids == [first.id]
    items = {a.kind: a for a in session.get_one(Meeting, first.id).agenda}
    hotspots = items["hotspots"]
    assert hotspots.data["count"] == 1 and [h["id"] for h in hotspots.data["hotspots"]] == [rising.id]
    assert hotspots.data["hotspots"][0] | {"id": 0} == {
        "id": 0,
        "name": "柘林 交界沟渠",
        "border_pair": "310116-310120",
        "cases": 3,
        "previous": 0,
        "trend": "rising",
    }
    assert quiet.name not in hotspots.detail and "柘林 交界沟渠：本期 3 起，上期 0 起" in hotspots.detail
    coverage = items["roster_coverage"]
    assert coverage.data["coverage"] == [
        {
            "border_pair": "310116-310120",
            "label": "金山区–奉贤区",
            "planned": 2,
            "due": 2,
            "done": 1,
            "missed": 1,
            "rate": 0.5,
            "cases_found": 0,
        }
    ]
    assert "完成率 50.0%" in coverage.detail
