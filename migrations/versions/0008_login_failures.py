"""Failed password logins, for the login throttle (a few wrong passwords per username per window).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_username_at", "login_failure", ["username", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_failure_username_at", table_name="login_failure")
    op.drop_table("login_failure")
