"""Border zones (交界地带) per boundary generation and per-pair width settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:40:37.273045
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "border_zone_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_a", sa.String(length=32), nullable=False),
        sa.Column("code_b", sa.String(length=32), nullable=False),
        sa.Column("width_m", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("code_a < code_b", name=op.f("ck_border_zone_setting_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_zone_setting")),
        sa.UniqueConstraint("code_a", "code_b", name=op.f("uq_border_zone_setting_code_a_code_b")),
    )
    op.create_geospatial_table(
        "border_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("code_a", sa.String(length=32), nullable=False),
        sa.Column("code_b", sa.String(length=32), nullable=False),
        sa.Column("width_m", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["boundary_generation.id"],
            name=op.f("fk_border_zone_generation_id_boundary_generation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_zone")),
    )
    with op.batch_alter_table("border_zone", schema=None) as batch_op:
        batch_op.create_index("ix_border_zone_current", ["superseded_at", "generation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("border_zone", schema=None) as batch_op:
        batch_op.drop_index("ix_border_zone_current")

    op.drop_geospatial_table("border_zone")
    op.drop_table("border_zone_setting")
