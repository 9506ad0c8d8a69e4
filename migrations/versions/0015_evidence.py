"""Evidence files (photos, documents) attached to any subject, and the secret status links of citizens'
reports.

Revision ID: 0015
Revises: 0017
Create Date: 2026-11-30 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'document')", name=op.f("ck_evidence_kind")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user_account.id"], name=op.f("fk_evidence_uploaded_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "status_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_status_link_report_id_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_link")),
        sa.UniqueConstraint("report_id", name=op.f("uq_status_link_report_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_status_link_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("status_link")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_subject")
    op.drop_table("evidence")
