"""Roster tables: rosters and their shifts, squad availability and night preferences, and the patrol
logs squads record on a shift (with the cases they found). A squad's calendar feed tokens are
coordinator.feedtokens'."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow

ROSTER_STATES = ("draft", "published")
SHIFT_STATES = ("planned", "cancelled")
PATROL_OUTCOMES = ("found", "nothing_found")
FINDING_KINDS = ("linked", "opened")


class Roster(Base):
    """A joint night roster for a period (1–4 weeks): how it was solved and why it looks as it does."""

    __tablename__ = "roster"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, index=True)
    period_end: Mapped[date] = mapped_column(Date)  # the last night (inclusive)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    origin: Mapped[str] = mapped_column(String(16), default="api")  # api | scheduler
    solver: Mapped[str] = mapped_column(String(16))
    solver_status: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    time_limit_s: Mapped[float] = mapped_column(Float)
    objective: Mapped[int] = mapped_column(Integer)
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    solve_time_s: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    shifts: Mapped[list[RosterShift]] = relationship(
        back_populates="roster", order_by="(RosterShift.night, RosterShift.id)"
    )


class RosterShift(Base):
    """One patrol: a hotspot, a night, one squad from each side. `uid` stays the same across moves of the
    night (calendar clients update the event); `sequence` counts changes after publishing."""

    __tablename__ = "roster_shift"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'cancelled')", name="status"),
        CheckConstraint("squad_a_id <> squad_b_id", name="two_squads"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("roster.id"), index=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspot.id"), index=True)
    night: Mapped[date] = mapped_column(Date, index=True)
    squad_a_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), index=True)
    squad_b_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), index=True)
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    roster: Mapped[Roster] = relationship(back_populates="shifts")


class SquadUnavailability(Base):
    """Nights a squad cannot patrol (leave, training, another operation), first to last night inclusive."""

    __tablename__ = "squad_unavailability"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    squad_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SquadNightPreference(Base):
    """How much a squad likes patrolling on a weekday's night: −2 (avoid) … +2 (prefer)."""

    __tablename__ = "squad_night_preference"
    __table_args__ = (
        UniqueConstraint("squad_id", "weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("preference BETWEEN -2 AND 2", name="preference"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    squad_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    preference: Mapped[int] = mapped_column(Integer)


class PatrolLog(Base):
    """What the squads on a shift did: when, who went, and what they found (or "nothing found")."""

    __tablename__ = "patrol_log"
    __table_args__ = (
        CheckConstraint("outcome IN ('found', 'nothing_found')", name="outcome"),
        CheckConstraint("ended_at >= started_at", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("roster_shift.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    findings: Mapped[list[PatrolFinding]] = relationship(order_by="PatrolFinding.id")


class PatrolFinding(Base):
    """A case a patrol found: an existing one it linked, or one it opened through the normal intake."""

    __tablename__ = "patrol_finding"
    __table_args__ = (
        CheckConstraint("kind IN ('linked', 'opened')", name="kind"),
        UniqueConstraint("patrol_log_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_log_id: Mapped[int] = mapped_column(ForeignKey("patrol_log.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    kind: Mapped[str] = mapped_column(String(16))
