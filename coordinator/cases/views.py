"""Reports and cases API: thin views over the intake and case services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import FileStorage

from coordinator.api import GEOJSON, add_link_headers, endpoint
from coordinator.cases import intake, queries, workflow
from coordinator.cases.models import CaseTransfer
from coordinator.cases.presenters import CasePresenter, case_districts
from coordinator.cases.schemas import (
    ActionIn,
    CaseDetail,
    CaseFeatureCollection,
    CasePage,
    CaseQuery,
    CategoryList,
    Inbox,
    IntakeOut,
    ReasonIn,
    ReportIn,
    ResolveIn,
    TransferDecisionIn,
    TransferIn,
    TransferResult,
    VoidIn,
    border_pair_key,
)
from coordinator.errors import BadRequest, ValidationFailed
from coordinator.evidence import services as evidence
from coordinator.evidence.models import Evidence
from coordinator.evidence.presenters import evidence_list
from coordinator.evidence.schemas import PHOTOS_PART
from coordinator.extensions import db_session, writes_on_read
from coordinator.geojson import Bbox
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.permissions import allowed_report_sources, contact_visibility_for, report_source
from coordinator.policy import current_caller, current_user
from coordinator.refcache import cached
from coordinator.security import no_store
from coordinator.settings import get_settings
from coordinator.worktime import SHANGHAI, WorkCalendar
from coordinator.worktime.services import load_calendar

bp = Blueprint("cases", __name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def current_calendar() -> WorkCalendar:
    """The working-time calendar for SLA deadlines: Chinese holidays with 调休 plus the admin overrides
    (`flask calendar override`). Served from the reference cache: an override made through this process
    applies to the next request, one made elsewhere (the CLI, another worker) within refcache.TTL_S."""
    calendar: WorkCalendar | None = current_app.extensions.get("coordinator.calendar")
    return calendar or cached(db_session(), "calendar", load_calendar)


def intake_payload(result: intake.IntakeResult, photos: Sequence[Evidence] = ()) -> dict[str, Any]:
    """The answer to a report: the same for a replay (its photos are those stored the first time)."""
    session = db_session()
    if result.replayed:
        photos = evidence.list_evidence(session, "report", result.report_id)
    return {
        "report_id": result.report_id,
        "case_id": result.case_facts.id,
        "case_number": result.case_facts.number,
        "merged": result.merged,
        "routing": result.case_facts.routing,
        "evidence": evidence_list(session, photos, current_caller().role),
    }


@bp.get("/categories")
@endpoint(
    summary="Report categories (数字城管 event classes) with dedup and SLA limits",
    tags=["cases"],
    response=CategoryList,
)
def list_categories() -> dict[str, Any]:
    return {
        "categories": [
            {
                "code": c.code,
                "name": c.name_zh,
                "name_en": c.name_en,
                "major_class": c.major_class,
                "dedup_radius_m": c.dedup_radius_m,
                "dedup_window_h": c.dedup_window_h,
                "claim_limit": f"{c.claim_limit_value:g} {c.claim_limit_unit}",
                "resolve_limit": f"{c.resolve_limit_value:g} {c.resolve_limit_unit}",
            }
            for c in queries.list_categories(db_session())
        ]
    }


@bp.post("/reports")
@needs_locator
@endpoint(
    summary="Submit a report; it opens a routed case or joins a nearby open one",
    description="Send an `Idempotency-Key` header (or an `external_id` per source) to make retries safe: "
    "the same key returns the first answer (header `Idempotent-Replayed: true`), never a second report. "
    "With photos, send multipart/form-data: the report as JSON in the part `report`, up to 9 images in "
    "`photos` (checked by decoding them: 415 for a file that is not a JPEG, PNG or WebP image, 413 over "
    "the size or pixel limit — and then nothing is stored); they are stored without EXIF/GPS.",
    tags=["cases"],
    body=ReportIn,
    file_parts=(PHOTOS_PART,),
    json_part="report",
    response=IntakeOut,
    status=201,
    errors=(400, 401, 403, 409, 413, 415, 503),
)
def submit_report(body: ReportIn, uploads: dict[str, list[FileStorage]]) -> Response:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 1–200 characters")
    caller = current_caller()
    try:
        source = report_source(caller.role, body.source)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc),
            code="source_not_allowed",
            details={"allowed": list(allowed_report_sources(caller.role))},
        ) from exc
    data = body.to_input(source=source, idempotency_key=key)
    # Every photo is checked before the report is taken: a bad one refuses the request, nothing stored.
    photos = evidence.prepare_uploads(uploads[PHOTOS_PART.name], limits=evidence.current_limits())
    session = db_session()
    result = intake.submit_report(
        session, current_locator(), data, submitter=caller, calendar=current_calendar()
    )
    stored = []
    if not result.replayed:
        stored = [
            evidence.store_prepared(
                session,
                photo,
                subject_type="report",
                subject_id=result.report_id,
                purpose="report",
                uploaded_by_id=caller.id,
            )
            for photo in photos
        ]
    response = jsonify(intake_payload(result, stored))
    response.status_code = 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/cases")
@endpoint(
    summary="List cases (filters, pagination; JSON or GeoJSON)",
    tags=["cases"],
    query=CaseQuery,
    response=CasePage,
    alternatives={GEOJSON: CaseFeatureCollection},
    errors=(401, 403),
)
def list_cases(query: CaseQuery) -> dict[str, Any] | Response:
    session = db_session()
    flt = queries.CaseFilter(
        status=[query.status] if query.status else [],
        squad=query.squad,
        district=query.district,
        category=query.category,
        in_border_zone=query.in_border_zone,
        border_pair=border_pair_key(query.border_pair) if query.border_pair else None,
        bbox=Bbox.parse(query.bbox) if query.bbox else None,
        created_from=query.created_from,
        created_to=query.created_to,
    )
    cases, total = queries.list_cases(session, flt, page=query.page, per_page=query.per_page)
    presenter = CasePresenter(session, cases, now=datetime.now(SHANGHAI), viewer=current_user())
    links = page_links(query, total)
    if query.format == "geojson":
        response = jsonify(
            {
                "type": "FeatureCollection",
                "page": query.page,
                "per_page": query.per_page,
                "total": total,
                "features": [presenter.feature(c) for c in cases],
                "links": links,
            }
        )
        response.mimetype = GEOJSON
    else:
        response = jsonify(
            {
                "cases": [presenter.summary(c) for c in cases],
                "page": query.page,
                "per_page": query.per_page,
                "total": total,
            }
        )
    add_link_headers(response, links)
    return response


def page_links(query: CaseQuery, total: int) -> list[dict[str, str]]:
    """`self`, `next` and `prev` of a page of the case list: the same request at another page."""
    media = GEOJSON if query.format == "geojson" else "application/json"
    args = {k: v for k, v in request.args.items() if k != "page" and v != ""}

    def at(page: int) -> str:
        return request.base_url + "?" + urlencode({**args, "page": page})

    links = [{"href": at(query.page), "rel": "self", "type": media, "title": "This page"}]
    if query.page * query.per_page < total:
        links.append({"href": at(query.page + 1), "rel": "next", "type": media, "title": "Next page"})
    if query.page > 1:
        links.append({"href": at(query.page - 1), "rel": "prev", "type": media, "title": "Previous page"})
    return links


@bp.get("/cases/<id:case_id>")
@writes_on_read  # the audit row of an unmasked contact read
@endpoint(
    summary="One case with reports, routing and audit trail",
    tags=["cases"],
    response=CaseDetail,
    errors=(401, 403, 404),
)
def get_case(case_id: int) -> dict[str, Any]:
    session = db_session()
    case = queries.get_case(session, case_id)
    viewer = current_user()
    if contact_visibility_for(viewer, case_districts(case)) == "full":
        no_store()  # full contact data: no cache (browser, proxy) may keep this answer
    nearby_m = get_settings().renovation_nearby_m
    presenter = CasePresenter(
        session, [case], now=datetime.now(SHANGHAI), viewer=viewer, renovation_nearby_m=nearby_m
    )
    return presenter.detail(case, viewer)


@bp.get("/inbox")
@endpoint(
    summary="The caller's open cases: claimable first, then overdue",
    tags=["cases"],
    response=Inbox,
    errors=(401, 403),
)
def inbox() -> dict[str, Any]:
    session = db_session()
    now = datetime.now(SHANGHAI)
    cases = queries.inbox(session, current_user(), now=now)
    presenter = CasePresenter(session, cases, now=now, viewer=current_user())
    return {"cases": [presenter.summary(c) for c in cases]}


# -- lifecycle actions: POST /cases/{id}/<action>; each answers with the case as it now is ------------

ACTION_ERRORS = (401, 403, 404, 409)
ACTION_HELP = (
    "403 when the caller has no part in this action on this case; 409 when the case is not in a state "
    "that allows it (details.allowed lists what the caller may do now; for claims details.claimed_by "
    "names the holder)."
)


def _case_answer(case_id: int) -> dict[str, Any]:
    session = db_session()
    session.expire_all()  # show the row as the conditional UPDATEs left it
    case = queries.get_case(session, case_id)
    viewer = current_user()
    nearby_m = get_settings().renovation_nearby_m
    presenter = CasePresenter(
        session, [case], now=datetime.now(SHANGHAI), viewer=viewer, renovation_nearby_m=nearby_m
    )
    return presenter.detail(case, viewer)


@bp.post("/cases/<id:case_id>/claim")
@endpoint(
    summary="Claim a routed case (lead or partner squad); exactly one concurrent claim wins",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def claim_case(case_id: int) -> dict[str, Any]:
    workflow.claim(
        db_session(), case_id, current_user(), now=datetime.now(SHANGHAI), calendar=current_calendar()
    )
    return _case_answer(case_id)


@bp.post("/cases/<id:case_id>/start")
@endpoint(
    summary="Start handling a claimed case (claimed → in_progress)",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=ActionIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def start_case(case_id: int, body: ActionIn) -> dict[str, Any]:
    workflow.start(db_session(), case_id, current_user(), now=datetime.now(SHANGHAI), note=body.note)
    return _case_answer(case_id)


@bp.post("/cases/<id:case_id>/resolve")
@endpoint(
    summary="Report a case handled, with evidence (note + photos, or a dispatcher's waiver)",
    description=ACTION_HELP + " 422 `evidence_required` without a note and a photo or a waiver. The "
    "photos are the URLs in `photos`, or else the `after` photos uploaded to the case.",
    tags=["case lifecycle"],
    body=ResolveIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def resolve_case(case_id: int, body: ResolveIn) -> dict[str, Any]:
    photos = [str(p) for p in body.photos] or uploaded_after_photos(case_id)
    evidence = workflow.Evidence(note=body.note, photos=photos, waiver=body.waive_evidence)
    workflow.resolve(db_session(), case_id, current_user(), evidence, now=datetime.now(SHANGHAI))
    return _case_answer(case_id)


def uploaded_after_photos(case_id: int) -> list[str]:
    """The URLs of the `after` photos uploaded to the case (POST /cases/{id}/evidence)."""
    from coordinator.evidence.presenters import evidence_url
    from coordinator.evidence.services import list_evidence

    return [evidence_url(e) for e in list_evidence(db_session(), "case", case_id, purpose="after")]


@bp.post("/cases/<id:case_id>/verify")
@endpoint(
    summary="Verify a resolved case (核查; the case's dispatcher)",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=ActionIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def verify_case(case_id: int, body: ActionIn) -> dict[str, Any]:
    workflow.verify(db_session(), case_id, current_user(), now=datetime.now(SHANGHAI), note=body.note)
    return _case_answer(case_id)


@bp.post("/cases/<id:case_id>/close")
@endpoint(
    summary="Close a verified case (结案; the case's dispatcher)",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=ActionIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def close_case(case_id: int, body: ActionIn) -> dict[str, Any]:
    workflow.close(
        db_session(),
        case_id,
        current_user(),
        now=datetime.now(SHANGHAI),
        note=body.note,
        calendar=current_calendar(),
    )
    return _case_answer(case_id)


@bp.post("/cases/<id:case_id>/reopen")
@endpoint(
    summary="Reopen a resolved, verified or closed case (back to in_progress)",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=ReasonIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def reopen_case(case_id: int, body: ReasonIn) -> dict[str, Any]:
    workflow.reopen(db_session(), case_id, current_user(), now=datetime.now(SHANGHAI), reason=body.reason)
    return _case_answer(case_id)


@bp.post("/cases/<id:case_id>/void")
@endpoint(
    summary="Void an open case: a duplicate (name the case) or not actionable, with a reason",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=VoidIn,
    response=CaseDetail,
    errors=ACTION_ERRORS,
)
def void_case(case_id: int, body: VoidIn) -> dict[str, Any]:
    workflow.void(
        db_session(),
        case_id,
        current_user(),
        now=datetime.now(SHANGHAI),
        kind=body.kind,
        reason=body.reason,
        duplicate_of=body.duplicate_of,
    )
    return _case_answer(case_id)


def _transfer_answer(case_id: int, transfer_id: int) -> dict[str, Any]:
    case = _case_answer(case_id)
    session = db_session()
    transfer = session.get(CaseTransfer, transfer_id)
    assert transfer is not None  # it was just created or decided in this transaction
    squad = queries.squads_by_id(session, {transfer.to_squad_id}).get(transfer.to_squad_id)
    return {
        "transfer": {
            "id": transfer.id,
            "state": transfer.state,
            "to_squad": None
            if squad is None
            else {"code": squad.code, "name": squad.name_zh, "district": squad.district_code},
            "reason": transfer.reason,
            "requested_at": transfer.requested_at.astimezone(SHANGHAI).isoformat(),
        },
        "case": case,
    }


@bp.post("/cases/<id:case_id>/transfers")
@endpoint(
    summary="Request a transfer (退单/移交) to another squad; the owner stays until it accepts",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=TransferIn,
    response=TransferResult,
    status=201,
    errors=ACTION_ERRORS,
)
def request_transfer(case_id: int, body: TransferIn) -> dict[str, Any]:
    transfer = workflow.request_transfer(
        db_session(),
        case_id,
        current_user(),
        to_squad=body.to_squad,
        reason=body.reason,
        now=datetime.now(SHANGHAI),
    )
    return _transfer_answer(case_id, transfer.id)


@bp.post("/cases/<id:case_id>/transfers/<id:transfer_id>/accept")
@endpoint(
    summary="Accept a transfer (the receiving squad's leader or its dispatcher): lead moves, old lead "
    "becomes partner",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=TransferDecisionIn,
    response=TransferResult,
    errors=ACTION_ERRORS,
)
def accept_transfer(case_id: int, transfer_id: int, body: TransferDecisionIn) -> dict[str, Any]:
    workflow.accept_transfer(
        db_session(),
        case_id,
        transfer_id,
        current_user(),
        now=datetime.now(SHANGHAI),
        calendar=current_calendar(),
        reason=body.reason,
    )
    return _transfer_answer(case_id, transfer_id)


@bp.post("/cases/<id:case_id>/transfers/<id:transfer_id>/decline")
@endpoint(
    summary="Decline a transfer (the receiving squad's leader or its dispatcher, with a reason): the "
    "owner stays",
    description=ACTION_HELP,
    tags=["case lifecycle"],
    body=TransferDecisionIn,
    response=TransferResult,
    errors=ACTION_ERRORS,
)
def decline_transfer(case_id: int, transfer_id: int, body: TransferDecisionIn) -> dict[str, Any]:
    workflow.decline_transfer(
        db_session(), case_id, transfer_id, current_user(), now=datetime.now(SHANGHAI), reason=body.reason
    )
    return _transfer_answer(case_id, transfer_id)
