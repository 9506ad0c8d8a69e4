"""Meeting series, meetings, agendas edited by the host, minutes, decisions, attendance, action items.

Services take a Session and a user, apply the object-level rules of coordinator.permissions (403), and never
commit. Times are aware datetimes; the calendar (working days) comes from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordinator.auth.models import User
from coordinator.boundaries.models import AdminArea
from coordinator.dialects import begin_write
from coordinator.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coordinator.meetings import agenda as agendas
from coordinator.meetings import planning
from coordinator.meetings.models import (
    AgendaItem,
    Meeting,
    MeetingAttendance,
    MeetingDecision,
    MeetingSeries,
)
from coordinator.notifications.services import enqueue
from coordinator.permissions import can_keep_record, can_manage_meeting, can_manage_series
from coordinator.worktime import SHANGHAI, WorkCalendar


def member_districts(session: Session) -> list[str]:
    """The alliance's member districts (codes, ascending; the areas in force, without their polygons)."""
    return list(
        session.scalars(
            select(AdminArea.code)
            .where(AdminArea.valid_to.is_(None), AdminArea.level == "district", AdminArea.member.is_(True))
            .order_by(AdminArea.code)
        )
    )


def pair_of(series: MeetingSeries) -> tuple[str, str] | None:
    """The series' border pair, if it has one."""
    if series.border_pair_a is None or series.border_pair_b is None:
        return None
    return series.border_pair_a, series.border_pair_b


def districts_of(session: Session, series: MeetingSeries) -> list[str]:
    """The districts a series' meetings belong to."""
    pair = pair_of(series)
    return list(pair) if pair else member_districts(session)


@dataclass(frozen=True)
class SeriesInput:
    """A new series (validated for shape by the API schema)."""

    code: str
    name_zh: str
    scope: str
    frequency: str
    start_time: time
    border_pair: tuple[str, str] | None = None
    first_month: date | None = None
    day_of_month: int | None = None
    duration_min: int = 120
    location: str = ""
    host_rotation: Sequence[str] = ()
    agenda_lead_h: float = 48.0
    reminder_lead_h: float = 24.0


def _check_rotation(session: Session, rotation: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = [code for code in rotation if code not in allowed]
    if unknown or not rotation:
        raise ValidationFailed(
            "host_rotation lists the districts of the series in hosting order",
            details={"unknown": unknown, "allowed": list(allowed)},
        )
    return list(rotation)


def create_series(
    session: Session, data: SeriesInput, user: User, calendar: WorkCalendar, *, now: datetime
) -> tuple[MeetingSeries, planning.PlanResult]:
    """Create a series and plan its next meetings (monthly) — 409 if the code is taken."""
    begin_write(session)
    members = member_districts(session)
    if data.scope == "border_pair":
        if data.border_pair is None or not set(data.border_pair) <= set(members):
            raise ValidationFailed(
                "a border-pair series names two member districts", details={"members": members}
            )
        allowed = list(data.border_pair)
    else:
        allowed = members
    if not can_manage_series(user, scope=data.scope, pair=data.border_pair):
        raise Forbidden(
            "only the alliance desk plans alliance-wide meetings; "
            "a district's dispatcher plans its own border pairs'"
        )
    if data.frequency == "monthly" and data.day_of_month is None:
        raise ValidationFailed("a monthly series needs day_of_month (1–28)")
    if session.scalar(select(MeetingSeries.id).where(MeetingSeries.code == data.code)) is not None:
        raise Conflict(f"a series {data.code} exists", details={"code": data.code})
    local = now.astimezone(SHANGHAI)
    series = MeetingSeries(
        code=data.code,
        name_zh=data.name_zh,
        scope=data.scope,
        border_pair_a=data.border_pair[0] if data.border_pair else None,
        border_pair_b=data.border_pair[1] if data.border_pair else None,
        frequency=data.frequency,
        first_month=(data.first_month or local.date()).replace(day=1),
        day_of_month=data.day_of_month,
        start_time=data.start_time,
        duration_min=data.duration_min,
        location=data.location,
        host_rotation=_check_rotation(session, data.host_rotation or allowed, allowed),
        agenda_lead_h=data.agenda_lead_h,
        reminder_lead_h=data.reminder_lead_h,
        active=True,
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    session.flush()
    return series, planning.plan_series(session, series, calendar, now=now)


def get_series(session: Session, series_id: int) -> MeetingSeries:
    """A series, or 404."""
    series = session.get(MeetingSeries, series_id)
    if series is None:
        raise NotFound(f"no meeting series {series_id}", details={"id": series_id})
    return series


def list_series(session: Session) -> list[MeetingSeries]:
    """Every series, by code."""
    return list(session.scalars(select(MeetingSeries).order_by(MeetingSeries.code)))


def update_series(
    session: Session,
    series: MeetingSeries,
    changes: dict[str, Any],
    user: User,
    calendar: WorkCalendar,
    *,
    now: datetime,
) -> planning.PlanResult:
    """Change a series' rule; its future meetings (not moved by hand) follow, each with a new SEQUENCE.
    Deactivating cancels its future scheduled meetings."""
    begin_write(session)
    if not can_manage_series(user, scope=series.scope, pair=pair_of(series)):
        raise Forbidden("you do not manage this series", details={"series": series.code})
    if "host_rotation" in changes:
        changes["host_rotation"] = _check_rotation(
            session, changes["host_rotation"], districts_of(session, series)
        )
    for name, value in changes.items():
        setattr(series, name, value)
    series.updated_at = now
    if not series.active:
        for meeting in future_meetings(session, series, now):
            _cancel(session, meeting, "会议系列已停用", now)
        return planning.PlanResult()
    return planning.plan_series(session, series, calendar, now=now)


def future_meetings(session: Session, series: MeetingSeries, now: datetime) -> list[Meeting]:
    """The series' scheduled meetings that have not started."""
    return list(
        session.scalars(
            select(Meeting).where(
                Meeting.series_id == series.id, Meeting.status == "scheduled", Meeting.starts_at > now
            )
        )
    )


def add_meeting(
    session: Session,
    series: MeetingSeries,
    user: User,
    calendar: WorkCalendar,
    *,
    starts_at: datetime,
    host: str | None,
    location: str | None,
    now: datetime,
) -> Meeting:
    """Add one meeting to a series (a border pair's meeting on demand, or an extra one)."""
    begin_write(session)
    if not can_manage_series(user, scope=series.scope, pair=pair_of(series)):
        raise Forbidden("you do not manage this series", details={"series": series.code})
    planning.check_working_time(calendar, starts_at)
    last = session.scalar(
        select(Meeting.occurrence)
        .where(Meeting.series_id == series.id)
        .order_by(Meeting.occurrence.desc())
        .limit(1)
    )
    occurrence = (last or 0) + 1
    if series.frequency == "monthly":
        occurrence = max(occurrence, 10_000)  # extra meetings of a monthly series never take a month's number
    districts = districts_of(session, series)
    chosen = host or planning.host_for(series, occurrence)
    if chosen not in districts:
        raise ValidationFailed("the host is one of the series' districts", details={"allowed": districts})
    meeting = Meeting(
        series_id=series.id,
        occurrence=occurrence,
        title=planning.title_for(series, occurrence, starts_at),
        host_district_code=chosen,
        location=series.location if location is None else location,
        status="scheduled",
        ical_sequence=0,
        moved_by_hand=True,
        created_at=now,
        updated_at=now,
    )
    planning.apply_times(series, meeting, starts_at)
    session.add(meeting)
    session.flush()
    return meeting


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    """A meeting with its agenda, decisions and attendance, or 404."""
    meeting = session.scalars(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.agenda), selectinload(Meeting.decisions), selectinload(Meeting.attendance)
        )
    ).one_or_none()
    if meeting is None:
        raise NotFound(f"no meeting {meeting_id}", details={"id": meeting_id})
    return meeting


def list_meetings(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    series_id: int | None = None,
    district: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Meeting]:
    """Meetings by start time, filtered (a district: meetings of its pairs and the alliance's)."""
    stmt = select(Meeting).join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
    if start is not None:
        stmt = stmt.where(Meeting.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Meeting.starts_at < end)
    if series_id is not None:
        stmt = stmt.where(Meeting.series_id == series_id)
    if status is not None:
        stmt = stmt.where(Meeting.status == status)
    if district is not None:
        stmt = stmt.where(
            (MeetingSeries.scope == "alliance")
            | (MeetingSeries.border_pair_a == district)
            | (MeetingSeries.border_pair_b == district)
        )
    return list(session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def _require_manage(session: Session, meeting: Meeting, user: User) -> MeetingSeries:
    series = session.get_one(MeetingSeries, meeting.series_id)
    if not can_manage_meeting(
        user, scope=series.scope, pair=pair_of(series), host=meeting.host_district_code
    ):
        raise Forbidden(
            "only the host district's dispatcher or whoever manages the series may change this meeting",
            details={"meeting": meeting.id, "host": meeting.host_district_code},
        )
    return series


def require_record(meeting: Meeting, user: User) -> None:
    if not can_keep_record(user, host=meeting.host_district_code):
        raise Forbidden(
            "the host district's dispatcher keeps this meeting's agenda and minutes",
            details={"meeting": meeting.id, "host": meeting.host_district_code},
        )


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.status == "cancelled":
        raise Conflict("the meeting is cancelled", details={"meeting": meeting.id})


def update_meeting(
    session: Session,
    meeting: Meeting,
    user: User,
    calendar: WorkCalendar,
    *,
    starts_at: datetime | None,
    host: str | None,
    location: str | None,
    now: datetime,
) -> Meeting:
    """Move, re-host or relocate one meeting (its calendar entry keeps its UID; SEQUENCE grows)."""
    begin_write(session)
    series = _require_manage(session, meeting, user)
    _require_scheduled(meeting)
    changed = False
    if starts_at is not None and starts_at != meeting.starts_at:
        planning.check_working_time(calendar, starts_at)
        planning.apply_times(series, meeting, starts_at)
        meeting.moved_by_hand = True
        changed = True
    if host is not None and host != meeting.host_district_code:
        districts = districts_of(session, series)
        if host not in districts:
            raise ValidationFailed("the host is one of the series' districts", details={"allowed": districts})
        meeting.host_district_code = host
        meeting.moved_by_hand = True
        changed = True
    if location is not None and location != meeting.location:
        meeting.location = location
        changed = True
    if changed:
        meeting.ical_sequence += 1
        meeting.updated_at = now
        session.flush()
        enqueue(session, "meeting_changed", None, agendas.notice(session, meeting, now), now=now)
    return meeting


def _cancel(session: Session, meeting: Meeting, reason: str, now: datetime) -> None:
    meeting.status = "cancelled"
    meeting.cancel_reason = reason[:500]
    meeting.ical_sequence += 1
    meeting.updated_at = now
    session.flush()
    enqueue(session, "meeting_cancelled", None, agendas.notice(session, meeting, now), now=now)


def cancel_meeting(session: Session, meeting: Meeting, user: User, *, reason: str, now: datetime) -> Meeting:
    """Cancel a meeting (it stays in the calendar feed with STATUS:CANCELLED)."""
    begin_write(session)
    _require_manage(session, meeting, user)
    _require_scheduled(meeting)
    if not reason.strip():
        raise ValidationFailed("cancelling needs a reason")
    _cancel(session, meeting, reason, now)
    return meeting


@dataclass(frozen=True)
class AgendaEdit:
    """One item of an edited agenda: an existing one (by id) kept or re-titled, or a new host item."""

    title: str
    detail: str = ""
    id: int | None = None


def replace_agenda(
    session: Session, meeting: Meeting, user: User, items: Sequence[AgendaEdit], *, now: datetime
) -> Meeting:
    """The host sets the agenda: items in this order; existing items named by id keep their cases and
    data; items left out are removed."""
    begin_write(session)
    require_record(meeting, user)
    _require_scheduled(meeting)
    existing = {a.id: a for a in meeting.agenda}
    unknown = [i.id for i in items if i.id is not None and i.id not in existing]
    if unknown:
        raise ValidationFailed("agenda items of another meeting", details={"unknown": unknown})
    keep: list[AgendaItem] = []
    for position, edit in enumerate(items, start=1):
        agenda_item = (
            existing.pop(edit.id)
            if edit.id is not None
            else AgendaItem(meeting_id=meeting.id, kind="host", source="host", cases=[], data={})
        )
        agenda_item.title, agenda_item.detail, agenda_item.position = edit.title, edit.detail, position
        keep.append(agenda_item)
    for gone in existing.values():
        session.delete(gone)
    session.flush()
    meeting.agenda = keep
    meeting.updated_at = now
    session.flush()
    return meeting


def rebuild_agenda(session: Session, meeting: Meeting, user: User, *, now: datetime) -> Meeting:
    """The host asks for the automatic items again, from the caseload as it is now."""
    require_record(meeting, user)
    _require_scheduled(meeting)
    agendas.build(session, meeting, now, rebuild=True)
    return meeting


def record_minutes(
    session: Session, meeting: Meeting, user: User, *, minutes: str, decisions: Sequence[str], now: datetime
) -> Meeting:
    """Minutes and decisions (decisions replace the earlier list). A meeting that has begun is `held`."""
    begin_write(session)
    require_record(meeting, user)
    _require_scheduled(meeting)
    meeting.minutes = minutes
    meeting.minutes_updated_at = now
    meeting.minutes_updated_by_id = user.id
    meeting.decisions = [
        MeetingDecision(meeting_id=meeting.id, position=i, text=text, created_at=now)
        for i, text in enumerate(decisions, start=1)
    ]
    if meeting.starts_at <= now:
        meeting.status = "held"
    meeting.updated_at = now
    session.flush()
    return meeting


@dataclass(frozen=True)
class AttendanceInput:
    """One district's attendance."""

    district: str
    status: str
    attendees: int = 0
    note: str = ""


def record_attendance(
    session: Session, meeting: Meeting, user: User, rows: Sequence[AttendanceInput], *, now: datetime
) -> Meeting:
    """Attendance per district (replaces the earlier record)."""
    begin_write(session)
    require_record(meeting, user)
    districts = districts_of(session, session.get_one(MeetingSeries, meeting.series_id))
    unknown = [r.district for r in rows if r.district not in districts]
    if unknown or len({r.district for r in rows}) != len(rows):
        raise ValidationFailed(
            "one row per district of the meeting", details={"allowed": districts, "unknown": unknown}
        )
    meeting.attendance = []
    session.flush()
    meeting.attendance = [
        MeetingAttendance(
            meeting_id=meeting.id,
            district_code=r.district,
            status=r.status,
            attendees=r.attendees,
            note=r.note,
        )
        for r in rows
    ]
    meeting.updated_at = now
    session.flush()
    return meeting
