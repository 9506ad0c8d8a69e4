"""Eyes on the border: patrollers (roles grid_worker and volunteer, scoped to a town: user_account.
town_code), their checks; field devices (cameras, drones) with sealed signing secrets and seen nonces,
drone flights; detection classes with their thresholds (seeded with the categories by `seed`),
alerts, their receipts by device alert id, and real-time warnings.

Revision ID: 0020
Revises: 0016
Create Date: 2026-11-30 15:46:24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_ROLES = "'squad_leader', 'squad_member', 'dispatcher', 'committee', 'admin', 'reporter'"
NEW_ROLES = OLD_ROLES + ", 'grid_worker', 'volunteer'"
TOWN_CHECK = "(role IN ('grid_worker', 'volunteer')) = (town_code IS NOT NULL)"
ROLE_CONSTRAINT = "CONSTRAINT ck_user_account_role CHECK (role IN ({roles}))"
TOWN_CONSTRAINT = f"CONSTRAINT ck_user_account_patroller_has_town CHECK ({TOWN_CHECK})"


def _edit_user_account_sql(old: str, new: str) -> None:
    """SQLite cannot alter a CHECK, and rebuilding `user_account` would have to move every row that
    references it: the stored table SQL is edited in place, as 0011 does for report.source (the
    procedure sqlite.org/lang_altertable.html#otheralter documents for changes that leave rows valid)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'user_account'",
        (old, new),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    changed = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'user_account'").scalar_one()
    if new not in changed:
        raise RuntimeError("could not update the CHECK constraints of user_account")


def _patroller_roles_up() -> None:
    op.add_column("user_account", sa.Column("town_code", sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_user_account_role"), "user_account", type_="check")
        op.create_check_constraint(op.f("ck_user_account_role"), "user_account", f"role IN ({NEW_ROLES})")
        op.create_check_constraint(op.f("ck_user_account_patroller_has_town"), "user_account", TOWN_CHECK)
        return
    _edit_user_account_sql(
        ROLE_CONSTRAINT.format(roles=OLD_ROLES),
        ROLE_CONSTRAINT.format(roles=NEW_ROLES) + ", " + TOWN_CONSTRAINT,
    )


def _patroller_roles_down() -> None:
    bind = op.get_bind()
    left = bind.execute(
        sa.text("SELECT count(*) FROM user_account WHERE role IN ('grid_worker', 'volunteer')")
    )
    if left.scalar_one():
        raise RuntimeError("grid workers or volunteers exist: deactivate and remove them before downgrading")
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_user_account_patroller_has_town"), "user_account", type_="check")
        op.drop_constraint(op.f("ck_user_account_role"), "user_account", type_="check")
        op.create_check_constraint(op.f("ck_user_account_role"), "user_account", f"role IN ({OLD_ROLES})")
        op.drop_column("user_account", "town_code")
        return
    _edit_user_account_sql(
        ROLE_CONSTRAINT.format(roles=NEW_ROLES) + ", " + TOWN_CONSTRAINT,
        ROLE_CONSTRAINT.format(roles=OLD_ROLES),
    )
    bind.exec_driver_sql("ALTER TABLE user_account DROP COLUMN town_code")


def upgrade() -> None:
    _patroller_roles_up()
    op.create_table(
        "alert_class",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("category_code", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("threshold BETWEEN 0 AND 1", name=op.f("ck_alert_class_threshold")),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_alert_class_category_code_category")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_alert_class")),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_sealed", sa.String(length=400), nullable=False),
        sa.Column("secret_prefix", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("view_direction_deg", sa.Float(), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("border_a", sa.String(length=32), nullable=True),
        sa.Column("border_b", sa.String(length=32), nullable=True),
        sa.Column("operator_squad_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_alerts", sa.Integer(), nullable=False),
        sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("throttle_count", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'camera' OR (lon IS NOT NULL AND lat IS NOT NULL AND district_code IS NOT NULL)",
            name=op.f("ck_device_camera_placed"),
        ),
        sa.CheckConstraint(
            "kind <> 'drone' OR operator_squad_id IS NOT NULL", name=op.f("ck_device_drone_operated")
        ),
        sa.CheckConstraint("kind IN ('camera', 'drone')", name=op.f("ck_device_kind")),
        sa.CheckConstraint("(border_a IS NULL) = (border_b IS NULL)", name=op.f("ck_device_border_pair")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_device_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["operator_squad_id"], ["squad.id"], name=op.f("fk_device_operator_squad_id_squad")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("code", name=op.f("uq_device_code")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_operator_squad_id"), ["operator_squad_id"], unique=False)

    op.create_table(
        "device_nonce",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_device_nonce_device_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_nonce")),
        sa.UniqueConstraint("device_id", "nonce", name=op.f("uq_device_nonce_device_id_nonce")),
    )
    with op.batch_alter_table("device_nonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_nonce_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "drone_flight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("track", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("format IN ('geojson', 'gpx')", name=op.f("ck_drone_flight_format")),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_drone_flight_period")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_drone_flight_device_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drone_flight")),
        sa.UniqueConstraint("device_id", "external_id", name=op.f("uq_drone_flight_device_id_external_id")),
    )
    with op.batch_alter_table("drone_flight", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drone_flight_device_period", ["device_id", "started_at", "ended_at"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("class_code", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("location_source", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("in_border_zone", sa.Boolean(), nullable=False),
        sa.Column("border_a", sa.String(length=32), nullable=True),
        sa.Column("border_b", sa.String(length=32), nullable=True),
        sa.Column("frame_evidence_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismiss_reason", sa.String(length=500), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "location_source IN ('device', 'track', 'payload')", name=op.f("ck_alert_location_source")
        ),
        sa.CheckConstraint(
            "status <> 'dismissed' OR dismiss_reason IS NOT NULL", name=op.f("ck_alert_dismiss_reason")
        ),
        sa.CheckConstraint(
            "status IN ('pending_review', 'confirmed', 'dismissed')", name=op.f("ck_alert_status")
        ),
        sa.CheckConstraint("confidence BETWEEN 0 AND 1", name=op.f("ck_alert_confidence")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_alert_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["class_code"], ["alert_class.code"], name=op.f("fk_alert_class_code_alert_class")
        ),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_alert_device_id_device")),
        sa.ForeignKeyConstraint(
            ["frame_evidence_id"], ["evidence.id"], name=op.f("fk_alert_frame_evidence_id_evidence")
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_alert_report_id_report")),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["user_account.id"], name=op.f("fk_alert_reviewed_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_district_code"), ["district_code"], unique=False)
        batch_op.create_index("ix_alert_status_received", ["status", "received_at"], unique=False)
        batch_op.create_index("ix_alert_storm", ["device_id", "class_code", "last_detected_at"], unique=False)

    op.create_table(
        "patrol_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patroller_id", sa.Integer(), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=True),
        sa.Column("town_code", sa.String(length=32), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'found') = (report_id IS NOT NULL)", name=op.f("ck_patrol_check_finding_has_report")
        ),
        sa.CheckConstraint("outcome IN ('clean', 'found')", name=op.f("ck_patrol_check_outcome")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_patrol_check_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["hotspot_id"], ["hotspot.id"], name=op.f("fk_patrol_check_hotspot_id_hotspot")
        ),
        sa.ForeignKeyConstraint(
            ["patroller_id"], ["user_account.id"], name=op.f("fk_patrol_check_patroller_id_user_account")
        ),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_patrol_check_report_id_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_check")),
    )
    with op.batch_alter_table("patrol_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_check_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_patrol_check_hotspot_at", ["hotspot_id", "checked_at"], unique=False)
        batch_op.create_index("ix_patrol_check_patroller_at", ["patroller_id", "checked_at"], unique=False)

    op.create_table(
        "alert_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("device_alert_id", sa.String(length=100), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_alert_receipt_alert_id_alert")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_alert_receipt_device_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_receipt")),
        sa.UniqueConstraint(
            "device_id", "device_alert_id", name=op.f("uq_alert_receipt_device_id_device_alert_id")
        ),
    )
    with op.batch_alter_table("alert_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_receipt_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "realtime_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("via IN ('roster', 'on_call')", name=op.f("ck_realtime_warning_via")),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_realtime_warning_alert_id_alert")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_realtime_warning_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_realtime_warning_outbox_message_id_outbox_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_warning")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_realtime_warning_alert_id")),
    )
    with op.batch_alter_table("realtime_warning", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_realtime_warning_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_realtime_warning_outbox_message_id"), ["outbox_message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_realtime_warning_queued_at"), ["queued_at"], unique=False)


def downgrade() -> None:
    _patroller_roles_down()

    with op.batch_alter_table("realtime_warning", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_realtime_warning_queued_at"))
        batch_op.drop_index(batch_op.f("ix_realtime_warning_outbox_message_id"))
        batch_op.drop_index(batch_op.f("ix_realtime_warning_case_id"))

    op.drop_table("realtime_warning")
    with op.batch_alter_table("alert_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_receipt_alert_id"))

    op.drop_table("alert_receipt")
    with op.batch_alter_table("patrol_check", schema=None) as batch_op:
        batch_op.drop_index("ix_patrol_check_patroller_at")
        batch_op.drop_index("ix_patrol_check_hotspot_at")
        batch_op.drop_index(batch_op.f("ix_patrol_check_case_id"))

    op.drop_table("patrol_check")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_storm")
        batch_op.drop_index("ix_alert_status_received")
        batch_op.drop_index(batch_op.f("ix_alert_district_code"))
        batch_op.drop_index(batch_op.f("ix_alert_case_id"))

    op.drop_table("alert")
    with op.batch_alter_table("drone_flight", schema=None) as batch_op:
        batch_op.drop_index("ix_drone_flight_device_period")

    op.drop_table("drone_flight")
    with op.batch_alter_table("device_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_nonce_seen_at"))

    op.drop_table("device_nonce")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_operator_squad_id"))

    op.drop_table("device")
    op.drop_table("alert_class")
