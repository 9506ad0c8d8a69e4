"""Evidence rows as API answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.auth.models import User
from coordinator.evidence.models import Evidence
from coordinator.worktime import SHANGHAI

API_PREFIX = "/api/v1"


def evidence_url(evidence: Evidence) -> str:
    """Where staff fetch the file."""
    return f"{API_PREFIX}/evidence/{evidence.id}"


def evidence_out(
    evidence: Evidence,
    *,
    viewer_role: str | None,
    uploader: str | None,
    url: str | None = None,
    thumbnail_url: str | None = None,
) -> dict[str, Any]:
    """One evidence row as `EvidenceOut` (URLs default to the staff routes)."""
    url = url or evidence_url(evidence)
    show_gps = viewer_role is not None and permissions.can_see_photo_location(viewer_role)
    has_gps = evidence.gps_lon is not None and evidence.gps_lat is not None
    return {
        "id": evidence.id,
        "subject_type": evidence.subject_type,
        "subject_id": evidence.subject_id,
        "purpose": evidence.purpose,
        "kind": evidence.kind,
        "media_type": evidence.media_type,
        "size_bytes": evidence.size_bytes,
        "width": evidence.width,
        "height": evidence.height,
        "original_name": evidence.original_name,
        "url": url,
        "thumbnail_url": None if evidence.thumbnail_sha256 is None else (thumbnail_url or f"{url}/thumbnail"),
        "uploaded_by": uploader,
        "uploaded_at": evidence.created_at.astimezone(SHANGHAI).isoformat(),
        "gps": {"lon": evidence.gps_lon, "lat": evidence.gps_lat} if show_gps and has_gps else None,
    }


def evidence_list(
    session: Session, rows: Sequence[Evidence], viewer_role: str | None
) -> list[dict[str, Any]]:
    """Rows as `EvidenceOut` for a viewer of `viewer_role`, with their uploaders' usernames (one query,
    none for no rows)."""
    if not rows:
        return []
    ids = {e.uploaded_by_id for e in rows if e.uploaded_by_id is not None}
    names: dict[int, str] = {}
    if ids:
        rows_ = session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        names = {user_id: username for user_id, username in rows_}
    return [
        evidence_out(
            e, viewer_role=viewer_role, uploader=names.get(e.uploaded_by_id) if e.uploaded_by_id else None
        )
        for e in rows
    ]
