"""Community API: reporters' reports, ratings, disputes and rewards; reward administration; compounds,
renovation filings and inspections. Thin views: parse, call a service, serialize."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint
from werkzeug.datastructures import FileStorage

from coordinator.api import endpoint
from coordinator.cases.models import Report
from coordinator.cases.views import current_calendar
from coordinator.citizen import services as citizen
from coordinator.community import case_filings, documents, feedback, renovation, rewards
from coordinator.community.presenters import (
    compound_out,
    feedback_out,
    filing_detail,
    filing_summary,
    inspection_out,
    ledger_line,
    my_report,
    rule_out,
)
from coordinator.community.schemas import (
    DOCUMENTS_PART,
    INSPECTION_PHOTOS_PART,
    CompoundIn,
    CompoundList,
    CompoundOut,
    DisputeIn,
    DisputeOut,
    DocumentForm,
    FeedbackOut,
    FilingDetail,
    FilingIn,
    FilingList,
    FilingListQuery,
    FlaggedList,
    InspectionIn,
    InspectionOut,
    MyReports,
    NoteIn,
    PhotoForm,
    RatingIn,
    RedemptionIn,
    RedemptionOut,
    RenovationStats,
    ResubmitIn,
    ReturnIn,
    RewardAccount,
    RewardRuleIn,
    RewardRuleList,
    RewardRuleOut,
    RewardTotals,
    StatusRewards,
    TotalsQuery,
)
from coordinator.errors import NotFound, ValidationFailed
from coordinator.evidence.presenters import evidence_list
from coordinator.evidence.schemas import EvidenceList
from coordinator.extensions import db_session, writes_on_read
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.policy import current_user
from coordinator.settings import get_settings
from coordinator.worktime import SHANGHAI

bp = Blueprint("community", __name__)


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def _window() -> int:
    return get_settings().feedback_window_days


# -- reporters ---------------------------------------------------------------------------------------------


def _my_report(report_id: int) -> Report:
    report = db_session().get(Report, report_id)
    if report is None or report.submitted_by_id != current_user().id:
        raise NotFound(f"no report {report_id} of yours")
    return report


@bp.get("/my/reports")
@endpoint(
    summary="The caller's reports: case progress, the squad's feedback, rating and dispute",
    tags=["reporters"],
    response=MyReports,
)
def my_reports() -> dict[str, Any]:
    session = db_session()
    rows = feedback.my_reports(session, current_user())
    return {"reports": [my_report(session, r, window_days=_window()) for r in rows]}


@bp.post("/my/reports/<id:report_id>/rating")
@endpoint(
    summary="Rate the resolution of one's report (1–5), within the feedback window, once",
    tags=["reporters"],
    body=RatingIn,
    response=FeedbackOut,
    status=201,
    errors=(404, 409),
)
def rate_my_report(report_id: int, body: RatingIn) -> tuple[dict[str, Any] | None, int]:
    row = feedback.rate(
        db_session(),
        _my_report(report_id),
        stars=body.stars,
        comment=body.comment,
        via="account",
        now=_now(),
        window_days=_window(),
    )
    return feedback_out(row), 201


@bp.post("/my/reports/<id:report_id>/dispute")
@endpoint(
    summary="Dispute the resolution of one's report: the case goes back to its dispatcher",
    tags=["reporters"],
    body=DisputeIn,
    response=DisputeOut,
    status=201,
    errors=(404, 409),
)
def dispute_my_report(report_id: int, body: DisputeIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    report = _my_report(report_id)
    case = feedback.dispute(
        session, report, current_user(), reason=body.reason, via="account", now=_now(), window_days=_window()
    )
    row = feedback.existing_feedback(session, report.id)["dispute"]
    return {"case_number": case.number, "status": case.status, "dispute": feedback_out(row)}, 201


@bp.get("/my/rewards")
@endpoint(
    summary="The caller's reward points: balance and history", tags=["reporters"], response=RewardAccount
)
def my_rewards() -> dict[str, Any]:
    session = db_session()
    who = rewards.Reporter(user_id=current_user().id)
    return {
        "balance": rewards.balance(session, who),
        "history": [ledger_line(e) for e in rewards.history(session, who)],
    }


# -- reward administration ---------------------------------------------------------------------------------


@bp.get("/rewards/rules")
@endpoint(
    summary="Reward rules (which categories and sources earn, how much, caps)",
    tags=["rewards"],
    response=RewardRuleList,
)
def list_reward_rules() -> dict[str, Any]:
    return {"rules": [rule_out(r) for r in rewards.list_rules(db_session())]}


@bp.put("/rewards/rules/<name>")
@endpoint(
    summary="Create or replace a reward rule by name",
    tags=["rewards"],
    body=RewardRuleIn,
    response=RewardRuleOut,
    errors=(409,),
)
def put_reward_rule(name: str, body: RewardRuleIn) -> dict[str, Any]:
    values = body.model_dump()
    values["category_code"] = values.pop("category")
    if (values["burst_count"] is None) != (values["burst_minutes"] is None):
        raise ValidationFailed("burst_count and burst_minutes go together")
    return rule_out(rewards.put_rule(db_session(), name[:64], values))


@bp.post("/rewards/redemptions")
@endpoint(
    summary="Redeem a reporter's points against a reference (never below zero)",
    tags=["rewards"],
    body=RedemptionIn,
    response=RedemptionOut,
    status=201,
    errors=(404, 409),
)
def redeem_points(body: RedemptionIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    who = rewards.reporter_for(session, username=body.username, phone=body.phone)
    entry = rewards.redeem(
        session,
        who,
        points=body.points,
        reference=body.reference,
        actor=current_user(),
        note=body.note,
        now=_now(),
    )
    return {"entry": ledger_line(entry), "balance": rewards.balance(session, who)}, 201


@bp.get("/rewards/totals")
@endpoint(
    summary="Points earned, revoked and redeemed per district in a month",
    tags=["rewards"],
    query=TotalsQuery,
    response=RewardTotals,
)
def reward_totals(query: TotalsQuery) -> dict[str, Any]:
    year, month = (int(p) for p in query.month.split("-"))
    rows = rewards.totals(db_session(), date(year, month, 1))
    return {"month": query.month, "districts": [vars(r) for r in rows]}


@bp.get("/rewards/flagged")
@endpoint(summary="Earnings flagged by the abuse checks (bursts)", tags=["rewards"], response=FlaggedList)
def flagged_rewards() -> dict[str, Any]:
    return {
        "entries": [{**ledger_line(e), "district": e.district_code} for e in rewards.flagged(db_session())]
    }


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
    tags=["renovation"],
    body=FilingIn,
    response=FilingDetail,
    status=201,
    errors=(404,),
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


# -- the citizen's status link (no account: the secret token is the credential) ----------------------------


def _linked_report(token: str) -> Report:
    session = db_session()
    report, _case = citizen.status_subjects(session, citizen.resolve_token(session, token))
    return report


@bp.post("/status/<token>/rating")
@endpoint(
    summary="Rate the resolution through the secret status link (1–5), within the window, once",
    tags=["reporters"],
    body=RatingIn,
    response=FeedbackOut,
    status=201,
    errors=(404, 409),
)
def rate_by_status_link(token: str, body: RatingIn) -> tuple[dict[str, Any] | None, int]:
    row = feedback.rate(
        db_session(),
        _linked_report(token),
        stars=body.stars,
        comment=body.comment,
        via="status_link",
        now=_now(),
        window_days=_window(),
    )
    return feedback_out(row), 201


@bp.post("/status/<token>/dispute")
@endpoint(
    summary="Dispute the resolution through the secret status link: the case goes back to its dispatcher",
    tags=["reporters"],
    body=DisputeIn,
    response=DisputeOut,
    status=201,
    errors=(404, 409),
)
def dispute_by_status_link(token: str, body: DisputeIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    report = _linked_report(token)
    case = feedback.dispute(
        session,
        report,
        feedback.status_link_actor(report),
        reason=body.reason,
        via="status_link",
        now=_now(),
        window_days=_window(),
    )
    row = feedback.existing_feedback(session, report.id)["dispute"]
    return {"case_number": case.number, "status": case.status, "dispute": feedback_out(row)}, 201


@bp.get("/status/<token>/rewards")
@endpoint(
    summary="The reward points of the phone the status link's report left (no account)",
    tags=["reporters"],
    response=StatusRewards,
    errors=(404,),
)
def rewards_by_status_link(token: str) -> dict[str, Any]:
    session = db_session()
    report = _linked_report(token)
    if not report.reporter_phone:
        raise ValidationFailed("this report left no phone number: it earns no points", code="no_phone")
    who = rewards.Reporter(phone_hash=rewards.phone_hash(report.reporter_phone))
    return {
        "balance": rewards.balance(session, who),
        "history": [ledger_line(e) for e in rewards.history(session, who)],
    }
