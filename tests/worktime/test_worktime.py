"""Working time on the Chinese calendar: holidays, 调休 make-up days, overrides."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from coordinator.worktime import SHANGHAI, WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 27), True),  # an ordinary Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday made a workday (调休)
        (date(2026, 2, 14), True),  # Saturday before 春节, a make-up workday
        (date(2026, 2, 17), False),  # 春节
        (date(2026, 5, 4), False),  # 劳动节 holiday on a Monday
    ],
)
def test_2026_working_days_follow_the_published_schedule(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_overrides_win() -> None:
    cal = WorkCalendar(overrides={date(2026, 11, 27): False, date(2026, 11, 28): True})
    assert not cal.is_working_day(date(2026, 11, 27))
    assert cal.is_working_day(date(2026, 11, 28))


def test_working_hours_skip_nights_weekends_and_holidays() -> None:
    # Wednesday 30 Sep 2026, 16:00 + 3 working hours: 1 h that day; 1–7 Oct is 国庆; Thursday 8 Oct works
    start = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
    assert CAL.add_working_hours(start, 3) == datetime(2026, 10, 8, 11, 0, tzinfo=SHANGHAI)
    # before opening time counts from 09:00
    early = datetime(2026, 11, 27, 6, 0, tzinfo=SHANGHAI)
    assert CAL.add(early, 1, "work_days") == datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    assert CAL.working_hours_between(early, datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)) == 9.0


def test_unknown_units_and_naive_times_are_errors() -> None:
    with pytest.raises(ValueError, match="unit"):
        CAL.add(datetime(2026, 11, 27, 9, tzinfo=SHANGHAI), 1, "fortnights")
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_hours(datetime(2026, 11, 27, 9), 1)  # noqa: DTZ001


def test_2027_is_not_published_yet_unless_confirmed() -> None:
    assert CAL.year_is_published(2026)
    assert not CAL.year_is_published(2027)
    assert WorkCalendar(confirmed_years=frozenset({2027})).year_is_published(2027)
