"""Citizens' reports without an account, and their status links.

`submit_citizen_report` takes a report as the anonymous path receives it: rate limits first (per client
IP, per phone number), every photo checked before anything is written, then the intake every door uses,
the photos stored as the report's evidence, and a status link whose token is handed out once.
`public_status` is what that link shows: progress, the squad's feedback and the after photos — never
the reporter's contact data, the routing internals, names of staff or internal notes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases import intake
from coordinator.cases.models import Case, Category, Report
from coordinator.citizen.models import StatusLink
from coordinator.errors import NotFound
from coordinator.evidence import services as evidence
from coordinator.evidence.files import PreparedFile
from coordinator.evidence.models import Evidence
from coordinator.evidence.storage import BlobStore
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator

TOKEN_BYTES = 24  # 192 bits: not guessable, and short enough for a QR code or an SMS
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
REPORT_PURPOSE = "report"
# Mainland mobiles (11 digits, 1[3-9]…) and landlines (0 + area code + 7–8 digits), as people write them.
_PHONE = re.compile(r"^(?:1[3-9][0-9]{9}|0[1-9][0-9]{1,2}[0-9]{7,8})$")
_PHONE_SEPARATORS = re.compile(r"[\s().·\-]")

STATUS_ZH = {
    "reported": "已受理",
    "routed": "已派遣",
    "claimed": "已认领",
    "in_progress": "处置中",
    "resolved": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "void": "已作废",
}
# The trail entries a citizen sees, in words; every other kind (transfers, escalations, photo uploads,
# merges of other people's reports) is the agencies' business.
# ("reported" is the citizen's own `received` entry; on a merged case it was someone else's report.)
PUBLIC_EVENTS = {
    "routed": "已派遣至处置中队",
    "claimed": "中队已认领",
    "started": "开始处置",
    "resolved": "处置完毕",
    "verified": "已核查",
    "closed": "已结案",
    "reopened": "重新处置",
    "disputed": "举报人对处置结果提出异议，待核查",
    "voided": "已作废",
}
FEEDBACK_STATUSES = ("resolved", "verified", "closed")


def normalize_phone(raw: str) -> str | None:
    """A Chinese phone number as digits (full-width digits folded, separators and +86 dropped), or None
    if it is not a mainland mobile or landline number."""
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text if _PHONE.fullmatch(text) else None


def phone_key(phone: str, secret: str) -> str:
    """The rate-limit key of a phone number: a keyed hash, so the limit table holds no phone numbers."""
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:32]


def hash_token(token: str) -> str:
    """What the database keeps of a status token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class CitizenReceipt:
    """What the citizen gets back: the case number and the status token (shown this once)."""

    report_id: int
    case_number: str
    merged: bool
    token: str
    photos: int


def submit_citizen_report(
    session: Session,
    locator: Locator,
    data: intake.ReportInput,
    prepared_photos: Sequence[PreparedFile],
    *,
    calendar: WorkCalendar,
    store: BlobStore | None = None,
    now: datetime | None = None,
) -> CitizenReceipt:
    """File an anonymous citizen report with its (already checked) photos and make its status link."""
    now = now or datetime.now(SHANGHAI)
    result = intake.submit_report(
        session, locator, data, submitter=None, anonymous=True, calendar=calendar, now=now
    )
    for photo in prepared_photos:
        evidence.store_prepared(
            session,
            photo,
            subject_type="report",
            subject_id=result.report_id,
            purpose=REPORT_PURPOSE,
            uploaded_by_id=None,
            store=store,
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(StatusLink(report_id=result.report_id, token_hash=hash_token(token), created_at=now))
    session.flush()
    return CitizenReceipt(
        report_id=result.report_id,
        case_number=result.case_facts.number,
        merged=result.merged,
        token=token,
        photos=len(prepared_photos),
    )


def resolve_token(session: Session, token: str) -> StatusLink:
    """The status link of `token`; 404 (the same answer whatever is wrong with it) if there is none."""
    link = None
    if re.fullmatch(TOKEN_PATTERN, token):
        link = session.scalars(select(StatusLink).where(StatusLink.token_hash == hash_token(token))).first()
    if link is None:
        raise NotFound("没有这个查询链接（链接有误或已失效）")
    return link


def status_subjects(session: Session, link: StatusLink) -> tuple[Report, Case]:
    """The report and the case of a status link."""
    report = session.get_one(Report, link.report_id)
    return report, session.get_one(Case, report.case_id)


def public_evidence(session: Session, link: StatusLink) -> list[Evidence]:
    """The files a status link shows: the citizen's own photos and the squad's after photos."""
    report, case = status_subjects(session, link)
    own = evidence.list_evidence(session, "report", report.id)
    after = evidence.list_evidence(session, "case", case.id, purpose="after")
    return own + after


def public_status(session: Session, link: StatusLink, *, base: str) -> dict[str, Any]:
    """What the status link shows (`StatusOut`); file URLs under `base` (the status API URL)."""
    report, case = status_subjects(session, link)
    category = session.get_one(Category, case.category_code)
    timeline = [{"at": _local(report.received_at), "kind": "received", "label": "您的反映已收到"}]
    for event in case.events:
        if event.kind not in PUBLIC_EVENTS:
            continue
        timeline.append({"at": _local(event.at), "kind": event.kind, "label": PUBLIC_EVENTS[event.kind]})
    feedback = None
    if case.status in FEEDBACK_STATUSES and case.resolution_note is not None:
        feedback = {"note": case.resolution_note, "resolved_at": _local(case.resolved_at)}
    own = evidence.list_evidence(session, "report", report.id)
    after = evidence.list_evidence(session, "case", case.id, purpose="after")
    return {
        "case_number": case.number,
        "status": case.status,
        "status_label": STATUS_ZH.get(case.status, case.status),
        "category": {"code": category.code, "name": category.name_zh},
        "description": report.description,
        "submitted_at": _local(report.received_at),
        "updated_at": _local(case.updated_at),
        "timeline": timeline,
        "feedback": feedback,
        "your_photos": [_public_photo(e, base) for e in own],
        "after_photos": [_public_photo(e, base) for e in after],
    }


def _public_photo(e: Evidence, base: str) -> dict[str, Any]:
    url = f"{base}/evidence/{e.id}"
    return {
        "id": e.id,
        "media_type": e.media_type,
        "width": e.width,
        "height": e.height,
        "url": url,
        "thumbnail_url": f"{url}/thumbnail" if e.thumbnail_sha256 else None,
        "uploaded_at": _local(e.created_at),
    }


def _local(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(SHANGHAI).isoformat()
