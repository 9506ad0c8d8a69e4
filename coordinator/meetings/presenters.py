"""Meetings and their parts as API payloads (district and squad names looked up once per answer; times
in Asia/Shanghai like every answer of the service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.models import Case
from coordinator.meetings import feeds, services
from coordinator.meetings.models import ActionItem, AgendaItem, Meeting, MeetingSeries
from coordinator.permissions import can_keep_record
from coordinator.review.services import district_names
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(SHANGHAI) if value is not None else None


class Presenter:
    """Meetings and their parts as API payloads (names looked up once); `viewer` is who asks (whether
    they may keep a meeting's record is part of its detail)."""

    def __init__(self, session: Session, viewer: User) -> None:
        self.session = session
        self.viewer = viewer
        self.districts = district_names(session)
        self._series: dict[int, MeetingSeries] = {}

    def district(self, code: str) -> dict[str, str]:
        """A district code with its Chinese name."""
        return {"code": code, "name": self.districts.get(code, code)}

    def series_row(self, series_id: int) -> MeetingSeries:
        """A series by id (loaded once per answer)."""
        if series_id not in self._series:
            self._series[series_id] = self.session.get_one(MeetingSeries, series_id)
        return self._series[series_id]

    def series(self, series: MeetingSeries) -> dict[str, Any]:
        """A series (`SeriesOut`)."""
        return {
            "id": series.id,
            "code": series.code,
            "name": series.name_zh,
            "scope": series.scope,
            "border_pair": list(services.pair_of(series) or []) or None,
            "frequency": series.frequency,
            "day_of_month": series.day_of_month,
            "start_time": series.start_time.strftime("%H:%M"),
            "duration_min": series.duration_min,
            "location": series.location,
            "host_rotation": [self.district(code) for code in series.host_rotation],
            "first_month": series.first_month,
            "agenda_lead_h": series.agenda_lead_h,
            "reminder_lead_h": series.reminder_lead_h,
            "active": series.active,
        }

    def meeting(self, meeting: Meeting) -> dict[str, Any]:
        """A meeting as listed (`MeetingOut`)."""
        series = self.series_row(meeting.series_id)
        return {
            "id": meeting.id,
            "series_id": meeting.series_id,
            "series_code": series.code,
            "occurrence": meeting.occurrence,
            "title": meeting.title,
            "host": self.district(meeting.host_district_code),
            "starts_at": meeting.starts_at.astimezone(SHANGHAI),
            "ends_at": meeting.ends_at.astimezone(SHANGHAI),
            "location": meeting.location,
            "status": meeting.status,
            "cancel_reason": meeting.cancel_reason,
            "ical_uid": feeds.meeting_uid(series, meeting),
            "ical_sequence": meeting.ical_sequence,
            "agenda_due_at": meeting.agenda_due_at.astimezone(SHANGHAI),
            "agenda_built_at": _local(meeting.agenda_built_at),
            "reminder_sent_at": _local(meeting.reminder_sent_at),
        }

    def action_item(self, item: ActionItem, today: date) -> dict[str, Any]:
        """An action item (`ActionItemOut`); `overdue` when open past its due date."""
        squad = self.session.get(Squad, item.owner_squad_id) if item.owner_squad_id else None
        numbers = (
            list(
                self.session.scalars(
                    select(Case.number).where(Case.id.in_([link.case_id for link in item.links]))
                )
            )
            if item.links
            else []
        )
        return {
            "id": item.id,
            "meeting_id": item.meeting_id,
            "series_id": item.series_id,
            "title": item.title,
            "detail": item.detail,
            "owner_squad": None
            if squad is None
            else {"code": squad.code, "name": squad.name_zh, "district": squad.district_code},
            "owner_district": self.district(item.owner_district_code) if item.owner_district_code else None,
            "due_date": item.due_date,
            "status": item.status,
            "overdue": item.status == "open" and item.due_date < today,
            "done_at": _local(item.done_at),
            "done_note": item.done_note,
            "case_numbers": sorted(numbers),
        }

    def agenda_item(self, item: AgendaItem) -> dict[str, Any]:
        """An agenda item (`AgendaItemOut`)."""
        return {
            "id": item.id,
            "position": item.position,
            "kind": item.kind,
            "source": item.source,
            "title": item.title,
            "detail": item.detail,
            "cases": item.cases or [],
            "data": item.data or {},
            "action_item_id": item.action_item_id,
        }

    def detail(self, meeting: Meeting, now: datetime) -> dict[str, Any]:
        """A meeting with its agenda, record and action items (`MeetingDetail`)."""
        items = list(
            self.session.scalars(
                select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id)
            )
        )
        today = now.astimezone(SHANGHAI).date()
        return {
            **self.meeting(meeting),
            "agenda": [self.agenda_item(a) for a in sorted(meeting.agenda, key=lambda a: a.position)],
            "minutes": meeting.minutes,
            "minutes_updated_at": _local(meeting.minutes_updated_at),
            "decisions": [d.text for d in sorted(meeting.decisions, key=lambda d: d.position)],
            "attendance": [
                {
                    "district": self.district(a.district_code),
                    "status": a.status,
                    "attendees": a.attendees,
                    "note": a.note,
                }
                for a in meeting.attendance
            ],
            "action_items": [self.action_item(i, today) for i in items],
            "can_edit_record": can_keep_record(self.viewer, host=meeting.host_district_code),
        }
