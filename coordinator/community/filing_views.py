"""The renovation side of coordinator/community's routes: compounds (小区), renovation filings (装修申报)
with their documents, and inspections. Registered on the `community` blueprint by
coordinator/community/views.py (same endpoint names), kept apart so each module stays readable.
Thin views: parse, call a service, serialize."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import FileStorage

from coordinator.api import endpoint
from coordinator.cases.views import current_calendar
from coordinator.community import case_filings, documents, renovation
from coordinator.community.presenters import compound_out, filing_detail, filing_summary, inspection_out
from coordinator.community.schemas import (
    DOCUMENTS_PART,
    INSPECTION_PHOTOS_PART,
    CompoundIn,
    CompoundList,
    CompoundOut,
    CompoundPatch,
    DocumentForm,
    FilingDetail,
    FilingIn,
    FilingList,
    FilingListQuery,
    InspectionIn,
    InspectionOut,
    NoteIn,
    PhotoForm,
    RenovationStats,
    ResubmitIn,
    ReturnIn,
)
from coordinator.community.views import _now, bp
from coordinator.evidence.presenters import evidence_list
from coordinator.evidence.schemas import EvidenceList
from coordinator.extensions import db_session, writes_on_read
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.policy import current_user

# -- compounds ---------------------------------------------------------------------------------------------


@bp.get("/compounds")
@endpoint(summary="Compounds (小区) the caller may see", tags=["renovation"], response=CompoundList)
def list_compounds() -> dict[str, Any]:
    session = db_session()
    return {
        "compounds": [compound_out(session, c) for c in renovation.list_compounds(session, current_user())]
    }


@bp.post("/compounds")
@needs_locator
@endpoint(
    summary="Register a compound (point or polygon) and name its property managers",
    tags=["renovation"],
    body=CompoundIn,
    response=CompoundOut,
    status=201,
)
def create_compound(body: CompoundIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    compound = renovation.create_compound(
        session,
        current_locator(),
        current_user(),
        name=body.name,
        address=body.address,
        geometry=body.geometry.model_dump(),
        managers=body.managers,
    )
    return compound_out(session, compound), 201


@bp.patch("/compounds/<id:compound_id>")
@needs_locator
@endpoint(
    summary="Edit a compound: name, address, geometry (located again), property managers",
    description="Omitted fields stay; `managers` replaces the list. The district's dispatcher (or an "
    "admin) edits; a new geometry must stay in a district the caller manages (403 otherwise) and in the "
    "member districts (422 `outside_alliance`).",
    tags=["renovation"],
    body=CompoundPatch,
    response=CompoundOut,
    errors=(404,),
)
def update_compound(compound_id: int, body: CompoundPatch) -> dict[str, Any]:
    session = db_session()
    compound = renovation.update_compound(
        session,
        current_locator(),
        current_user(),
        renovation.get_compound(session, compound_id),
        body.changes(),
    )
    return compound_out(session, compound)


@bp.post("/compounds/<id:compound_id>/retire")
@endpoint(
    summary="Retire a compound (registered by mistake, or no longer managed)",
    description="It leaves the lists and takes no new filing or resubmission; its filings stay readable. "
    "The district's dispatcher (or an admin) retires; 409 `compound_has_open_filings` (listed in "
    "`details.filings`) while a filing of it is submitted, resubmitted, accepted, in works or inspected.",
    tags=["renovation"],
    response=CompoundOut,
    errors=(404, 409),
)
def retire_compound(compound_id: int) -> dict[str, Any]:
    session = db_session()
    compound = renovation.retire_compound(
        session, current_user(), renovation.get_compound(session, compound_id)
    )
    return compound_out(session, compound)


# -- renovation filings ------------------------------------------------------------------------------------


def _detail(filing_id: int) -> dict[str, Any]:
    session = db_session()
    user = current_user()
    filing = renovation.get_filing(session, filing_id, user)
    session.refresh(filing, ["events", "inspections"])
    return filing_detail(
        session,
        filing,
        user,
        documents=[e.id for e in documents.filing_documents(session, filing)],
        photos=documents.inspection_photos(session, filing),
    )


@bp.post("/renovation-filings")
@endpoint(
    summary="File a renovation (装修申报) of a flat in one's compound",
    description="409 `compound_retired` for a retired compound.",
    tags=["renovation"],
    body=FilingIn,
    response=FilingDetail,
    status=201,
    errors=(404, 409),
)
def create_filing(body: FilingIn) -> tuple[dict[str, Any], int]:
    filing = renovation.file_renovation(
        db_session(), current_user(), body.compound_id, body.fields(), now=_now()
    )
    return _detail(filing.id), 201


@bp.get("/renovation-filings")
@endpoint(
    summary="Renovation filings of the compounds the caller may see",
    tags=["renovation"],
    query=FilingListQuery,
    response=FilingList,
)
def list_filings(query: FilingListQuery) -> dict[str, Any]:
    rows = renovation.list_filings(
        db_session(), current_user(), state=query.state, compound_id=query.compound_id
    )
    return {"filings": [filing_summary(f) for f in rows]}


@bp.get("/renovation-filings/<id:filing_id>")
@writes_on_read  # the audit row of an unmasked contact read
@endpoint(
    summary="One renovation filing with owner (per role), trail and inspections",
    tags=["renovation"],
    response=FilingDetail,
    errors=(404,),
)
def get_filing(filing_id: int) -> dict[str, Any]:
    return _detail(filing_id)


def _act(filing_id: int, action: str, **kwargs: Any) -> dict[str, Any]:
    renovation.act(db_session(), filing_id, current_user(), action, now=_now(), **kwargs)
    return _detail(filing_id)


@bp.post("/renovation-filings/<id:filing_id>/accept")
@endpoint(
    summary="Accept a filing (受理): the district's dispatcher",
    tags=["renovation"],
    body=NoteIn,
    response=FilingDetail,
    errors=(404, 409),
)
def accept_filing(filing_id: int, body: NoteIn) -> dict[str, Any]:
    return _act(filing_id, "accept", reason=body.note)


@bp.post("/renovation-filings/<id:filing_id>/return")
@endpoint(
    summary="Return a filing with reasons (退回补正)",
    tags=["renovation"],
    body=ReturnIn,
    response=FilingDetail,
    errors=(404, 409),
)
def return_filing(filing_id: int, body: ReturnIn) -> dict[str, Any]:
    return _act(filing_id, "return", reasons=body.reasons)


@bp.post("/renovation-filings/<id:filing_id>/resubmit")
@endpoint(
    summary="Resubmit a returned filing with corrections",
    description="409 when the filing is not returned, or `compound_retired` when its compound is retired.",
    tags=["renovation"],
    body=ResubmitIn,
    response=FilingDetail,
    errors=(404, 409),
)
def resubmit_filing(filing_id: int, body: ResubmitIn) -> dict[str, Any]:
    return _act(filing_id, "resubmit", reason=body.note, changes=body.changes())


@bp.post("/renovation-filings/<id:filing_id>/start")
@endpoint(
    summary="Works started (开工)", tags=["renovation"], body=NoteIn, response=FilingDetail, errors=(404, 409)
)
def start_filing(filing_id: int, body: NoteIn) -> dict[str, Any]:
    return _act(filing_id, "start", reason=body.note)


@bp.post("/renovation-filings/<id:filing_id>/close")
@endpoint(
    summary="Close an inspected filing (办结)",
    tags=["renovation"],
    body=NoteIn,
    response=FilingDetail,
    errors=(404, 409),
)
def close_filing(filing_id: int, body: NoteIn) -> dict[str, Any]:
    return _act(filing_id, "close", reason=body.note)


@bp.post("/renovation-filings/<id:filing_id>/inspections")
@needs_locator
@endpoint(
    summary="Record a property inspection, 城管 spot check or completion check; a failure opens a case",
    tags=["renovation"],
    body=InspectionIn,
    response=InspectionOut,
    status=201,
    errors=(404, 409),
)
def record_inspection(filing_id: int, body: InspectionIn) -> tuple[dict[str, Any], int]:
    inspection = renovation.inspect(
        db_session(),
        current_locator(),
        current_calendar(),
        filing_id,
        current_user(),
        kind=body.kind,
        result=body.result,
        notes=body.notes,
        violation=body.violation,
        now=_now(),
    )
    return inspection_out(inspection), 201


@bp.get("/renovation-stats")
@endpoint(
    summary="Counts of filings by state and inspections by result, per district (no people)",
    tags=["renovation"],
    response=RenovationStats,
)
def renovation_stats() -> dict[str, Any]:
    session = db_session()
    return {
        "filings": [
            {"district": d, "state": s, "count": n} for d, s, n in case_filings.filing_counts(session)
        ],
        "inspections": [
            {"district": d, "kind": k, "result": r, "count": n}
            for d, k, r, n in case_filings.inspection_counts(session)
        ],
    }


@bp.post("/renovation-filings/<id:filing_id>/documents")
@endpoint(
    summary="Upload drawings and documents of a filing (multipart/form-data; PDF or images)",
    description="Form field `purpose` (`drawing` 图纸 or `document`) and 1–9 files in `documents`. Each is "
    "checked by its content: 415 `unsupported_media_type` for anything but a PDF or a JPEG/PNG/WebP image "
    "whatever its name, 413 `payload_too_large` over the size limit — and then nothing is stored. The "
    "compound's property managers and the district's dispatchers upload; the filing's readers see them.",
    tags=["renovation"],
    form=DocumentForm,
    file_parts=(DOCUMENTS_PART,),
    multipart_only=True,
    response=EvidenceList,
    status=201,
    errors=(404, 413, 415),
)
def upload_filing_documents(
    filing_id: int, form: DocumentForm, uploads: dict[str, list[FileStorage]]
) -> tuple[dict[str, Any], int]:
    session = db_session()
    user = current_user()
    rows = documents.add_documents(
        session, filing_id, user, uploads[DOCUMENTS_PART.name], purpose=form.purpose
    )
    return {"evidence": evidence_list(session, rows, user.role)}, 201


@bp.get("/renovation-filings/<id:filing_id>/documents")
@endpoint(
    summary="A filing's drawings and documents", tags=["renovation"], response=EvidenceList, errors=(404,)
)
def list_filing_documents(filing_id: int) -> dict[str, Any]:
    session = db_session()
    user = current_user()
    filing = renovation.get_filing(session, filing_id, user)
    return {"evidence": evidence_list(session, documents.filing_documents(session, filing), user.role)}


@bp.post("/renovation-inspections/<id:inspection_id>/photos")
@endpoint(
    summary="Upload photos of an inspection (multipart/form-data; images; 413/415 store nothing)",
    tags=["renovation"],
    form=PhotoForm,
    file_parts=(INSPECTION_PHOTOS_PART,),
    multipart_only=True,
    response=EvidenceList,
    status=201,
    errors=(404, 413, 415),
)
def upload_inspection_photos(
    inspection_id: int, form: PhotoForm, uploads: dict[str, list[FileStorage]]
) -> tuple[dict[str, Any], int]:
    session = db_session()
    user = current_user()
    rows = documents.add_inspection_photos(session, inspection_id, user, uploads[INSPECTION_PHOTOS_PART.name])
    return {"evidence": evidence_list(session, rows, user.role)}, 201
