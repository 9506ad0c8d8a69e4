"""Squads, dispatch units, users, API tokens and the append-only contact-read audit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:45:18.480674
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "contact_access_log is append-only"


def _append_only_triggers(bind: sa.engine.Connection) -> None:
    # The audit of personal-data reads must not be edited: refuse UPDATE and DELETE in the database
    # itself, so no code path (nor a hand-written SQL session) can rewrite history.
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION contact_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER contact_access_log_append_only BEFORE UPDATE OR DELETE ON contact_access_log "
            "FOR EACH ROW EXECUTE FUNCTION contact_access_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER contact_access_log_no_{event.lower()} BEFORE {event} ON contact_access_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def upgrade() -> None:
    op.create_table(
        "dispatch_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("contact_channel", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(level = 'alliance') = (district_code IS NULL)",
            name=op.f("ck_dispatch_unit_district_scope"),
        ),
        sa.CheckConstraint("level IN ('district', 'alliance')", name=op.f("ck_dispatch_unit_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_dispatch_unit_code")),
    )
    op.create_table(
        "squad",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("dispatch_unit_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("night_capacity", sa.Integer(), nullable=False),
        sa.Column("contact_channel", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("night_capacity BETWEEN 0 AND 7", name=op.f("ck_squad_night_capacity")),
        sa.ForeignKeyConstraint(
            ["dispatch_unit_id"], ["dispatch_unit.id"], name=op.f("fk_squad_dispatch_unit_id_dispatch_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_squad")),
        sa.UniqueConstraint("code", name=op.f("uq_squad_code")),
    )
    with op.batch_alter_table("squad", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_squad_dispatch_unit_id"), ["dispatch_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_squad_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_squad_jurisdiction_code"), ["jurisdiction_code"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role IN ('squad_leader', 'squad_member')) = (squad_id IS NOT NULL)",
            name=op.f("ck_user_account_squad_role_has_squad"),
        ),
        sa.CheckConstraint(
            "district_code IS NULL OR role = 'dispatcher'",
            name=op.f("ck_user_account_district_only_dispatcher"),
        ),
        sa.CheckConstraint(
            "role IN ('squad_leader', 'squad_member', 'dispatcher', 'committee', 'admin', 'reporter')",
            name=op.f("ck_user_account_role"),
        ),
        sa.ForeignKeyConstraint(["squad_id"], ["squad.id"], name=op.f("fk_user_account_squad_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_squad_id"), ["squad_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_prefix"), ["prefix"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contact_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_contact_access_log_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_access_log")),
    )
    with op.batch_alter_table("contact_access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_access_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_contact_access_log_subject", ["subject_type", "subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_access_log_user_id"), ["user_id"], unique=False)
    _append_only_triggers(op.get_bind())


def downgrade() -> None:
    # Dropping the table drops its triggers on both backends; PostgreSQL keeps the function.
    with op.batch_alter_table("contact_access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_access_log_user_id"))
        batch_op.drop_index("ix_contact_access_log_subject")
        batch_op.drop_index(batch_op.f("ix_contact_access_log_at"))

    op.drop_table("contact_access_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS contact_access_log_append_only()")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_token_prefix"))

    op.drop_table("api_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_squad_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("squad", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_squad_jurisdiction_code"))
        batch_op.drop_index(batch_op.f("ix_squad_district_code"))
        batch_op.drop_index(batch_op.f("ix_squad_dispatch_unit_id"))

    op.drop_table("squad")
    op.drop_table("dispatch_unit")
