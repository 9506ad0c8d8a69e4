"""Joint night rosters: hotspots, rosters and shifts, squad availability and night preferences,
calendar feed tokens, patrol logs and their findings; reports may come from `joint_patrol`.

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30 12:36:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_SOURCES = "'citizen', 'grid_worker', 'volunteer', 'camera', 'drone', 'hotline_12345', 'patrol'"
NEW_SOURCES = OLD_SOURCES + ", 'joint_patrol'"


def _report_sources(old: str, new: str) -> None:
    """Replace the IN list of report.source's CHECK constraint.

    PostgreSQL drops and re-adds the constraint. SQLite cannot alter a CHECK, and rebuilding `report`
    (batch mode) would lose SpatiaLite's registration of its geometry column, so the stored table SQL
    is edited in place — the procedure SQLite documents for schema changes that leave stored rows
    valid (sqlite.org/lang_altertable.html#otheralter): widening the list on upgrade; narrowing it on
    downgrade after checking no row uses the removed value.
    """
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_report_source"), "report", type_="check")
        op.create_check_constraint(op.f("ck_report_source"), "report", f"source IN ({new})")
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'report'",
        (f"source IN ({old})", f"source IN ({new})"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    changed = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'report'").scalar_one()
    if f"source IN ({new})" not in changed:
        raise RuntimeError("could not update the CHECK constraint of report.source")


def upgrade() -> None:
    _report_sources(OLD_SOURCES, NEW_SOURCES)
    op.create_table(
        "squad_night_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("preference", sa.Integer(), nullable=False),
        sa.CheckConstraint("preference BETWEEN -2 AND 2", name=op.f("ck_squad_night_preference_preference")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_squad_night_preference_weekday")),
        sa.ForeignKeyConstraint(
            ["squad_id"], ["squad.id"], name=op.f("fk_squad_night_preference_squad_id_squad")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_squad_night_preference")),
        sa.UniqueConstraint("squad_id", "weekday", name=op.f("uq_squad_night_preference_squad_id_weekday")),
    )
    with op.batch_alter_table("squad_night_preference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_squad_night_preference_squad_id"), ["squad_id"], unique=False)

    op.create_table(
        "squad_feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_squad_feed_token_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["squad_id"], ["squad.id"], name=op.f("fk_squad_feed_token_squad_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_squad_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_squad_feed_token_token_hash")),
    )
    with op.batch_alter_table("squad_feed_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_squad_feed_token_squad_id"), ["squad_id"], unique=False)

    op.create_table(
        "hotspot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("district_a", sa.String(length=32), nullable=False),
        sa.Column("district_b", sa.String(length=32), nullable=False),
        sa.Column("min_patrols_per_week", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('ditch', 'dead_end_road', 'vacant_lot', 'other')", name=op.f("ck_hotspot_kind")
        ),
        sa.CheckConstraint("origin IN ('manual', 'proposal')", name=op.f("ck_hotspot_origin")),
        sa.CheckConstraint("district_a < district_b", name=op.f("ck_hotspot_pair_order")),
        sa.CheckConstraint("min_patrols_per_week BETWEEN 0 AND 7", name=op.f("ck_hotspot_min_patrols")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_hotspot_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot")),
    )
    with op.batch_alter_table("hotspot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_district_a"), ["district_a"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotspot_district_b"), ["district_b"], unique=False)

    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("solver", sa.String(length=16), nullable=False),
        sa.Column("solver_status", sa.String(length=32), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("objective", sa.Integer(), nullable=False),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("solve_time_s", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published')", name=op.f("ck_roster_status")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_roster_period")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_roster_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["user_account.id"], name=op.f("fk_roster_published_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster")),
    )
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_period_start"), ["period_start"], unique=False)

    op.create_table(
        "squad_unavailability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_squad_unavailability_period")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_squad_unavailability_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["squad_id"], ["squad.id"], name=op.f("fk_squad_unavailability_squad_id_squad")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_squad_unavailability")),
    )
    with op.batch_alter_table("squad_unavailability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_squad_unavailability_squad_id"), ["squad_id"], unique=False)

    op.create_table(
        "roster_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("squad_a_id", sa.Integer(), nullable=False),
        sa.Column("squad_b_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('planned', 'cancelled')", name=op.f("ck_roster_shift_status")),
        sa.CheckConstraint("squad_a_id <> squad_b_id", name=op.f("ck_roster_shift_two_squads")),
        sa.ForeignKeyConstraint(
            ["hotspot_id"], ["hotspot.id"], name=op.f("fk_roster_shift_hotspot_id_hotspot")
        ),
        sa.ForeignKeyConstraint(["roster_id"], ["roster.id"], name=op.f("fk_roster_shift_roster_id_roster")),
        sa.ForeignKeyConstraint(["squad_a_id"], ["squad.id"], name=op.f("fk_roster_shift_squad_a_id_squad")),
        sa.ForeignKeyConstraint(["squad_b_id"], ["squad.id"], name=op.f("fk_roster_shift_squad_b_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_shift")),
        sa.UniqueConstraint("uid", name=op.f("uq_roster_shift_uid")),
    )
    with op.batch_alter_table("roster_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_shift_hotspot_id"), ["hotspot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_shift_night"), ["night"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_shift_roster_id"), ["roster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_shift_squad_a_id"), ["squad_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_shift_squad_b_id"), ["squad_b_id"], unique=False)

    op.create_table(
        "patrol_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('found', 'nothing_found')", name=op.f("ck_patrol_log_outcome")),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_patrol_log_period")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_patrol_log_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["roster_shift.id"], name=op.f("fk_patrol_log_shift_id_roster_shift")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_log")),
    )
    with op.batch_alter_table("patrol_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_log_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "patrol_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_log_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('linked', 'opened')", name=op.f("ck_patrol_finding_kind")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_patrol_finding_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["patrol_log_id"], ["patrol_log.id"], name=op.f("fk_patrol_finding_patrol_log_id_patrol_log")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_patrol_finding_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_finding")),
        sa.UniqueConstraint("patrol_log_id", "case_id", name=op.f("uq_patrol_finding_patrol_log_id_case_id")),
    )
    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_finding_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_finding_patrol_log_id"), ["patrol_log_id"], unique=False)


def downgrade() -> None:
    used = op.get_bind().exec_driver_sql("SELECT count(*) FROM report WHERE source = 'joint_patrol'")
    if used.scalar_one():
        raise RuntimeError("reports from joint patrols exist; they cannot be kept by the older schema")
    _report_sources(NEW_SOURCES, OLD_SOURCES)
    with op.batch_alter_table("patrol_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_finding_patrol_log_id"))
        batch_op.drop_index(batch_op.f("ix_patrol_finding_case_id"))

    op.drop_table("patrol_finding")
    with op.batch_alter_table("patrol_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_log_shift_id"))

    op.drop_table("patrol_log")
    with op.batch_alter_table("roster_shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_shift_squad_b_id"))
        batch_op.drop_index(batch_op.f("ix_roster_shift_squad_a_id"))
        batch_op.drop_index(batch_op.f("ix_roster_shift_roster_id"))
        batch_op.drop_index(batch_op.f("ix_roster_shift_night"))
        batch_op.drop_index(batch_op.f("ix_roster_shift_hotspot_id"))

    op.drop_table("roster_shift")
    with op.batch_alter_table("squad_unavailability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_squad_unavailability_squad_id"))

    op.drop_table("squad_unavailability")
    with op.batch_alter_table("roster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_period_start"))

    op.drop_table("roster")
    with op.batch_alter_table("hotspot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_district_b"))
        batch_op.drop_index(batch_op.f("ix_hotspot_district_a"))

    op.drop_table("hotspot")
    with op.batch_alter_table("squad_feed_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_squad_feed_token_squad_id"))

    op.drop_table("squad_feed_token")
    with op.batch_alter_table("squad_night_preference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_squad_night_preference_squad_id"))

    op.drop_table("squad_night_preference")
