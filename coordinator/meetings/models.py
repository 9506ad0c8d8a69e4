"""Liaison meetings (联席会议): series, their meetings, agendas, minutes, decisions, action items,
attendance (the calendar feed's secret tokens are coordinator.feedtokens).

A *series* is a rule (alliance-wide monthly, or one border pair's, monthly or on demand) with a host
rotation; its *meetings* are materialised rows, one per occurrence (`occurrence` numbers them within
the series), so every meeting can be moved, hosted by another district or cancelled on its own and its
calendar entry keeps a stable UID while its SEQUENCE counts the changes.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow

SERIES_SCOPES = ("alliance", "border_pair")
SERIES_FREQUENCIES = ("monthly", "on_demand")
MEETING_STATUSES = ("scheduled", "held", "cancelled")
AGENDA_SOURCES = ("auto", "host")
ACTION_STATUSES = ("open", "done", "dropped")
ATTENDANCE_STATUSES = ("present", "absent", "excused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class MeetingSeries(Base):
    """A recurring liaison meeting: who it is for (the alliance or one border pair), when it falls
    (monthly: the first working day on or after `day_of_month`, at `start_time` Shanghai time; on
    demand: meetings are added one by one) and which districts host in turn."""

    __tablename__ = "meeting_series"
    __table_args__ = (
        CheckConstraint(_in("scope", SERIES_SCOPES), name="scope"),
        CheckConstraint(_in("frequency", SERIES_FREQUENCIES), name="frequency"),
        CheckConstraint(
            "(scope = 'border_pair') = (border_pair_a IS NOT NULL AND border_pair_b IS NOT NULL)",
            name="pair_scope",
        ),
        CheckConstraint("day_of_month IS NULL OR day_of_month BETWEEN 1 AND 28", name="day_of_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    # The pair's district codes in ascending order (as on case_file.border_pair_a/_b).
    border_pair_a: Mapped[str | None] = mapped_column(String(32))
    border_pair_b: Mapped[str | None] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16))
    # The month of the first occurrence (day 1); occurrence n falls n - 1 months later.
    first_month: Mapped[date] = mapped_column(Date)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    duration_min: Mapped[int] = mapped_column(Integer, default=120)
    location: Mapped[str] = mapped_column(String(200), default="")
    # District codes in hosting order; occurrence n is hosted by host_rotation[(n - 1) % len].
    host_rotation: Mapped[list[str]] = mapped_column(JSON)
    # Wall-clock hours before a meeting when its agenda is built, and when the reminder goes out.
    agenda_lead_h: Mapped[float] = mapped_column(Float, default=48.0)
    reminder_lead_h: Mapped[float] = mapped_column(Float, default=24.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    meetings: Mapped[list[Meeting]] = relationship(back_populates="series", order_by="Meeting.occurrence")


class Meeting(Base):
    """One liaison meeting. `ical_sequence` grows whenever its time, place, host or status changes."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(_in("status", MEETING_STATUSES), name="status"),
        UniqueConstraint("series_id", "occurrence"),
        # The scheduler's scans: agendas and reminders that fell due; the calendar and lists by time.
        Index("ix_meeting_status_agenda_due", "status", "agenda_due_at"),
        Index("ix_meeting_status_reminder_due", "status", "reminder_due_at"),
        Index("ix_meeting_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("meeting_series.id"))
    occurrence: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    host_district_code: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    location: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    # Set by the series rule; a meeting moved by hand keeps its own time when the rule changes.
    moved_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    agenda_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    agenda_built_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reminder_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    minutes: Mapped[str] = mapped_column(Text, default="")
    minutes_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    minutes_updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    series: Mapped[MeetingSeries] = relationship(back_populates="meetings")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[MeetingDecision]] = relationship(
        back_populates="meeting", order_by="MeetingDecision.position", cascade="all, delete-orphan"
    )
    attendance: Mapped[list[MeetingAttendance]] = relationship(
        back_populates="meeting", order_by="MeetingAttendance.district_code", cascade="all, delete-orphan"
    )


class AgendaItem(Base):
    """One agenda item: built from the caseload (`auto`, with a snapshot of the cases it lists at build
    time) or written by the host (`host`)."""

    __tablename__ = "agenda_item"
    __table_args__ = (CheckConstraint(_in("source", AGENDA_SOURCES), name="source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8), default="auto")
    # [{"id", "number", "status", "category", "district", "overdue", …}] as they were at build time.
    cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Figures behind the item (counts, the review's numbers), and whether the data exists yet.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action_item_id: Mapped[int | None] = mapped_column(ForeignKey("action_item.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")


class MeetingDecision(Base):
    """A decision recorded in the minutes (决议)."""

    __tablename__ = "meeting_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")


class ActionItem(Base):
    """A task a meeting gave a squad or a district (督办事项), with a due date and the cases it concerns.
    While open it shows on those cases and on every later agenda of its series."""

    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        CheckConstraint("(owner_squad_id IS NULL) <> (owner_district_code IS NULL)", name="one_owner"),
        Index("ix_action_item_series_status", "series_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("meeting_series.id"))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    owner_squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"))
    owner_district_code: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    links: Mapped[list[ActionItemCase]] = relationship(
        back_populates="action_item", order_by="ActionItemCase.case_id", cascade="all, delete-orphan"
    )


class ActionItemCase(Base):
    """A case an action item concerns."""

    __tablename__ = "action_item_case"

    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_item.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), primary_key=True, index=True)

    action_item: Mapped[ActionItem] = relationship(back_populates="links")


class MeetingAttendance(Base):
    """Whether a district attended (and how many people it sent; no names: no personal data)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (CheckConstraint(_in("status", ATTENDANCE_STATUSES), name="status"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attendees: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
