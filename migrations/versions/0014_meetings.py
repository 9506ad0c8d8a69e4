"""Liaison meetings and the committee's review: meeting series, meetings, agenda items, decisions,
action items (linked to cases), attendance, calendar feed tokens; case_file.claim_work_h and
close_work_h (working hours on the SLA clock, backfilled for cases claimed or closed before); the
indexes the review relies on (case_file.created_at, case_event (kind, case_id)).

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30 12:12:41
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORK_HOUR_COLUMNS = ("claim_work_h", "close_work_h")
BACKFILL_BATCH = 2000

# The SLA clock as it stood at this revision (coordinator.worktime): 09:00-17:00 Shanghai on working
# days. Written out here rather than imported, so the backfill does what it did when it was written
# whatever the app's calendar code becomes; it shares only the `holidays` package (the published
# holiday data) with the app.
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_START, DAY_END = time(9, 0), time(17, 0)


class _Calendar:
    """Working days: an override if there is one, else a published make-up workday (调休上班), else a
    weekday that is not a public holiday of mainland China."""

    def __init__(self, overrides: Mapping[date, bool]) -> None:
        self.overrides = overrides
        self.years: dict[int, tuple[holidays.HolidayBase, frozenset[date]]] = {}

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year not in self.years:
            public = holidays.country_holidays("CN", years=day.year)
            makeup = frozenset(d for d in getattr(public, "weekend_workdays", ()) if d.year == day.year)
            self.years[day.year] = (public, makeup)
        public, makeup = self.years[day.year]
        if day in makeup:
            return True
        return day not in public and day.weekday() < 5

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        total = timedelta()
        current, end = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
        while current < end:
            day = current.date()
            if self.is_working_day(day):
                lo = max(current, datetime.combine(day, DAY_START, SHANGHAI))
                hi = min(end, datetime.combine(day, DAY_END, SHANGHAI))
                if hi > lo:
                    total += hi - lo
            current = datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI)
        return total.total_seconds() / 3600


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite stores UTC without an offset (coordinator.db.UtcDateTime); PostgreSQL answers aware values.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _hours(calendar: _Calendar, start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    assert start_utc is not None and end_utc is not None
    return round(calendar.working_hours_between(start_utc, end_utc), 4)


def _backfill_work_hours() -> None:
    """Stamp the working hours of cases claimed or closed before this revision, with the calendar
    overrides as they are stored now (the workflow stamps new claims and closes itself)."""
    bind = op.get_bind()
    overrides = bind.execute(sa.text("SELECT day, is_working_day FROM calendar_override")).all()
    calendar = _Calendar({_as_date(day): bool(working) for day, working in overrides})
    cases = sa.table(
        "case_file",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("closed_at", sa.DateTime(timezone=True)),
        sa.column("claim_work_h", sa.Float()),
        sa.column("close_work_h", sa.Float()),
    )
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, cases.c.created_at, cases.c.claimed_at, cases.c.closed_at)
            .where(
                cases.c.id > last_id,
                sa.or_(cases.c.claimed_at.isnot(None), cases.c.closed_at.isnot(None)),
            )
            .order_by(cases.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        updates = [
            {
                "case_id": row.id,
                "claim_h": _hours(calendar, row.created_at, row.claimed_at),
                "close_h": _hours(calendar, row.created_at, row.closed_at),
            }
            for row in rows
        ]
        bind.execute(
            cases.update()
            .where(cases.c.id == sa.bindparam("case_id"))
            .values(claim_work_h=sa.bindparam("claim_h"), close_work_h=sa.bindparam("close_h")),
            updates,
        )
        last_id = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "calendar_feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_calendar_feed_token_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feed_token_created_by_id"), "calendar_feed_token", ["created_by_id"])

    op.create_table(
        "meeting_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("border_pair_a", sa.String(length=32), nullable=True),
        sa.Column("border_pair_b", sa.String(length=32), nullable=True),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("day_of_month", sa.Integer(), nullable=True),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("host_rotation", sa.JSON(), nullable=False),
        sa.Column("agenda_lead_h", sa.Float(), nullable=False),
        sa.Column("reminder_lead_h", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(scope = 'border_pair') = (border_pair_a IS NOT NULL AND border_pair_b IS NOT NULL)",
            name=op.f("ck_meeting_series_pair_scope"),
        ),
        sa.CheckConstraint("frequency IN ('monthly', 'on_demand')", name=op.f("ck_meeting_series_frequency")),
        sa.CheckConstraint("scope IN ('alliance', 'border_pair')", name=op.f("ck_meeting_series_scope")),
        sa.CheckConstraint(
            "day_of_month IS NULL OR day_of_month BETWEEN 1 AND 28",
            name=op.f("ck_meeting_series_day_of_month"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_meeting_series_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_series")),
        sa.UniqueConstraint("code", name=op.f("uq_meeting_series_code")),
    )
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("host_district_code", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancel_reason", sa.String(length=500), nullable=False),
        sa.Column("moved_by_hand", sa.Boolean(), nullable=False),
        sa.Column("ical_sequence", sa.Integer(), nullable=False),
        sa.Column("agenda_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agenda_built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("minutes_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('scheduled', 'held', 'cancelled')", name=op.f("ck_meeting_status")),
        sa.ForeignKeyConstraint(
            ["minutes_updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_meeting_minutes_updated_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["meeting_series.id"], name=op.f("fk_meeting_series_id_meeting_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("series_id", "occurrence", name=op.f("uq_meeting_series_id_occurrence")),
    )
    op.create_index("ix_meeting_starts_at", "meeting", ["starts_at"])
    op.create_index("ix_meeting_status_agenda_due", "meeting", ["status", "agenda_due_at"])
    op.create_index("ix_meeting_status_reminder_due", "meeting", ["status", "reminder_due_at"])

    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("owner_squad_id", sa.Integer(), nullable=True),
        sa.Column("owner_district_code", sa.String(length=32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name=op.f("ck_action_item_status")),
        sa.CheckConstraint(
            "(owner_squad_id IS NULL) <> (owner_district_code IS NULL)", name=op.f("ck_action_item_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_action_item_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_action_item_meeting_id_meeting")
        ),
        sa.ForeignKeyConstraint(
            ["owner_squad_id"], ["squad.id"], name=op.f("fk_action_item_owner_squad_id_squad")
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["meeting_series.id"], name=op.f("fk_action_item_series_id_meeting_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    op.create_index(op.f("ix_action_item_meeting_id"), "action_item", ["meeting_id"])
    op.create_index("ix_action_item_series_status", "action_item", ["series_id", "status"])

    op.create_table(
        "meeting_attendance",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "status IN ('present', 'absent', 'excused')", name=op.f("ck_meeting_attendance_status")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_attendance_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "district_code", name=op.f("pk_meeting_attendance")),
    )
    op.create_table(
        "meeting_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_decision_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_decision")),
    )
    op.create_index(op.f("ix_meeting_decision_meeting_id"), "meeting_decision", ["meeting_id"])

    op.create_table(
        "action_item_case",
        sa.Column("action_item_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_item.id"],
            name=op.f("fk_action_item_case_action_item_id_action_item"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_action_item_case_case_id_case_file")
        ),
        sa.PrimaryKeyConstraint("action_item_id", "case_id", name=op.f("pk_action_item_case")),
    )
    op.create_index(op.f("ix_action_item_case_case_id"), "action_item_case", ["case_id"])

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("action_item_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("source IN ('auto', 'host')", name=op.f("ck_agenda_item_source")),
        sa.ForeignKeyConstraint(
            ["action_item_id"], ["action_item.id"], name=op.f("fk_agenda_item_action_item_id_action_item")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_agenda_item_meeting_id_meeting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    op.create_index(op.f("ix_agenda_item_meeting_id"), "agenda_item", ["meeting_id"])

    op.create_index("ix_case_event_kind_case", "case_event", ["kind", "case_id"])

    # Plain ALTER TABLE … ADD COLUMN on both backends (not a batch): a copy-and-rename rebuild of
    # case_file on SQLite would drop SpatiaLite's registration of its geometry column (see 0005).
    for name in WORK_HOUR_COLUMNS:
        op.add_column("case_file", sa.Column(name, sa.Float(), nullable=True))
    op.create_index("ix_case_created_at", "case_file", ["created_at"])
    _backfill_work_hours()


def downgrade() -> None:
    op.drop_index("ix_case_created_at", table_name="case_file")
    for name in WORK_HOUR_COLUMNS:
        op.execute(f"ALTER TABLE case_file DROP COLUMN {name}")

    op.drop_index("ix_case_event_kind_case", table_name="case_event")

    op.drop_index(op.f("ix_agenda_item_meeting_id"), table_name="agenda_item")

    op.drop_table("agenda_item")
    op.drop_index(op.f("ix_action_item_case_case_id"), table_name="action_item_case")

    op.drop_table("action_item_case")
    op.drop_index(op.f("ix_meeting_decision_meeting_id"), table_name="meeting_decision")

    op.drop_table("meeting_decision")
    op.drop_table("meeting_attendance")
    op.drop_index("ix_action_item_series_status", table_name="action_item")
    op.drop_index(op.f("ix_action_item_meeting_id"), table_name="action_item")

    op.drop_table("action_item")
    op.drop_index("ix_meeting_status_reminder_due", table_name="meeting")
    op.drop_index("ix_meeting_status_agenda_due", table_name="meeting")
    op.drop_index("ix_meeting_starts_at", table_name="meeting")

    op.drop_table("meeting")
    op.drop_table("meeting_series")
    op.drop_index(op.f("ix_calendar_feed_token_created_by_id"), table_name="calendar_feed_token")

    op.drop_table("calendar_feed_token")
