"""When meetings fall and who hosts them: a series' occurrences on working days of the Chinese calendar.

A monthly series meets on the first working day on or after its `day_of_month` (holidays, 调休 make-up
days and the admin overrides of coordinator.worktime decide), at its local start time; occurrence n is
hosted by `host_rotation[(n - 1) % len]`. Meetings are materialised some months ahead (`HORIZON`), one row
per occurrence, so each can then be moved or cancelled on its own. A year whose holiday schedule is not
published (and not confirmed by an operator, `flask calendar confirm YEAR`) is never planned: planning
stops before it and says which year blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.errors import ValidationFailed
from coordinator.meetings.models import Meeting, MeetingSeries
from coordinator.worktime import SHANGHAI, WorkCalendar

HORIZON = 6  # future meetings kept planned per monthly series


class YearNotPublished(ValidationFailed):
    """Planning reached a year whose holidays and make-up days are not known yet."""

    code = "calendar_year_not_published"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the {year} holiday schedule is not published: meetings in {year} cannot be placed on working "
            f"days yet (an operator confirms the year with `flask --app wsgi calendar confirm {year}`)",
            details={"year": year},
        )
        self.year = year


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after `first`'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def meeting_day(calendar: WorkCalendar, month: date, day_of_month: int) -> date:
    """The first working day on or after `day_of_month` in `month` (else the month's last working day
    before it). Raises YearNotPublished for a year the calendar does not know."""
    if not calendar.year_is_published(month.year):
        raise YearNotPublished(month.year)
    day = month.replace(day=day_of_month)
    probe = day
    while probe.month == month.month:
        if calendar.is_working_day(probe):
            return probe
        probe += timedelta(days=1)
    probe = day - timedelta(days=1)
    while probe.month == month.month:
        if calendar.is_working_day(probe):
            return probe
        probe -= timedelta(days=1)
    raise ValidationFailed(f"{month:%Y-%m} has no working day", details={"month": f"{month:%Y-%m}"})


def check_working_time(calendar: WorkCalendar, starts_at: datetime) -> None:
    """422 unless `starts_at` falls on a working day (Shanghai) of a published year."""
    day = starts_at.astimezone(SHANGHAI).date()
    if not calendar.year_is_published(day.year):
        raise YearNotPublished(day.year)
    if not calendar.is_working_day(day):
        raise ValidationFailed(
            f"{day.isoformat()} is not a working day (holiday, weekend or day off)",
            code="not_a_working_day",
            details={"date": day.isoformat()},
        )


def host_for(series: MeetingSeries, occurrence: int) -> str:
    """The district hosting occurrence n of the series."""
    rotation = series.host_rotation
    return rotation[(occurrence - 1) % len(rotation)]


def occurrence_start(series: MeetingSeries, occurrence: int, calendar: WorkCalendar) -> datetime:
    """When occurrence n of a monthly series starts (aware, Asia/Shanghai)."""
    month = add_months(series.first_month, occurrence - 1)
    day = meeting_day(calendar, month, series.day_of_month or 1)
    return datetime.combine(day, series.start_time, SHANGHAI)


def title_for(series: MeetingSeries, occurrence: int, starts_at: datetime) -> str:
    """E.g. `交界地带联席会议 · 2026年12月` (monthly) or `… · 第3次` (on demand)."""
    if series.frequency == "monthly":
        local = starts_at.astimezone(SHANGHAI)
        return f"{series.name_zh} · {local.year}年{local.month}月"
    return f"{series.name_zh} · 第{occurrence}次"


def apply_times(series: MeetingSeries, meeting: Meeting, starts_at: datetime) -> None:
    """Set a meeting's start, end and the moments its agenda and reminder fall due."""
    meeting.starts_at = starts_at
    meeting.ends_at = starts_at + timedelta(minutes=series.duration_min)
    meeting.agenda_due_at = starts_at - timedelta(hours=series.agenda_lead_h)
    meeting.reminder_due_at = starts_at - timedelta(hours=series.reminder_lead_h)


@dataclass
class PlanResult:
    """What planning did: meetings created and re-timed, and the year it could not enter (if any)."""

    created: list[Meeting] = field(default_factory=list)
    changed: list[Meeting] = field(default_factory=list)
    blocked_year: int | None = None


def _same(series: MeetingSeries, meeting: Meeting, starts_at: datetime, host: str, title: str) -> bool:
    planned = Meeting()
    apply_times(series, planned, starts_at)
    fields = ("starts_at", "ends_at", "agenda_due_at", "reminder_due_at")
    return all(getattr(meeting, f) == getattr(planned, f) for f in fields) and (
        meeting.host_district_code,
        meeting.location,
        meeting.title,
    ) == (host, series.location, title)


def plan_series(
    session: Session, series: MeetingSeries, calendar: WorkCalendar, *, now: datetime, horizon: int = HORIZON
) -> PlanResult:
    """Materialise the next `horizon` meetings of a monthly series (idempotent: an occurrence that exists
    is only re-timed if the series rule moved it and nobody moved it by hand; a changed meeting's
    calendar SEQUENCE grows)."""
    result = PlanResult()
    if series.frequency != "monthly" or not series.active:
        return result
    existing = {
        m.occurrence: m for m in session.scalars(select(Meeting).where(Meeting.series_id == series.id))
    }
    local_now = now.astimezone(SHANGHAI)
    months_in = (local_now.year - series.first_month.year) * 12 + local_now.month - series.first_month.month
    occurrence = max(1, months_in + 1)
    future = 0
    while future < horizon:
        try:
            starts_at = occurrence_start(series, occurrence, calendar)
        except YearNotPublished as blocked:
            result.blocked_year = blocked.year
            break
        if starts_at > now:
            future += 1
            meeting = existing.get(occurrence)
            host = host_for(series, occurrence)
            title = title_for(series, occurrence, starts_at)
            if meeting is None:
                meeting = Meeting(
                    series_id=series.id,
                    occurrence=occurrence,
                    title=title,
                    host_district_code=host,
                    location=series.location,
                    status="scheduled",
                    ical_sequence=0,
                    created_at=now,
                    updated_at=now,
                )
                apply_times(series, meeting, starts_at)
                session.add(meeting)
                result.created.append(meeting)
            elif (
                meeting.status == "scheduled"
                and not meeting.moved_by_hand
                and not _same(series, meeting, starts_at, host, title)
            ):
                apply_times(series, meeting, starts_at)
                meeting.host_district_code, meeting.location, meeting.title = host, series.location, title
                meeting.ical_sequence += 1
                meeting.updated_at = now
                result.changed.append(meeting)
        occurrence += 1
    session.flush()
    return result
