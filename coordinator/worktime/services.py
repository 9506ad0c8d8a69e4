"""The working-time calendar as stored: library holidays plus the admin overrides and confirmed years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.worktime import WorkCalendar, china_holidays, makeup_workdays
from coordinator.worktime.models import CalendarOverride, CalendarYear


def load_calendar(session: Session) -> WorkCalendar:
    """The calendar intake deadlines and the SLA sweep use: `holidays` (CN) with 调休, then overrides."""
    overrides = {o.day: o.is_working_day for o in session.scalars(select(CalendarOverride))}
    years = frozenset(session.scalars(select(CalendarYear.year)))
    return WorkCalendar(overrides=overrides, confirmed_years=years)


def set_override(session: Session, day: date, *, working: bool, note: str, now: datetime) -> CalendarOverride:
    """Declare `day` a working day or a day off (replaces an earlier override of that day)."""
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, is_working_day=working, note=note, updated_at=now)
        session.add(row)
    else:
        row.is_working_day, row.note, row.updated_at = working, note, now
    session.flush()
    return row


def remove_override(session: Session, day: date) -> bool:
    """Drop the override of `day` (the library's answer applies again). False if there was none."""
    row = session.get(CalendarOverride, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def confirm_year(session: Session, year: int, *, by: str, note: str, now: datetime) -> CalendarYear:
    """Record that an operator checked `year` (library data + overrides) against the published schedule."""
    row = session.get(CalendarYear, year) or CalendarYear(year=year)
    row.confirmed_at, row.confirmed_by, row.note = now, by, note
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class DayInfo:
    """A day that is not an ordinary weekday/weekend, and why."""

    day: date
    working: bool
    why: str


def exceptional_days(session: Session, year: int) -> list[DayInfo]:
    """Holidays, make-up workdays and overrides of `year` (what `calendar show` prints)."""
    overrides = {o.day: o for o in session.scalars(select(CalendarOverride))}
    holidays = china_holidays(year)
    makeup = makeup_workdays(year)
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        if day in overrides:
            o = overrides[day]
            out.append(DayInfo(day, o.is_working_day, f"override: {o.note or '-'}"))
        elif day in makeup:
            out.append(DayInfo(day, True, "调休上班 (make-up workday)"))
        elif day in holidays:
            out.append(DayInfo(day, False, f"holiday: {holidays.get(day)}"))
        day += timedelta(days=1)
    return out
