"""Security: rate-limit counters (fixed windows, shared by every worker and host); server-side browser
sessions (revocable on logout, `users revoke`, deactivation); case-insensitive unique usernames
(user_account.username_key, backfilled; stops with a list if two existing names differ only in case).

Revision ID: 0017
Revises: 0018
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counter",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", "window_start", name=op.f("pk_rate_limit_counter")),
    )
    op.create_index("ix_rate_limit_counter_expires_at", "rate_limit_counter", ["expires_at"], unique=False)

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_web_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"], unique=False)

    op.add_column(
        "user_account", sa.Column("username_key", sa.String(length=64), server_default="", nullable=False)
    )
    conn = op.get_bind()
    users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("username", sa.String))
    seen: dict[str, str] = {}
    clashes = []
    for user_id, username in conn.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        key = username.strip().lower()
        if key in seen:
            clashes.append(f"{seen[key]} / {username}")
        seen[key] = username
        conn.execute(
            sa.text("UPDATE user_account SET username_key = :key WHERE id = :id"), {"key": key, "id": user_id}
        )
    if clashes:
        raise RuntimeError(
            "usernames that differ only in case must be renamed first (flask users …): " + "; ".join(clashes)
        )
    op.create_index("uq_user_account_username_key", "user_account", ["username_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_user_account_username_key", table_name="user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("username_key")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_rate_limit_counter_expires_at", table_name="rate_limit_counter")
    op.drop_table("rate_limit_counter")
