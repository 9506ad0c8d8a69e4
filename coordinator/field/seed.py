"""Detection classes as shipped: reference data, seeded with the categories (`flask seed …`); thresholds
are changed afterwards with PATCH /api/v1/alert-classes/<code> and are never overwritten here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.field.models import AlertClass

# code, Chinese name, category of the cases it opens, confidence threshold (at or above: a case at once)
ALERT_CLASSES = (
    ("dumping", "偷倒垃圾渣土", "01-11", 0.80),
    ("vehicle_unloading", "车辆卸载渣土", "01-11", 0.85),
    ("household_waste", "偷倒生活垃圾", "01-51", 0.80),
    ("exposed_garbage", "暴露垃圾", "01-10", 0.70),
    ("illegal_construction", "违法搭建", "01-01", 0.75),
)


def seed_alert_classes(session: Session) -> int:
    """Insert the missing detection classes (after the categories); how many were new."""
    have = set(session.scalars(select(AlertClass.code)))
    new = [
        AlertClass(code=code, name_zh=name, category_code=category, threshold=threshold, active=True)
        for code, name, category, threshold in ALERT_CLASSES
        if code not in have
    ]
    session.add_all(new)
    session.flush()
    return len(new)
