"""Evidence API: fetch a stored file or its thumbnail; a case's photos (list, multipart upload)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request
from werkzeug.datastructures import FileStorage

from coordinator import permissions
from coordinator.api import endpoint
from coordinator.cases import queries
from coordinator.cases.events import add_event
from coordinator.errors import Conflict, Forbidden, NotFound
from coordinator.evidence import access, services
from coordinator.evidence.files import DOCUMENT_MEDIA_TYPES, THUMBNAIL_MEDIA_TYPE
from coordinator.evidence.models import Evidence
from coordinator.evidence.presenters import evidence_list
from coordinator.evidence.schemas import PHOTOS_PART, CaseEvidenceForm, EvidenceList
from coordinator.evidence.storage import BlobMissing
from coordinator.extensions import db_session
from coordinator.policy import current_caller, current_user
from coordinator.worktime import SHANGHAI

bp = Blueprint("evidence", __name__)

FILE_ANSWERS = {
    "image/jpeg": "The photo (re-encoded without EXIF/XMP metadata: no GPS position).",
    "image/png": "The image (re-encoded without metadata).",
    "image/webp": "The image (re-encoded without metadata).",
    "application/pdf": "The document as uploaded (sent as an attachment).",
}
assert set(FILE_ANSWERS) == set(DOCUMENT_MEDIA_TYPES)
THUMBNAIL_ANSWER = {THUMBNAIL_MEDIA_TYPE: "A JPEG thumbnail (no metadata)."}
# A stored file never changes under its id (content-addressed): browsers keep it for a year, privately
# (it is permission-checked).
IMMUTABLE = 365 * 24 * 3600
CLOSED_STATUSES = ("closed", "void")
PURPOSE_ZH = {"before": "整改前", "after": "整改后", "other": "其他"}


def file_response(
    evidence: Evidence, *, thumbnail: bool, private: bool = True, download_name: str | None = None
) -> Response:
    """The file (or thumbnail) of `evidence`, with validators (ETag = its sha256), 304 and byte ranges,
    long-lived caching and headers that keep a browser from running anything in it."""
    digest = evidence.thumbnail_sha256 if thumbnail else evidence.sha256
    if digest is None:
        raise NotFound("this file has no thumbnail (only images have one)", details={"evidence": evidence.id})
    media_type = THUMBNAIL_MEDIA_TYPE if thumbnail else evidence.media_type
    response = Response(mimetype=media_type)
    response.set_etag(digest)
    response.last_modified = evidence.created_at
    response.cache_control.max_age = IMMUTABLE
    response.cache_control.immutable = True
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    disposition = "attachment" if evidence.kind == "document" and not thumbnail else "inline"
    name = download_name or evidence.original_name or f"evidence-{evidence.id}"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    if request.if_none_match.contains(digest):
        response.status_code = 304
        return response
    try:
        data = services.current_store().get(digest)
    except BlobMissing:
        raise NotFound("the stored file is missing", details={"evidence": evidence.id}) from None
    response.set_data(data)
    response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return response


def _visible(evidence_id: int) -> Evidence:
    session = db_session()
    evidence = services.get_evidence(session, evidence_id)
    access.require_view(session, current_user(), evidence)
    return evidence


@bp.get("/evidence/<id:evidence_id>")
@endpoint(
    summary="A stored photo or document (permission-checked; cached for good under its ETag)",
    description="Who may see a file depends on what it is attached to: a case's or report's photos "
    "every staff role that reads cases; other subjects by their own rule; the uploader always. Images "
    "are served re-encoded without metadata; PDFs as attachments.",
    tags=["evidence"],
    files=FILE_ANSWERS,
    errors=(404,),
    conditional=True,
)
def get_evidence(evidence_id: int) -> Response:
    return file_response(_visible(evidence_id), thumbnail=False)


@bp.get("/evidence/<id:evidence_id>/thumbnail")
@endpoint(
    summary="A stored image's thumbnail (JPEG; permission-checked like the file)",
    tags=["evidence"],
    files=THUMBNAIL_ANSWER,
    errors=(404,),
    conditional=True,
)
def get_thumbnail(evidence_id: int) -> Response:
    return file_response(_visible(evidence_id), thumbnail=True)


def case_subjects(case_id: int, report_ids: list[int]) -> list[tuple[str, int]]:
    """The evidence subjects of a case: the case itself and each of its reports."""
    return [("case", case_id), *(("report", r) for r in report_ids)]


@bp.get("/cases/<id:case_id>/evidence")
@endpoint(
    summary="A case's photos: before/after photos of its squads and those sent with its reports",
    tags=["evidence"],
    response=EvidenceList,
    errors=(404,),
)
def list_case_evidence(case_id: int) -> dict[str, Any]:
    session = db_session()
    case = queries.get_case(session, case_id)
    rows = services.list_evidence_of(session, case_subjects(case.id, [r.id for r in case.reports]))
    return {"evidence": evidence_list(session, rows, current_user().role)}


@bp.post("/cases/<id:case_id>/evidence")
@endpoint(
    summary="Upload before/after photos of a case (multipart/form-data; the case's squads, dispatchers)",
    description="Form fields `purpose` (`before` 整改前, `after` 整改后, `other`) and `note`, and 1–9 "
    "files in `photos`. Each photo is checked by decoding it (Pillow): 415 `unsupported_media_type` for "
    "a file that is not a JPEG, PNG or WebP image whatever its name, 413 `payload_too_large` over the "
    "size (EVIDENCE_MAX_BYTES) or pixel (EVIDENCE_MAX_PIXELS) limit — and then nothing of the request "
    "is stored. Stored photos carry no EXIF (no GPS); the case's trail gets an `evidence_added` entry. "
    "`after` photos count as the photo evidence of `resolve`. 409 on a closed or void case.",
    tags=["evidence"],
    form=CaseEvidenceForm,
    file_parts=(PHOTOS_PART,),
    multipart_only=True,
    response=EvidenceList,
    status=201,
    errors=(404, 409, 413, 415),
)
def upload_case_evidence(
    case_id: int, form: CaseEvidenceForm, uploads: dict[str, list[FileStorage]]
) -> tuple[dict[str, Any], int]:
    session = db_session()
    case = queries.get_case(session, case_id)
    user = current_user()
    if not permissions.can_add_case_evidence(user, case):
        raise Forbidden(
            f"only the squads of case {case.number}, its dispatchers and admins add its photos",
            details={"case": case.number},
        )
    if case.status in CLOSED_STATUSES:
        raise Conflict(f"case {case.number} is {case.status}", details={"case": case.number})
    photos = uploads[PHOTOS_PART.name]
    services.require_count(photos, field=PHOTOS_PART.name, minimum=1, maximum=PHOTOS_PART.max_items)
    prepared = services.prepare_uploads(photos, limits=services.current_limits())  # 413/415: nothing stored
    rows = [
        services.store_prepared(
            session, p, subject_type="case", subject_id=case.id, purpose=form.purpose, uploaded_by_id=user.id
        )
        for p in prepared
    ]
    note = form.note.strip()
    add_event(
        session,
        case,
        kind="evidence_added",
        actor=current_caller(),
        reason=f"上传{PURPOSE_ZH[form.purpose]}照片 {len(rows)} 张" + (f"：{note}" if note else ""),
        payload={"purpose": form.purpose, "evidence_ids": [e.id for e in rows]},
        at=datetime.now(SHANGHAI),
    )
    return {"evidence": evidence_list(session, rows, user.role)}, 201
