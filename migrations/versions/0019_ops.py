"""Operations: case_event.request_id (the request or job run that wrote an audit row, as in the logs);
scheduler_heartbeat (one row per scheduler process, leader or standby: /readyz reads the leader's) and
scheduler_run (every job run: /metrics counts outcomes, the fault tests prove no run happened twice).

Revision ID: 0019
Revises: 0021
Create Date: 2026-11-30 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_event", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leader_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('leader', 'standby')", name=op.f("ck_scheduler_heartbeat_role")),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_scheduler_heartbeat")),
    )
    op.create_table(
        "scheduler_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("outcome IN ('running', 'ok', 'error')", name=op.f("ck_scheduler_run_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_run")),
    )
    op.create_index("ix_scheduler_run_job_started", "scheduler_run", ["job_id", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scheduler_run_job_started", table_name="scheduler_run")
    op.drop_table("scheduler_run")
    op.drop_table("scheduler_heartbeat")
    # Not batch mode: on SQLite that would rebuild case_event without its append-only triggers
    # (SQLite >= 3.35 drops a column in place).
    op.drop_column("case_event", "request_id")
