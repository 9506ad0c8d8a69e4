"""Case lifecycle: transfers, SLA escalation columns, append-only case events, calendar overrides,
outbox and webhooks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:06:36.561153
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "case_event is append-only"

# New case_file columns. They are added with plain ALTER TABLE … ADD COLUMN on both backends: a batch
# (copy-and-rename) rebuild of case_file on SQLite would drop SpatiaLite's registration of its geometry
# column and spatial index.
CASE_COLUMNS: list[tuple[str, str, str | None]] = [
    # name, SQL type, referenced table
    ("escalated_at", "TIMESTAMP", None),
    ("escalated_to_unit_id", "INTEGER", "dispatch_unit"),
    ("overdue_at", "TIMESTAMP", None),
    ("resolution_note", "TEXT", None),
    ("resolution_photos", "JSON", None),
    ("evidence_waived_by_id", "INTEGER", "user_account"),
    ("resolved_at", "TIMESTAMP", None),
    ("closed_at", "TIMESTAMP", None),
]


def _add_case_columns(dialect: str) -> None:
    for name, sql_type, ref in CASE_COLUMNS:
        if dialect == "postgresql":
            pg_type = {"TIMESTAMP": "TIMESTAMP WITH TIME ZONE"}.get(sql_type, sql_type)
            default = " NOT NULL DEFAULT '[]'" if name == "resolution_photos" else ""
            op.execute(f"ALTER TABLE case_file ADD COLUMN {name} {pg_type}{default}")
            if ref is not None:
                op.create_foreign_key(op.f(f"fk_case_file_{name}_{ref}"), "case_file", ref, [name], ["id"])
        else:
            sql_type = {"TIMESTAMP": "DATETIME"}.get(sql_type, sql_type)  # what SQLAlchemy reflects
            default = " NOT NULL DEFAULT '[]'" if name == "resolution_photos" else ""
            references = f" CONSTRAINT fk_case_file_{name}_{ref} REFERENCES {ref} (id)" if ref else ""
            op.execute(f"ALTER TABLE case_file ADD COLUMN {name} {sql_type}{default}{references}")
    op.create_index(op.f("ix_case_file_escalated_to_unit_id"), "case_file", ["escalated_to_unit_id"])
    op.create_index("ix_case_status_claim_by", "case_file", ["status", "claim_by"])
    op.create_index("ix_case_status_resolve_by", "case_file", ["status", "resolve_by"])


def _append_only_triggers(dialect: str) -> None:
    # The case trail is evidence: no UPDATE ever, and DELETE only inside a transaction that declared a
    # purge (a row in case_event_purge, inserted and removed by the same transaction).
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM case_event_purge) THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'case_event is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON case_event "
            "FOR EACH ROW EXECUTE FUNCTION case_event_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER case_event_no_update BEFORE UPDATE ON case_event "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
        op.execute(
            "CREATE TRIGGER case_event_no_delete BEFORE DELETE ON case_event "
            "WHEN NOT EXISTS (SELECT 1 FROM case_event_purge) "
            "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )
    op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_calendar_override_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_override")),
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("event_kinds", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
        sa.UniqueConstraint("name", name=op.f("uq_webhook_subscription_name")),
    )
    op.create_table(
        "case_event_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event_purge")),
    )
    op.create_table(
        "case_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_squad_id", sa.Integer(), nullable=True),
        sa.Column("from_unit_id", sa.Integer(), nullable=True),
        sa.Column("to_squad_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'declined')", name=op.f("ck_case_transfer_state")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_case_transfer_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name=op.f("fk_case_transfer_decided_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["from_squad_id"], ["squad.id"], name=op.f("fk_case_transfer_from_squad_id_squad")
        ),
        sa.ForeignKeyConstraint(
            ["from_unit_id"], ["dispatch_unit.id"], name=op.f("fk_case_transfer_from_unit_id_dispatch_unit")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_case_transfer_requested_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["to_squad_id"], ["squad.id"], name=op.f("fk_case_transfer_to_squad_id_squad")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfer")),
    )
    op.create_index(op.f("ix_case_transfer_case_id"), "case_transfer", ["case_id"])
    # At most one pending transfer per case, enforced by the database.
    op.create_index(
        "uq_case_transfer_pending",
        "case_transfer",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_outbox_message_case_id_case_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_index(op.f("ix_outbox_message_case_id"), "outbox_message", ["case_id"])
    op.create_index("ix_outbox_message_undispatched", "outbox_message", ["dispatched_at", "id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_delivery_state")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_message.id"], name=op.f("fk_webhook_delivery_message_id_outbox_message")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_webhook_delivery_message_id"), "webhook_delivery", ["message_id"])
    op.create_index(op.f("ix_webhook_delivery_subscription_id"), "webhook_delivery", ["subscription_id"])
    _add_case_columns(dialect)
    _append_only_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_append_only ON case_event")
        op.execute("DROP FUNCTION IF EXISTS case_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_delete")
    op.drop_index("ix_case_status_resolve_by", table_name="case_file")
    op.drop_index("ix_case_status_claim_by", table_name="case_file")
    op.drop_index(op.f("ix_case_file_escalated_to_unit_id"), table_name="case_file")
    for name, _type, ref in reversed(CASE_COLUMNS):
        if ref is not None and dialect == "postgresql":
            op.drop_constraint(op.f(f"fk_case_file_{name}_{ref}"), "case_file", type_="foreignkey")
        # SQLite ≥ 3.35 drops a column natively unless an index or constraint names it; the FK columns
        # carry an inline REFERENCES clause, which SQLite accepts dropping with the column.
        op.execute(f"ALTER TABLE case_file DROP COLUMN {name}")
    op.drop_table("webhook_delivery")
    op.drop_table("outbox_message")
    op.drop_index("uq_case_transfer_pending", table_name="case_transfer")
    op.drop_table("case_transfer")
    op.drop_table("case_event_purge")
    op.drop_table("webhook_subscription")
    op.drop_table("calendar_override")
    op.drop_table("calendar_year")
