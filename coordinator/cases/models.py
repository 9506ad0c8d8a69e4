"""Categories, reports, cases, partners, the append-only case event trail, routing rules, numbering.

A *report* is one observation (a citizen's app, a camera, a grid worker, a 12345 hotline record).
A *case* (案卷) is the thing a squad works: reports of the same category close to an open case join it
(dedup), so one pile of rubbish is one case however many people report it. Every case has an owner
the whole time: a lead squad, or a dispatch unit's queue when no squad can take it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from coordinator.squads.models import Squad

REPORT_SOURCES = (
    "citizen",
    "grid_worker",
    "volunteer",
    "camera",
    "drone",
    "hotline_12345",
    "patrol",
    "joint_patrol",  # found on a joint night patrol (coordinator/rosters/patrols.py)
)
# The lifecycle (issue 6 adds the transitions); statuses a report can join by dedup are "open".
CASE_STATUSES = ("reported", "routed", "claimed", "in_progress", "resolved", "verified", "closed", "void")
OPEN_STATUSES = ("reported", "routed", "claimed", "in_progress")
TIME_UNITS = ("work_hours", "work_days")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Category(Base):
    """An event class (数字城管 事件类别), with its dedup rule and SLA limits. Codes are local data."""

    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint("claim_limit_unit IN ('work_hours', 'work_days')", name="claim_unit"),
        CheckConstraint("resolve_limit_unit IN ('work_hours', 'work_days')", name="resolve_unit"),
    )

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    major_class: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    dedup_radius_m: Mapped[float] = mapped_column(Float, default=100.0)
    dedup_window_h: Mapped[float] = mapped_column(Float, default=72.0)
    claim_limit_value: Mapped[float] = mapped_column(Float)
    claim_limit_unit: Mapped[str] = mapped_column(String(16))
    resolve_limit_value: Mapped[float] = mapped_column(Float)
    resolve_limit_unit: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(Base):
    """首接负责 as data: the first active rule (lowest priority number) whose conditions match decides.

    Conditions (NULL = any): the locator's outcome, whether the point is in a member border zone, the
    category. Actions: `lead` is `jurisdiction` (the squad whose territory holds the point) or
    `dispatcher` (the queue of a dispatch unit); `partner` is `nearest_other_district` or `none`;
    `queue` names whose dispatcher queue (`district` of the point, or `alliance`).
    """

    __tablename__ = "routing_rule"
    __table_args__ = (
        CheckConstraint("lead IN ('jurisdiction', 'dispatcher')", name="lead"),
        CheckConstraint("partner IN ('nearest_other_district', 'none')", name="partner"),
        CheckConstraint("queue IN ('district', 'alliance')", name="queue"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    in_border_zone: Mapped[bool | None] = mapped_column(Boolean)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    lead: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str] = mapped_column(String(32), default="none")
    queue: Mapped[str] = mapped_column(String(16), default="district")
    reason_zh: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseNumberCounter(Base):
    """The last case number handed out per year (case numbers are read over the phone: JJ-2026-000123)."""

    __tablename__ = "case_number_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """A case (案卷): one problem at one place, owned by a lead squad or a dispatcher queue."""

    __tablename__ = "case_file"
    __table_args__ = (
        CheckConstraint(f"status IN {_sql_list(CASE_STATUSES)}", name="status"),
        # Every case always has an owner: a lead squad or a dispatch unit's queue.
        CheckConstraint("lead_squad_id IS NOT NULL OR queue_unit_id IS NOT NULL", name="has_owner"),
        # Dedup looks up open cases of one category in a narrow latitude band (B-tree range scan).
        Index("ix_case_dedup", "category_code", "lat", "lon"),
        Index("ix_case_status_created", "status", "created_at"),
        Index("ix_case_lead_status", "lead_squad_id", "status"),
        # The SLA sweep scans open cases by deadline.
        Index("ix_case_status_claim_by", "status", "claim_by"),
        Index("ix_case_status_resolve_by", "status", "resolve_by"),
        # The committee's review takes the cases opened in a period (coordinator/review).
        Index("ix_case_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="routed")
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False))
    district_code: Mapped[str | None] = mapped_column(String(32), index=True)
    town_code: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    in_border_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    border_pair_a: Mapped[str | None] = mapped_column(String(32))
    border_pair_b: Mapped[str | None] = mapped_column(String(32))
    lead_squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"))
    queue_unit_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_unit.id"), index=True)
    # The routing decision and the inputs it was made from (locator answer, matched rule, candidates).
    routing: Mapped[dict[str, Any]] = mapped_column(JSON)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claim_by: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolve_by: Mapped[datetime | None] = mapped_column(UtcDateTime())
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_report_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # SLA escalation (issue 6), set once by the sweep with a conditional UPDATE: `escalated_at` when the
    # case was still unclaimed at `claim_by` (then it sits in `escalated_to_unit_id`'s queue),
    # `overdue_at` when it was still unresolved at `resolve_by`.
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_unit.id"), index=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Resolution evidence: a note and photo URLs, or a dispatcher's explicit waiver.
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolution_photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence_waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Working hours on the SLA clock (coordinator.worktime) from creation to the latest claim and to
    # the latest close, stamped by the workflow when it happens, so the review aggregates them in SQL.
    claim_work_h: Mapped[float | None] = mapped_column(Float)
    close_work_h: Mapped[float | None] = mapped_column(Float)

    reports: Mapped[list[Report]] = relationship(back_populates="case", order_by="Report.id")
    partners: Mapped[list[CasePartner]] = relationship(back_populates="case", order_by="CasePartner.id")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")


class CasePartner(Base):
    """A squad of the other district on a border-zone case: sees it, is notified, can join."""

    __tablename__ = "case_partner"
    # The unique index also serves lookups by case (its leading column): no separate case_id index.
    __table_args__ = (UniqueConstraint("case_id", "squad_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    squad_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="partners")


class Report(Base):
    """One incoming report. Personal data (reporter name/phone) is minimal and shown per policy."""

    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(f"source IN {_sql_list(REPORT_SOURCES)}", name="source"),
        # Retries are safe: one report per (submitter, Idempotency-Key) and per (source, external id).
        UniqueConstraint("submitted_by_id", "idempotency_key"),
        UniqueConstraint("source", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    input_lon: Mapped[float] = mapped_column(Float)
    input_lat: Mapped[float] = mapped_column(Float)
    input_crs: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False, nullable=False)
    )
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    # Indexed for the rewards' abuse checks (one phone earns once per case; bursts from one phone).
    reporter_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    merged: Mapped[bool] = mapped_column(Boolean, default=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # Feedback to the reporter (coordinator/community/feedback.py): the channel the reporter chose
    # (sms, suishenban, app) and whether they consented to be told; the flat a report is about
    # ({"building", "unit", "room"}: group renting, illegal renovation) links it to renovation filings.
    notify_channel: Mapped[str | None] = mapped_column(String(16))
    notify_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flat: Mapped[dict[str, str] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="reports")


class CaseEvent(Base):
    """One entry of a case's audit trail. Rows are only ever inserted (never updated or deleted)."""

    __tablename__ = "case_event"
    # Which cases had an event of a kind (the review's reopened cases) without reading every trail.
    __table_args__ = (Index("ix_case_event_kind_case", "kind", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The request (X-Request-ID) or scheduler job run that wrote the event: the same id as in the logs.
    request_id: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="events")


TRANSFER_STATES = ("pending", "accepted", "declined")


class CaseTransfer(Base):
    """A request to hand a case to another squad (退单/移交). The case keeps its owner until the
    receiving squad accepts; at most one request per case is pending (a partial unique index)."""

    __tablename__ = "case_transfer"
    __table_args__ = (
        CheckConstraint(f"state IN {_sql_list(TRANSFER_STATES)}", name="state"),
        Index(
            "uq_case_transfer_pending",
            "case_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    from_squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"))
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_unit.id"))
    to_squad_id: Mapped[int] = mapped_column(ForeignKey("squad.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    # The receiving squad: its district's dispatcher may decide the transfer for it (permissions).
    to_squad: Mapped[Squad] = relationship(foreign_keys=[to_squad_id])


class CaseEventPurge(Base):
    """Marker that lets one transaction delete case events (retention, test cleanup), and nothing else.

    Triggers on `case_event` refuse every UPDATE, and every DELETE unless the deleting transaction has
    a row here; `retention.purge_cases` inserts and removes the marker within its own transaction, so
    no other connection ever sees it. Deleting history therefore takes a deliberate, named call.
    """

    __tablename__ = "case_event_purge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
