"""Drawings, documents and inspection photos of renovation filings, kept by coordinator/evidence.

Who may see them is the filing's rule (`can_read_filing`): the compound's property managers, the
district's dispatchers, the town's squad and admins — registered here with the evidence module, so
`GET /api/v1/evidence/<id>` applies it too. Every file is checked before anything is stored (413/415).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.community.models import Inspection, RenovationFiling
from coordinator.community.renovation import get_filing, manager_ids
from coordinator.errors import Forbidden
from coordinator.evidence import access, services
from coordinator.evidence.models import Evidence
from coordinator.evidence.services import Upload
from coordinator.permissions import can_inspect_filing, can_read_filing, can_review_filing, manages_compound

FILING_SUBJECT = "renovation_filing"
INSPECTION_SUBJECT = "renovation_inspection"


def _filing_reader(session: Session, user: User, evidence: Evidence) -> bool:
    filing = session.get(RenovationFiling, evidence.subject_id)
    return filing is not None and can_read_filing(user, filing.compound, manager_ids(filing.compound))


def _inspection_reader(session: Session, user: User, evidence: Evidence) -> bool:
    inspection = session.get(Inspection, evidence.subject_id)
    if inspection is None:
        return False
    filing = session.get_one(RenovationFiling, inspection.filing_id)
    return can_read_filing(user, filing.compound, manager_ids(filing.compound))


access.register_viewer(FILING_SUBJECT, _filing_reader)
access.register_viewer(INSPECTION_SUBJECT, _inspection_reader)


def may_add_documents(user: User, filing: RenovationFiling) -> bool:
    """The compound's property managers and the district's dispatchers (and admins) add documents."""
    compound = filing.compound
    return manages_compound(user, manager_ids(compound)) or can_review_filing(user, compound)


def add_documents(
    session: Session, filing_id: int, user: User, uploads: Sequence[Upload], *, purpose: str
) -> list[Evidence]:
    """Attach drawings or documents (PDF or image) to a filing: its property managers, the district's
    dispatchers. All files are checked first; one bad file stores nothing."""
    filing = get_filing(session, filing_id, user)
    if not may_add_documents(user, filing):
        raise Forbidden(f"{user.username} may not add documents to renovation filing {filing.number}")
    services.require_count(uploads, field="documents", minimum=1, maximum=9)
    prepared = services.prepare_uploads(uploads, limits=services.current_limits(), documents=True)
    return [
        services.store_prepared(
            session,
            p,
            subject_type=FILING_SUBJECT,
            subject_id=filing.id,
            purpose=purpose,
            uploaded_by_id=user.id,
        )
        for p in prepared
    ]


def add_inspection_photos(
    session: Session, inspection_id: int, user: User, uploads: Sequence[Upload]
) -> list[Evidence]:
    """Attach photos to an inspection: whoever may record that kind of inspection of its filing."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        from coordinator.errors import NotFound

        raise NotFound(f"no inspection {inspection_id}")
    filing = get_filing(session, inspection.filing_id, user)
    if not can_inspect_filing(user, filing.compound, manager_ids(filing.compound), inspection.kind):
        raise Forbidden(f"{user.username} may not add photos to inspection {inspection.id}")
    services.require_count(uploads, field="photos", minimum=1, maximum=9)
    prepared = services.prepare_uploads(uploads, limits=services.current_limits())
    return [
        services.store_prepared(
            session,
            p,
            subject_type=INSPECTION_SUBJECT,
            subject_id=inspection.id,
            purpose="inspection",
            uploaded_by_id=user.id,
        )
        for p in prepared
    ]


def filing_documents(session: Session, filing: RenovationFiling) -> list[Evidence]:
    """The filing's documents."""
    return services.list_evidence(session, FILING_SUBJECT, filing.id)


def inspection_photos(session: Session, filing: RenovationFiling) -> dict[int, list[int]]:
    """Evidence ids of each inspection's photos."""
    return {
        i.id: [e.id for e in services.list_evidence(session, INSPECTION_SUBJECT, i.id)]
        for i in filing.inspections
    }
