"""The Evidence row: one stored file attached to a subject (a case, a report, an alert, …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

EVIDENCE_KINDS = ("image", "document")


class Evidence(Base):
    """A photo or document kept for a subject.

    Attached generically — `subject_type` ("case", "report", "alert", "patrol_check",
    "renovation_filing", "inspection", …) and `subject_id`, the row id in that subject's table — so a
    new domain attaches files without a migration of its own. The bytes live in the blob store under
    their sha256 (`sha256`; the thumbnail's under `thumbnail_sha256`); for images that is the
    re-encoded copy without metadata. The GPS position the camera wrote into the original's EXIF is
    kept in `gps_lon`/`gps_lat` (WGS-84, as cameras write it) for staff, never in a file.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("kind IN ('image', 'document')", name="kind"),
        Index("ix_evidence_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
