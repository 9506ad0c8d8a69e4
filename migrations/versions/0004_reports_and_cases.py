"""Reports and cases: categories, routing rules, case numbers, cases, partners, reports, events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:58:48.466114
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_number_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_number_counter")),
    )
    op.create_table(
        "category",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("major_class", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("dedup_radius_m", sa.Float(), nullable=False),
        sa.Column("dedup_window_h", sa.Float(), nullable=False),
        sa.Column("claim_limit_value", sa.Float(), nullable=False),
        sa.Column("claim_limit_unit", sa.String(length=16), nullable=False),
        sa.Column("resolve_limit_value", sa.Float(), nullable=False),
        sa.Column("resolve_limit_unit", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "claim_limit_unit IN ('work_hours', 'work_days')", name=op.f("ck_category_claim_unit")
        ),
        sa.CheckConstraint(
            "resolve_limit_unit IN ('work_hours', 'work_days')", name=op.f("ck_category_resolve_unit")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category")),
    )
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("in_border_zone", sa.Boolean(), nullable=True),
        sa.Column("category_code", sa.String(length=16), nullable=True),
        sa.Column("lead", sa.String(length=16), nullable=False),
        sa.Column("partner", sa.String(length=32), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("reason_zh", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("lead IN ('jurisdiction', 'dispatcher')", name=op.f("ck_routing_rule_lead")),
        sa.CheckConstraint(
            "partner IN ('nearest_other_district', 'none')", name=op.f("ck_routing_rule_partner")
        ),
        sa.CheckConstraint("queue IN ('district', 'alliance')", name=op.f("ck_routing_rule_queue")),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_routing_rule_category_code_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_routing_rule_name")),
        sa.UniqueConstraint("priority", name=op.f("uq_routing_rule_priority")),
    )
    op.create_geospatial_table(
        "case_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("town_code", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("in_border_zone", sa.Boolean(), nullable=False),
        sa.Column("border_pair_a", sa.String(length=32), nullable=True),
        sa.Column("border_pair_b", sa.String(length=32), nullable=True),
        sa.Column("lead_squad_id", sa.Integer(), nullable=True),
        sa.Column("queue_unit_id", sa.Integer(), nullable=True),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_report_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "status IN ('reported', 'routed', 'claimed', 'in_progress', "
            "'resolved', 'verified', 'closed', 'void')",
            name=op.f("ck_case_file_status"),
        ),
        sa.CheckConstraint(
            "lead_squad_id IS NOT NULL OR queue_unit_id IS NOT NULL", name=op.f("ck_case_file_has_owner")
        ),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_case_file_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"], ["user_account.id"], name=op.f("fk_case_file_claimed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["lead_squad_id"], ["squad.id"], name=op.f("fk_case_file_lead_squad_id_squad")
        ),
        sa.ForeignKeyConstraint(
            ["queue_unit_id"], ["dispatch_unit.id"], name=op.f("fk_case_file_queue_unit_id_dispatch_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file")),
        sa.UniqueConstraint("number", name=op.f("uq_case_file_number")),
    )
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_case_file_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )
        batch_op.create_index("ix_case_dedup", ["category_code", "lat", "lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_file_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_file_queue_unit_id"), ["queue_unit_id"], unique=False)
        batch_op.create_index("ix_case_lead_status", ["lead_squad_id", "status"], unique=False)
        batch_op.create_index("ix_case_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_case_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_event_case_id_case_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_case_partner_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(["squad_id"], ["squad.id"], name=op.f("fk_case_partner_squad_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_partner")),
        sa.UniqueConstraint("case_id", "squad_id", name=op.f("uq_case_partner_case_id_squad_id")),
    )
    with op.batch_alter_table("case_partner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_partner_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_partner_squad_id"), ["squad_id"], unique=False)

    op.create_geospatial_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_lon", sa.Float(), nullable=False),
        sa.Column("input_lat", sa.Float(), nullable=False),
        sa.Column("input_crs", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "source IN ('citizen', 'grid_worker', 'volunteer', 'camera', 'drone', 'hotline_12345', 'patrol')",
            name=op.f("ck_report_source"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_report_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_report_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["user_account.id"], name=op.f("fk_report_submitted_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_report_source_external_id")),
        sa.UniqueConstraint(
            "submitted_by_id", "idempotency_key", name=op.f("uq_report_submitted_by_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_case_id"))

    op.drop_geospatial_table("report")
    with op.batch_alter_table("case_partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_partner_squad_id"))
        batch_op.drop_index(batch_op.f("ix_case_partner_case_id"))

    op.drop_table("case_partner")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_case_id"))

    op.drop_table("case_event")
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_index("ix_case_status_created")
        batch_op.drop_index("ix_case_lead_status")
        batch_op.drop_index(batch_op.f("ix_case_file_queue_unit_id"))
        batch_op.drop_index(batch_op.f("ix_case_file_district_code"))
        batch_op.drop_index("ix_case_dedup")
        batch_op.drop_geospatial_index("idx_case_file_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("case_file")
    op.drop_table("routing_rule")
    op.drop_table("category")
    op.drop_table("case_number_counter")
