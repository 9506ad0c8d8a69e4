"""Open311 GeoReport v2 over our reports and cases: mapping, filters, and intake through the one core.

A *service request* is one of our reports, so `service_request_id` is the report id: it exists the
moment the POST answers, never changes, and is unique per submission. The case number cannot be the
id — several reports merge into one case, so two citizens would share an id and a request posted
after a merge would "already exist". The case number travels in `service_notice` instead, so a
citizen can read it over the phone. A request's status is its case's status mapped to open/closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from coordinator.auth.services import Actor
from coordinator.boundaries.services import current_areas
from coordinator.cases.intake import IntakeResult, ReportInput, submit_report
from coordinator.cases.models import OPEN_STATUSES, Case, Category, Report
from coordinator.errors import NotFound, ValidationFailed
from coordinator.privacy import redact_free_text
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator

MAX_SPAN = timedelta(days=90)
STATUS_NOTES = {
    "reported": "已受理",
    "routed": "已派遣，待中队认领",
    "claimed": "中队已认领",
    "in_progress": "处置中",
    "resolved": "已处置，待核查",
    "verified": "已核查，待结案",
    "closed": "已结案",
    "void": "已作废",
}


def open311_status(case_status: str) -> str:
    """Our lifecycle mapped to the spec's two statuses."""
    return "open" if case_status in OPEN_STATUSES else "closed"


def service_notice(case_number: str, merged: bool) -> str:
    """What a citizen is told: the case number to quote on the phone (and whether it joined one)."""
    notice = f"案件编号 {case_number}"
    return notice + "（已并入附近同类案件）" if merged else notice


def _local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def get_service(session: Session, code: str) -> Category:
    """An active category as an Open311 service, or NotFound."""
    category = session.get(Category, code)
    if category is None or not category.active:
        raise NotFound(f"no service_code {code!r}; see services.json", details={"service_code": code})
    return category


@dataclass(frozen=True)
class OpenRequest:
    """A POST requests.json after form parsing (contact fields are optional)."""

    service_code: str
    lat: float
    long: float
    crs: str = "wgs84"
    description: str = ""
    media_url: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    idempotency_key: str | None = None


def reporter_name(first: str | None, last: str | None) -> str | None:
    """A display name from Open311's first/last name (Chinese names: family name first, no space)."""
    parts = [p.strip() for p in (last, first) if p and p.strip()]
    if not parts:
        return None
    if all(ord(ch) > 0x2E80 for part in parts for ch in part):
        return "".join(parts)
    return " ".join(reversed(parts))


def submit_request(
    session: Session,
    locator: Locator,
    data: OpenRequest,
    *,
    submitter: Actor,
    calendar: WorkCalendar,
    now: datetime | None = None,
) -> IntakeResult:
    """Submit through the one intake core (coordinator.cases.intake); unknown codes are 404."""
    get_service(session, data.service_code)
    report = ReportInput(
        category=data.service_code,
        lon=data.long,
        lat=data.lat,
        crs=data.crs,
        description=data.description,
        source="citizen",
        photos=[data.media_url] if data.media_url else [],
        reporter_name=reporter_name(data.first_name, data.last_name),
        reporter_phone=data.phone,
        idempotency_key=data.idempotency_key,
    )
    return submit_report(session, locator, report, submitter=submitter, calendar=calendar, now=now)


def set_media_url(session: Session, report_id: int, url: str) -> None:
    """Name an uploaded `media` file as the report's photo (what `media_url` answers show)."""
    session.execute(update(Report).where(Report.id == report_id).values(photos=[url]))


@dataclass(frozen=True)
class RequestFilter:
    """GET requests.json filters, already defaulted and checked (see `request_filter`)."""

    ids: Sequence[int] = ()
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_request_id(value: str) -> int:
    """A service_request_id (our report id), or NotFound for anything that cannot be one."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # '²'.isdigit() is True
        raise NotFound(f"no service request {value!r}", details={"service_request_id": value})
    return int(text)


def request_filter(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: datetime | None,
    end_date: datetime | None,
    status: str | None,
    now: datetime,
) -> RequestFilter:
    """Apply the spec's defaults: ids override everything; the date range defaults to the last 90 days
    and may not span more than 90 days (ValidationFailed, i.e. 400)."""
    if service_request_id is not None:
        ids = []
        for part in _split(service_request_id):
            try:
                ids.append(parse_request_id(part))
            except NotFound:
                continue  # an id that cannot exist matches nothing (the list answers what exists)
        return RequestFilter(ids=ids or [-1])
    if start_date is not None and end_date is not None:
        start, end = start_date, end_date
    elif start_date is not None:
        start, end = start_date, start_date + MAX_SPAN
    elif end_date is not None:
        start, end = end_date - MAX_SPAN, end_date
    else:
        start, end = now - MAX_SPAN, now
    if end < start:
        raise ValidationFailed("end_date is before start_date", code="bad_date_range")
    if end - start > MAX_SPAN:
        raise ValidationFailed("start_date to end_date may not span more than 90 days", code="bad_date_range")
    statuses = set(_split(status))
    return RequestFilter(
        service_codes=_split(service_code),
        start=start,
        end=end,
        statuses=() if statuses in (set(), {"open", "closed"}) else sorted(statuses),
    )


def find_requests(session: Session, flt: RequestFilter, *, page: int, page_size: int) -> list[Report]:
    """Reports matching the filter, newest first, with their cases loaded."""
    stmt = select(Report).join(Report.case).options(joinedload(Report.case))
    if flt.ids:
        stmt = stmt.where(Report.id.in_(list(flt.ids)))
    else:
        if flt.service_codes:
            stmt = stmt.where(Report.category_code.in_(list(flt.service_codes)))
        if flt.start is not None:
            stmt = stmt.where(Report.received_at >= flt.start)
        if flt.end is not None:
            stmt = stmt.where(Report.received_at <= flt.end)
        if flt.statuses == ["open"]:
            stmt = stmt.where(Case.status.in_(OPEN_STATUSES))
        elif flt.statuses == ["closed"]:
            stmt = stmt.where(Case.status.not_in(OPEN_STATUSES))
    stmt = stmt.order_by(Report.received_at.desc(), Report.id.desc())
    return list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size)).unique())


def get_request(session: Session, request_id: str) -> Report:
    """One report by service_request_id, or NotFound."""
    report = session.scalars(
        select(Report).where(Report.id == parse_request_id(request_id)).options(joinedload(Report.case))
    ).one_or_none()
    if report is None:
        raise NotFound(f"no service request {request_id!r}", details={"service_request_id": request_id})
    return report


class RequestPresenter:
    """Serializes reports as Open311 service requests with a handful of lookups, no personal data: no
    contact fields, and contact details written into the description are masked."""

    def __init__(self, session: Session, reports: Sequence[Report]) -> None:
        self.categories = {c.code: c for c in session.scalars(select(Category))}
        squad_ids = {r.case.lead_squad_id for r in reports if r.case.lead_squad_id}
        unit_ids = {r.case.queue_unit_id for r in reports if r.case.queue_unit_id}
        self.squads = (
            {s.id: s.name_zh for s in session.scalars(select(Squad).where(Squad.id.in_(squad_ids)))}
            if squad_ids
            else {}
        )
        self.units = (
            {
                u.id: u.name_zh
                for u in session.scalars(select(DispatchUnit).where(DispatchUnit.id.in_(unit_ids)))
            }
            if unit_ids
            else {}
        )
        codes = {r.case.district_code for r in reports} | {r.case.town_code for r in reports}
        codes.discard(None)
        self.areas = (
            {a.code: a.name_zh for a in current_areas(session, codes=[c for c in codes if c])}
            if codes
            else {}
        )

    def agency(self, case: Case) -> str | None:
        """The lead squad, or the dispatcher queue that owns the case."""
        if case.lead_squad_id is not None:
            return self.squads.get(case.lead_squad_id)
        return self.units.get(case.queue_unit_id) if case.queue_unit_id is not None else None

    def address(self, case: Case) -> str | None:
        """District and town names (近似 when the town comes from approximate demo jurisdictions)."""
        parts = [self.areas[c] for c in (case.district_code, case.town_code) if c and c in self.areas]
        return " ".join(parts) if parts else None

    def request(self, report: Report) -> dict[str, Any]:
        """One service request."""
        case = report.case
        category = self.categories.get(report.category_code)
        return {
            "service_request_id": str(report.id),
            "status": open311_status(case.status),
            "status_notes": STATUS_NOTES.get(case.status),
            "service_name": category.name_zh if category else report.category_code,
            "service_code": report.category_code,
            # Published to anyone: phone numbers, ID numbers and e-mail addresses in the text are masked.
            "description": redact_free_text(report.description),
            "agency_responsible": self.agency(case),
            "service_notice": service_notice(case.number, report.merged),
            "requested_datetime": _local(report.received_at),
            "updated_datetime": _local(max(case.updated_at, report.received_at)),
            "expected_datetime": _local(case.resolve_by) if case.resolve_by else None,
            "address": self.address(case),
            "address_id": None,
            "zipcode": None,
            "lat": report.lat,
            "long": report.lon,
            "media_url": report.photos[0] if report.photos else None,
        }
