"""Citizens and property managers: reporter feedback (report.notify_channel, notify_consent, flat;
report_feedback for ratings and disputes), reward rules and the append-only reward ledger (triggers
refuse UPDATE and DELETE), compounds with their property managers (role property_manager), renovation
filings with their trail, and inspections.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 15:46:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "'squad_leader', 'squad_member', 'dispatcher', 'committee', 'admin', 'reporter', "
    "'grid_worker', 'volunteer'"
)
NEW_ROLES = OLD_ROLES + ", 'property_manager'"
APPEND_ONLY = "reward_entry is append-only"


def _user_roles(old: str, new: str) -> None:
    """Replace the IN list of user_account.role's CHECK constraint (as 0011 does for report.source:
    PostgreSQL re-creates the constraint; SQLite's stored table SQL is edited in place, the documented
    procedure for changes that leave stored rows valid — narrowing only after checking no row uses
    the removed value)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_user_account_role"), "user_account", type_="check")
        op.create_check_constraint(op.f("ck_user_account_role"), "user_account", f"role IN ({new})")
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'user_account'",
        (f"role IN ({old})", f"role IN ({new})"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    changed = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'user_account'").scalar_one()
    if f"role IN ({new})" not in changed:
        raise RuntimeError("could not update the CHECK constraint of user_account.role")


def _append_only_triggers(bind: sa.engine.Connection) -> None:
    # The reward ledger is money-like: refuse UPDATE and DELETE in the database itself, so no code
    # path (nor a hand-written SQL session) rewrites a reporter's history. Corrections are new lines.
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reward_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER reward_entry_append_only BEFORE UPDATE OR DELETE ON reward_entry "
            "FOR EACH ROW EXECUTE FUNCTION reward_entry_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER reward_entry_no_{event.lower()} BEFORE {event} ON reward_entry "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def upgrade() -> None:
    _user_roles(OLD_ROLES, NEW_ROLES)
    op.create_table(
        "compound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("town_code", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound")),
    )
    with op.batch_alter_table("compound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compound_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_compound_town_code"), ["town_code"], unique=False)

    op.create_table(
        "reward_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("first_k", sa.Integer(), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("burst_count", sa.Integer(), nullable=True),
        sa.Column("burst_minutes", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("trigger IN ('verified')", name=op.f("ck_reward_rule_trigger")),
        sa.CheckConstraint(
            "(burst_count IS NULL) = (burst_minutes IS NULL)", name=op.f("ck_reward_rule_burst_pair")
        ),
        sa.CheckConstraint(
            "daily_cap IS NULL OR daily_cap > 0", name=op.f("ck_reward_rule_daily_cap_positive")
        ),
        sa.CheckConstraint("first_k IS NULL OR first_k > 0", name=op.f("ck_reward_rule_first_k_positive")),
        sa.CheckConstraint("points > 0", name=op.f("ck_reward_rule_points_positive")),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_reward_rule_category_code_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_reward_rule_name")),
        sa.UniqueConstraint("priority", name=op.f("uq_reward_rule_priority")),
    )
    op.create_table(
        "compound_manager",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compound.id"], name=op.f("fk_compound_manager_compound_id_compound")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_compound_manager_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound_manager")),
        sa.UniqueConstraint("compound_id", "user_id", name=op.f("uq_compound_manager_compound_id_user_id")),
    )
    with op.batch_alter_table("compound_manager", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compound_manager_user_id"), ["user_id"], unique=False)

    op.create_table(
        "renovation_filing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("room", sa.String(length=20), nullable=False),
        sa.Column("owner_name", sa.String(length=100), nullable=False),
        sa.Column("owner_phone", sa.String(length=32), nullable=False),
        sa.Column("contractor_name", sa.String(length=200), nullable=False),
        sa.Column("contractor_qualification", sa.String(length=200), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("waste_hauler", sa.String(length=200), nullable=False),
        sa.Column("waste_schedule", sa.String(length=200), nullable=False),
        sa.Column("waste_destination", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("return_reasons", sa.JSON(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('submitted', 'returned', 'resubmitted', 'accepted', 'in_works', 'inspected', "
            "'closed')",
            name=op.f("ck_renovation_filing_state"),
        ),
        sa.CheckConstraint("planned_end >= planned_start", name=op.f("ck_renovation_filing_planned_dates")),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compound.id"], name=op.f("fk_renovation_filing_compound_id_compound")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["user_account.id"], name=op.f("fk_renovation_filing_filed_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_filing")),
        sa.UniqueConstraint("number", name=op.f("uq_renovation_filing_number")),
    )
    with op.batch_alter_table("renovation_filing", schema=None) as batch_op:
        batch_op.create_index("ix_renovation_filing_compound_state", ["compound_id", "state"], unique=False)

    op.create_table(
        "reward_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=20), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("category_code", sa.String(length=16), nullable=True),
        sa.Column("rule_name", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("flag", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(kind = 'earned') = (points > 0)", name=op.f("ck_reward_entry_sign")),
        sa.CheckConstraint(
            "(kind = 'redeemed') = (case_id IS NULL)", name=op.f("ck_reward_entry_case_unless_redeemed")
        ),
        sa.CheckConstraint(
            "(kind = 'redeemed') = (reference IS NOT NULL)",
            name=op.f("ck_reward_entry_reference_iff_redeemed"),
        ),
        sa.CheckConstraint("kind IN ('earned', 'revoked', 'redeemed')", name=op.f("ck_reward_entry_kind")),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR phone_hash IS NOT NULL", name=op.f("ck_reward_entry_has_reporter")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_reward_entry_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_entry")),
        sa.UniqueConstraint(
            "kind", "case_id", "phone_hash", name=op.f("uq_reward_entry_kind_case_id_phone_hash")
        ),
        sa.UniqueConstraint("kind", "case_id", "user_id", name=op.f("uq_reward_entry_kind_case_id_user_id")),
    )
    with op.batch_alter_table("reward_entry", schema=None) as batch_op:
        batch_op.create_index("ix_reward_entry_at", ["at"], unique=False)
        batch_op.create_index("ix_reward_entry_phone_at", ["phone_hash", "at"], unique=False)
        batch_op.create_index("ix_reward_entry_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "renovation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_renovation_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["renovation_filing.id"],
            name=op.f("fk_renovation_event_filing_id_renovation_filing"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_event")),
    )
    with op.batch_alter_table("renovation_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_renovation_event_filing_id"), ["filing_id"], unique=False)

    op.create_table(
        "renovation_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("violation_category", sa.String(length=16), nullable=True),
        sa.Column("case_number", sa.String(length=20), nullable=True),
        sa.Column("inspected_by_id", sa.Integer(), nullable=True),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('property_patrol', 'spot_check', 'completion')",
            name=op.f("ck_renovation_inspection_kind"),
        ),
        sa.CheckConstraint("result IN ('pass', 'fail')", name=op.f("ck_renovation_inspection_result")),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["renovation_filing.id"],
            name=op.f("fk_renovation_inspection_filing_id_renovation_filing"),
        ),
        sa.ForeignKeyConstraint(
            ["inspected_by_id"],
            ["user_account.id"],
            name=op.f("fk_renovation_inspection_inspected_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovation_inspection")),
    )
    with op.batch_alter_table("renovation_inspection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_renovation_inspection_filing_id"), ["filing_id"], unique=False)

    op.create_table(
        "report_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'rating') = (stars IS NOT NULL)", name=op.f("ck_report_feedback_rating_has_stars")
        ),
        sa.CheckConstraint("kind IN ('rating', 'dispute')", name=op.f("ck_report_feedback_kind")),
        sa.CheckConstraint(
            "stars IS NULL OR stars BETWEEN 1 AND 5", name=op.f("ck_report_feedback_stars_range")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_report_feedback_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_feedback_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_feedback")),
        sa.UniqueConstraint("report_id", "kind", name=op.f("uq_report_feedback_report_id_kind")),
    )
    with op.batch_alter_table("report_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_feedback_case_id"), ["case_id"], unique=False)

    # Plain ALTER TABLE (not batch mode): rebuilding `report` would lose SpatiaLite's registration of
    # its geometry column.
    op.add_column("report", sa.Column("notify_channel", sa.String(length=16), nullable=True))
    op.add_column(
        "report", sa.Column("notify_consent", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("report", sa.Column("flat", sa.JSON(), nullable=True))
    op.create_index(op.f("ix_report_reporter_phone"), "report", ["reporter_phone"], unique=False)

    _append_only_triggers(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT COUNT(*) FROM user_account WHERE role = 'property_manager'")):
        raise RuntimeError("property_manager accounts exist: remove them before downgrading below 0021")
    _user_roles(NEW_ROLES, OLD_ROLES)
    op.drop_index(op.f("ix_report_reporter_phone"), table_name="report")
    # Not batch mode: rebuilding `report` would lose SpatiaLite's registration of its geometry column.
    for name in ("flat", "notify_consent", "notify_channel"):
        op.execute(f"ALTER TABLE report DROP COLUMN {name}")

    with op.batch_alter_table("report_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_feedback_case_id"))

    op.drop_table("report_feedback")
    with op.batch_alter_table("renovation_inspection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renovation_inspection_filing_id"))

    op.drop_table("renovation_inspection")
    with op.batch_alter_table("renovation_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renovation_event_filing_id"))

    op.drop_table("renovation_event")
    with op.batch_alter_table("reward_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_reward_entry_user_at")
        batch_op.drop_index("ix_reward_entry_phone_at")
        batch_op.drop_index("ix_reward_entry_at")

    op.drop_table("reward_entry")
    with op.batch_alter_table("renovation_filing", schema=None) as batch_op:
        batch_op.drop_index("ix_renovation_filing_compound_state")

    op.drop_table("renovation_filing")
    with op.batch_alter_table("compound_manager", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compound_manager_user_id"))

    op.drop_table("compound_manager")
    op.drop_table("reward_rule")
    with op.batch_alter_table("compound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compound_town_code"))
        batch_op.drop_index(batch_op.f("ix_compound_district_code"))

    op.drop_table("compound")
    if bind.dialect.name == "postgresql":  # dropping the table dropped its trigger, not the function
        op.execute("DROP FUNCTION IF EXISTS reward_entry_append_only()")
