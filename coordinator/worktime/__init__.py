"""Working time on the Chinese calendar: public holidays and 调休 make-up workdays.

SLA limits are counted in 工作时/工作日. A day is a working day when an admin override says so, else
when it is a published make-up workday (调休上班), else when it is a weekday that is not a public
holiday. The `holidays` package knows a year's make-up days once the State Council has published
them (each November for the next year); for a year it does not know, `year_is_published` is False and
callers that plan ahead (rosters, meetings) must refuse unless an operator confirmed the year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=16)
def china_holidays(year: int) -> holidays.HolidayBase:
    """Public holidays of mainland China for `year` (the `holidays` package; cached)."""
    calendar: holidays.HolidayBase = holidays.country_holidays("CN", years=year)
    return calendar


@lru_cache(maxsize=16)
def makeup_workdays(year: int) -> frozenset[date]:
    """Weekend days worked in exchange for a holiday (调休上班) of `year`; empty until published."""
    days = getattr(china_holidays(year), "weekend_workdays", ())
    return frozenset(d for d in days if d.year == year)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours. `overrides` maps a date to True (work) or False (day off)."""

    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    overrides: Mapping[date, bool] = field(default_factory=dict)
    confirmed_years: frozenset[int] = frozenset()

    @property
    def hours_per_day(self) -> float:
        """Working hours in one working day."""
        start = datetime.combine(date.min, self.day_start)
        return (datetime.combine(date.min, self.day_end) - start).total_seconds() / 3600

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day in Shanghai."""
        if day in self.overrides:
            return self.overrides[day]
        if day in makeup_workdays(day.year):
            return True
        if day in china_holidays(day.year):
            return False
        return day.weekday() < 5

    def year_is_published(self, year: int) -> bool:
        """Whether the year's holiday schedule is known (published make-up days, or confirmed)."""
        return (
            year in self.confirmed_years
            or bool(makeup_workdays(year))
            or any(d.year == year for d in self.overrides)
        )

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (aware datetime; result in Asia/Shanghai)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = timedelta(hours=hours)
        current = start.astimezone(SHANGHAI)
        for _ in range(3660):  # ten years of days: a bound, not a limit anyone reaches
            day = current.date()
            open_at = datetime.combine(day, self.day_start, SHANGHAI)
            close_at = datetime.combine(day, self.day_end, SHANGHAI)
            if self.is_working_day(day) and current < close_at:
                current = max(current, open_at)
                available = close_at - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
            current = datetime.combine(day + timedelta(days=1), self.day_start, SHANGHAI)
        raise ValueError("no working time found within ten years; check the calendar overrides")

    def add(self, start: datetime, value: float, unit: str) -> datetime:
        """Add `value` working hours (`unit="work_hours"`) or working days (`"work_days"`)."""
        if unit == "work_hours":
            return self.add_working_hours(start, value)
        if unit == "work_days":
            return self.add_working_hours(start, value * self.hours_per_day)
        raise ValueError(f"unknown time unit {unit!r}; use work_hours or work_days")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from `start` to `end` (0 if end <= start)."""
        if end <= start:
            return 0.0
        total = timedelta()
        current = start.astimezone(SHANGHAI)
        end = end.astimezone(SHANGHAI)
        while current < end:
            day = current.date()
            open_at = datetime.combine(day, self.day_start, SHANGHAI)
            close_at = datetime.combine(day, self.day_end, SHANGHAI)
            if self.is_working_day(day):
                lo, hi = max(current, open_at), min(end, close_at)
                if hi > lo:
                    total += hi - lo
            current = datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI)
        return total.total_seconds() / 3600
