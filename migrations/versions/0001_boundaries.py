"""Boundaries: generations, versioned administrative areas, shared borders.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 21:36:43.082161
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _init_spatial(bind: sa.engine.Connection) -> None:
    # The spatial extension is part of the schema: PostGIS as an extension, SpatiaLite as its metadata
    # tables (spatial_ref_sys, geometry_columns) that AddGeometryColumn needs.
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    elif bind.dialect.name == "sqlite" and not bind.exec_driver_sql("SELECT CheckSpatialMetaData()").scalar():
        bind.exec_driver_sql("SELECT InitSpatialMetaData('WGS84')")


def upgrade() -> None:
    _init_spatial(op.get_bind())
    op.create_table(
        "boundary_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("areas_added", sa.Integer(), nullable=False),
        sa.Column("areas_changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_generation")),
    )
    op.create_geospatial_table(
        "admin_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("retired_generation_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("level IN ('district', 'town', 'custom')", name=op.f("ck_admin_area_level")),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_admin_area_generation_id_boundary_generation"),
        ),
        sa.ForeignKeyConstraint(
            ["retired_generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_admin_area_retired_generation_id_boundary_generation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_area")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_admin_area_code_version")),
    )
    with op.batch_alter_table("admin_area", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_admin_area_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )
        batch_op.create_index(batch_op.f("ix_admin_area_code"), ["code"], unique=False)
        batch_op.create_index("ix_admin_area_current", ["level", "valid_to"], unique=False)

    op.create_geospatial_table(
        "shared_border",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("code_a", sa.String(length=32), nullable=False),
        sa.Column("code_b", sa.String(length=32), nullable=False),
        sa.Column("both_members", sa.Boolean(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_shared_border_generation_id_boundary_generation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_border")),
        sa.UniqueConstraint(
            "generation_id", "code_a", "code_b", name=op.f("uq_shared_border_generation_id_code_a_code_b")
        ),
    )
    with op.batch_alter_table("shared_border", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shared_border_generation_id"), ["generation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shared_border", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_border_generation_id"))

    op.drop_geospatial_table("shared_border")
    with op.batch_alter_table("admin_area", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_area_current")
        batch_op.drop_index(batch_op.f("ix_admin_area_code"))
        batch_op.drop_geospatial_index("idx_admin_area_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("admin_area")
    op.drop_table("boundary_generation")
