"""Who may see a stored file: the rule of its subject type.

Cases and reports: every staff role that reads cases. Another domain attaching files registers its rule
with `register_viewer` (e.g. w20's alerts, w21's renovation filings); a subject type without a rule is
visible to dispatchers and admins only. Whoever uploaded a file may always see it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from coordinator import permissions
from coordinator.auth.models import User
from coordinator.errors import Forbidden
from coordinator.evidence.models import Evidence

Viewer = Callable[[Session, User, Evidence], bool]
VIEWERS: dict[str, Viewer] = {}


def register_viewer(subject_type: str, viewer: Viewer) -> None:
    """Decide who may see the files of `subject_type` (one rule per type)."""
    VIEWERS[subject_type] = viewer


def _case_staff(session: Session, user: User, evidence: Evidence) -> bool:
    return permissions.can_view_case_evidence(user)


register_viewer("case", _case_staff)
register_viewer("report", _case_staff)


def can_view(session: Session, user: User, evidence: Evidence) -> bool:
    """Whether `user` may fetch `evidence` (its file and thumbnail)."""
    if evidence.uploaded_by_id is not None and evidence.uploaded_by_id == user.id:
        return True
    viewer = VIEWERS.get(evidence.subject_type)
    if viewer is not None:
        return viewer(session, user, evidence)
    return user.role in ("dispatcher", "admin")


def require_view(session: Session, user: User, evidence: Evidence) -> None:
    """403 unless `user` may see `evidence`."""
    if not can_view(session, user, evidence):
        raise Forbidden(
            f"a {user.role} may not see this file",
            details={"evidence": evidence.id, "subject_type": evidence.subject_type},
        )
