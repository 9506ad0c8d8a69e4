"""Drop `ix_case_partner_case_id`: the unique (case_id, squad_id) index already serves lookups by case.

Every new border case wrote the same case id into both indexes; the unique index answers `case_id = ?`
with its leading column on both backends (PostgreSQL's B-tree, SQLite's automatic index of the
UNIQUE constraint).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 05:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_case_partner_case_id", table_name="case_partner")


def downgrade() -> None:
    op.create_index("ix_case_partner_case_id", "case_partner", ["case_id"], unique=False)
