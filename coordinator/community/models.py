"""Tables of the community domain: reporter feedback, reward rules and the append-only reward ledger,
compounds and their property managers, renovation filings with their trail, and inspections.

The ledger and the trails keep copies (case number, district) rather than foreign keys to cases: a
case deleted by retention (coordinator.cases.retention) must not take the reward history with it.
"""

from __future__ import annotations

from datetime import date, datetime
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow

NOTIFY_CHANNELS = ("sms", "suishenban", "app")
FEEDBACK_KINDS = ("rating", "dispute")
LEDGER_KINDS = ("earned", "revoked", "redeemed")
FILING_STATES = ("submitted", "returned", "resubmitted", "accepted", "in_works", "inspected", "closed")
ACTIVE_FILING_STATES = ("accepted", "in_works", "inspected")
INSPECTION_KINDS = ("property_patrol", "spot_check", "completion")
INSPECTION_RESULTS = ("pass", "fail")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# -- reporter feedback ---------------------------------------------------------------------------------


class ReportFeedback(Base):
    """A reporter's rating of a resolution, or their dispute of it: at most one of each per report."""

    __tablename__ = "report_feedback"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(FEEDBACK_KINDS)}", name="kind"),
        CheckConstraint("(kind = 'rating') = (stars IS NOT NULL)", name="rating_has_stars"),
        CheckConstraint("stars IS NULL OR stars BETWEEN 1 AND 5", name="stars_range"),
        UniqueConstraint("report_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    stars: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(1000), default="")
    via: Mapped[str] = mapped_column(String(16))  # "account" or "status_link"
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# -- rewards ----------------------------------------------------------------------------------------


class RewardRule(Base):
    """Which reports earn points, as data: the first active rule (lowest priority) whose category and
    source match decides. Points are credited when the case is verified, to the first `first_k`
    reporters of the case (None: all), up to `daily_cap` points per reporter per day (None: no cap)."""

    __tablename__ = "reward_rule"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("first_k IS NULL OR first_k > 0", name="first_k_positive"),
        CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_cap_positive"),
        CheckConstraint("trigger IN ('verified')", name="trigger"),
        CheckConstraint("(burst_count IS NULL) = (burst_minutes IS NULL)", name="burst_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    priority: Mapped[int] = mapped_column(Integer, unique=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    source: Mapped[str | None] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(16), default="verified")
    points: Mapped[int] = mapped_column(Integer)
    first_k: Mapped[int | None] = mapped_column(Integer)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    # Abuse check: a report is flagged when its reporter sent at least `burst_count` reports within
    # the `burst_minutes` before it (both None: no check).
    burst_count: Mapped[int | None] = mapped_column(Integer)
    burst_minutes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RewardEntry(Base):
    """One line of the reward ledger. Append-only: database triggers refuse UPDATE and DELETE.

    A reporter is an account (`user_id`), a phone (`phone_hash`, an HMAC of the normalised number), or
    both. Earned and revoked lines name their case; the unique constraints are the abuse check that one
    account or one phone earns (and loses) at most once per case. Redeemed lines carry a reference.
    """

    __tablename__ = "reward_entry"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(LEDGER_KINDS)}", name="kind"),
        CheckConstraint("user_id IS NOT NULL OR phone_hash IS NOT NULL", name="has_reporter"),
        CheckConstraint("(kind = 'redeemed') = (case_id IS NULL)", name="case_unless_redeemed"),
        CheckConstraint("(kind = 'redeemed') = (reference IS NOT NULL)", name="reference_iff_redeemed"),
        CheckConstraint("(kind = 'earned') = (points > 0)", name="sign"),
        UniqueConstraint("kind", "case_id", "user_id"),
        UniqueConstraint("kind", "case_id", "phone_hash"),
        Index("ix_reward_entry_user_at", "user_id", "at"),
        Index("ix_reward_entry_phone_at", "phone_hash", "at"),
        Index("ix_reward_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer)
    case_number: Mapped[str | None] = mapped_column(String(20))
    report_id: Mapped[int | None] = mapped_column(Integer)
    district_code: Mapped[str | None] = mapped_column(String(32))
    category_code: Mapped[str | None] = mapped_column(String(16))
    rule_name: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(100))
    flag: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# -- compounds and renovation filings ------------------------------------------------------------------


class Compound(Base):
    """A residential compound (小区): a polygon or a point (GeoJSON, WGS-84) with an address, located
    in a district and a town when it was registered."""

    __tablename__ = "compound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    lon: Mapped[float] = mapped_column(Float)  # a representative point (inside a polygon)
    lat: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(32), index=True)
    town_code: Mapped[str | None] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    managers: Mapped[list[CompoundManager]] = relationship(back_populates="compound")


class CompoundManager(Base):
    """A property manager (物业, role `property_manager`) of a compound."""

    __tablename__ = "compound_manager"
    __table_args__ = (UniqueConstraint("compound_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)

    compound: Mapped[Compound] = relationship(back_populates="managers")


class RenovationFiling(Base):
    """A renovation filing (装修申报) for one flat of a compound."""

    __tablename__ = "renovation_filing"
    __table_args__ = (
        CheckConstraint(f"state IN {_sql_list(FILING_STATES)}", name="state"),
        CheckConstraint("planned_end >= planned_start", name="planned_dates"),
        Index("ix_renovation_filing_compound_state", "compound_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    building: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20))
    owner_name: Mapped[str] = mapped_column(String(100))
    owner_phone: Mapped[str] = mapped_column(String(32))
    contractor_name: Mapped[str] = mapped_column(String(200))
    contractor_qualification: Mapped[str] = mapped_column(String(200))
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    waste_hauler: Mapped[str] = mapped_column(String(200))
    waste_schedule: Mapped[str] = mapped_column(String(200))
    waste_destination: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    return_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    compound: Mapped[Compound] = relationship(lazy="joined")
    events: Mapped[list[FilingEvent]] = relationship(order_by="FilingEvent.id")
    inspections: Mapped[list[Inspection]] = relationship(order_by="Inspection.id")


class FilingEvent(Base):
    """One entry of a filing's trail (who, when, from, to, why). Only ever inserted."""

    __tablename__ = "renovation_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("renovation_filing.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Inspection(Base):
    """A property inspection (物业巡查), a 城管 spot check (抽查) or the completion inspection of a
    filing, with its result; a failed one names the case it opened."""

    __tablename__ = "renovation_inspection"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(INSPECTION_KINDS)}", name="kind"),
        CheckConstraint(f"result IN {_sql_list(INSPECTION_RESULTS)}", name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("renovation_filing.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str] = mapped_column(Text, default="")
    violation_category: Mapped[str | None] = mapped_column(String(16))
    case_number: Mapped[str | None] = mapped_column(String(20))
    inspected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    inspector: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
