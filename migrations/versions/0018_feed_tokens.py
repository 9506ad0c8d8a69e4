"""One table for the secret tokens of every calendar feed: `feed_token` (feed `meetings` or `squad`)
replaces `calendar_feed_token` (meetings, migration 0014) and `squad_feed_token` (a squad's patrols,
migration 0011). Existing tokens are copied with their hashes, so every feed URL already handed out
keeps working (or stays revoked); the two old tables are dropped.

Revision ID: 0018
Revises: 0014
Create Date: 2026-11-30 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("feed", sa.String(length=16), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("feed IN ('meetings', 'squad')", name=op.f("ck_feed_token_feed")),
        sa.CheckConstraint(
            "(feed = 'squad' AND squad_id IS NOT NULL) OR (feed = 'meetings' AND squad_id IS NULL)",
            name=op.f("ck_feed_token_feed_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_feed_token_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["squad_id"], ["squad.id"], name=op.f("fk_feed_token_squad_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_token_token_hash")),
    )
    op.create_index(op.f("ix_feed_token_created_by_id"), "feed_token", ["created_by_id"])
    op.create_index(op.f("ix_feed_token_squad_id"), "feed_token", ["squad_id"])
    # The same SHA-256 of the same kind of token (jjcal_…): old URLs keep working.
    op.execute(
        "INSERT INTO feed_token (token_hash, prefix, feed, squad_id, district_code, label, created_by_id,"
        " created_at, revoked_at)"
        " SELECT token_hash, prefix, 'meetings', NULL, district_code, label, created_by_id, created_at,"
        " revoked_at FROM calendar_feed_token ORDER BY id"
    )
    op.execute(
        "INSERT INTO feed_token (token_hash, prefix, feed, squad_id, district_code, label, created_by_id,"
        " created_at, revoked_at)"
        " SELECT t.token_hash, t.prefix, 'squad', t.squad_id, NULL, s.code, t.created_by_id, t.created_at,"
        " t.revoked_at FROM squad_feed_token t JOIN squad s ON s.id = t.squad_id ORDER BY t.id"
    )
    op.drop_index(op.f("ix_calendar_feed_token_created_by_id"), table_name="calendar_feed_token")
    op.drop_table("calendar_feed_token")
    op.drop_index(op.f("ix_squad_feed_token_squad_id"), table_name="squad_feed_token")
    op.drop_table("squad_feed_token")


def downgrade() -> None:
    op.create_table(
        "squad_feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("squad_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_squad_feed_token_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["squad_id"], ["squad.id"], name=op.f("fk_squad_feed_token_squad_id_squad")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_squad_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_squad_feed_token_token_hash")),
    )
    op.create_index(op.f("ix_squad_feed_token_squad_id"), "squad_feed_token", ["squad_id"])
    op.create_table(
        "calendar_feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_calendar_feed_token_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feed_token_created_by_id"), "calendar_feed_token", ["created_by_id"])
    op.execute(
        "INSERT INTO calendar_feed_token (token_hash, prefix, label, district_code, created_by_id,"
        " created_at, revoked_at)"
        " SELECT token_hash, prefix, label, district_code, created_by_id, created_at, revoked_at"
        " FROM feed_token WHERE feed = 'meetings' ORDER BY id"
    )
    op.execute(
        "INSERT INTO squad_feed_token (squad_id, token_hash, prefix, created_by_id, created_at, revoked_at)"
        " SELECT squad_id, token_hash, prefix, created_by_id, created_at, revoked_at"
        " FROM feed_token WHERE feed = 'squad' ORDER BY id"
    )
    op.drop_index(op.f("ix_feed_token_squad_id"), table_name="feed_token")
    op.drop_index(op.f("ix_feed_token_created_by_id"), table_name="feed_token")
    op.drop_table("feed_token")
