"""Schemas of the report/case API (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coordinator.cases.intake import ReportInput
from coordinator.evidence.schemas import EvidenceOut
from coordinator.geojson import BBOX_HELP, BBOX_PATTERN, CollectionType, FeatureType, Geometry, Link
from coordinator.geolocation.schemas import CRS_HELP, CrsName, Geolocation
from coordinator.validation import (
    MAX_PAGE,
    Latitude,
    Longitude,
    QueryModel,
    Rfc3339DateTime,
    WebUrl,
    check_input_datetime,
)

Source = Literal["citizen", "grid_worker", "volunteer", "camera", "drone", "hotline_12345", "patrol"]
# Reports found on a joint night patrol come in through the patrol log, not POST /reports.
StoredSource = Literal[
    "citizen", "grid_worker", "volunteer", "camera", "drone", "hotline_12345", "patrol", "joint_patrol"
]
Status = Literal["reported", "routed", "claimed", "in_progress", "resolved", "verified", "closed", "void"]
MAX_PHOTOS = 9
# A border pair in a query string: two district codes, either order (`310116-310120`).
BORDER_PAIR_PATTERN = r"^[0-9]{6}-[0-9]{6}$"
BORDER_PAIR_HELP = "Only cases of this border pair: two district codes in either order, e.g. `310116-310120`."


def border_pair_key(text: str) -> tuple[str, str]:
    """A border pair matching BORDER_PAIR_PATTERN as stored on case_file (smaller code first)."""
    a, b = sorted(text.split("-"))
    return a, b


def check_border_pair(text: str | None) -> str | None:
    """For a field validator: ValueError (a 422) when both codes of a pair are one district."""
    if text is not None and len(set(text.split("-"))) != 2:
        raise ValueError("must name two different districts")
    return text


# A device clock a little ahead is normal; an observation later than this is a wrong date.
OBSERVED_AT_SKEW = timedelta(hours=1)


class CategoryOut(BaseModel):
    """An event class reports can be filed under."""

    code: str = Field(description="Category code, e.g. `01-11`.")
    name: str = Field(description="Chinese name, e.g. 积存垃圾渣土（建筑垃圾偷倒）.")
    name_en: str
    major_class: str
    dedup_radius_m: float = Field(description="Reports within this distance of an open case join it.")
    dedup_window_h: float = Field(description="…if that case had a report within this many hours.")
    claim_limit: str = Field(description="Claim within, in working time, e.g. `2 work_hours`.")
    resolve_limit: str = Field(description="Resolve within, in working time, e.g. `1 work_days`.")


class CategoryList(BaseModel):
    """All active categories."""

    categories: list[CategoryOut]


class ReporterContact(BaseModel):
    """Optional reporter contact (kept minimal; shown masked to squads, never to the committee)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,30}$")


class ReportIn(BaseModel):
    """A report of a problem at a point."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=16, description="A code from GET /api/v1/categories.")
    description: str = Field(default="", max_length=4000)
    lon: Longitude = Field(description="Longitude (经度).")
    lat: Latitude = Field(description="Latitude (纬度).")
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)
    observed_at: Rfc3339DateTime | None = Field(
        default=None, description="When it was seen (RFC 3339 with offset)."
    )
    source: Source = "citizen"
    photos: list[WebUrl] = Field(default_factory=list, max_length=MAX_PHOTOS, description="Photo URLs.")
    reporter: ReporterContact | None = None
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The sender's own id; a second report with it is a retry.",
    )

    @field_validator("observed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("observed_at needs a timezone offset, e.g. 2026-11-27T08:30:00+08:00")
        if value is not None and value > datetime.now(UTC) + OBSERVED_AT_SKEW:
            raise ValueError("observed_at is in the future")
        return check_input_datetime(value)

    def to_input(self, *, idempotency_key: str | None = None) -> ReportInput:
        """The intake core's input for this report (the API and the bulk import both send it)."""
        return ReportInput(
            category=self.category,
            lon=self.lon,
            lat=self.lat,
            crs=self.crs,
            description=self.description,
            source=self.source,
            observed_at=self.observed_at,
            photos=[str(p) for p in self.photos],
            reporter_name=self.reporter.name if self.reporter else None,
            reporter_phone=self.reporter.phone if self.reporter else None,
            external_id=self.external_id,
            idempotency_key=idempotency_key,
        )


class CaseSquad(BaseModel):
    """A squad in a case."""

    code: str
    name: str
    district: str


class RoutedSquad(BaseModel):
    """A squad in the routing record (with its row id, as the record was stored)."""

    id: int
    code: str
    name: str
    district: str


class RoutedPartner(RoutedSquad):
    """A partner squad the routing added, and why."""

    reason: str


class RoutedQueue(BaseModel):
    """The dispatcher queue (dispatch unit) the routing gave the case to when no squad leads it."""

    id: int
    code: str
    name: str


class RoutingInputs(BaseModel):
    """What the routing decided from: the category and the located point."""

    category: str
    location: Geolocation


class Routing(BaseModel):
    """How the case was routed, and from what."""

    rule: str
    reason: str
    lead: RoutedSquad | None
    queue: RoutedQueue | None
    partners: list[RoutedPartner]
    notes: list[str]
    inputs: RoutingInputs


class IntakeOut(BaseModel):
    """The answer to a report (the same answer again for a retried request)."""

    report_id: int
    case_id: int
    case_number: str = Field(description="Human case number to read over the phone, e.g. JJ-2026-000123.")
    merged: bool = Field(description="The report joined an existing open case.")
    routing: Routing
    evidence: list[EvidenceOut] = Field(
        default_factory=list, description="The photos stored with the report (multipart `photos`)."
    )


class CaseDistrict(BaseModel):
    """The district a case lies in."""

    code: str
    name: str


class DeskRef(BaseModel):
    """A dispatch desk (dispatch unit) by code and name."""

    code: str
    name: str


class TransferOut(BaseModel):
    """A transfer request (退单/移交)."""

    id: int
    state: Literal["pending", "accepted", "declined"]
    to_squad: CaseSquad | None
    reason: str
    requested_at: datetime


class CaseOut(BaseModel):
    """A case as listed."""

    id: int
    number: str
    status: Status
    category: str
    category_name: str
    district: CaseDistrict | None
    in_border_zone: bool
    border_pair: tuple[str, str] | None
    lead_squad: CaseSquad | None
    queue: DeskRef | None = Field(description="The dispatcher queue owning the case when no squad does.")
    partner_squads: list[CaseSquad]
    claimed_by: str | None
    report_count: int
    lon: float
    lat: float
    created_at: datetime
    claim_by: datetime | None = Field(description="Claim deadline (Asia/Shanghai).")
    resolve_by: datetime | None = Field(description="Resolve deadline (Asia/Shanghai).")
    overdue: bool = Field(description="Past the claim deadline unclaimed, or past the resolve deadline.")
    escalated: bool = Field(description="The SLA sweep escalated it to the district dispatcher.")
    escalated_at: datetime | None
    escalated_to: DeskRef | None = Field(description="The dispatch desk it was escalated to.")
    overdue_at: datetime | None = Field(description="When the sweep flagged it overdue (resolve deadline).")
    pending_transfer: TransferOut | None
    allowed_actions: list[str] = Field(
        description="What the caller may do next: claim, start, resolve, verify, close, reopen, void, "
        "transfer, accept_transfer, decline_transfer."
    )
    synthetic: bool


class ReportedPoint(BaseModel):
    """The point as the report sent it, before conversion to WGS-84."""

    lon: float
    lat: float
    crs: CrsName


class ContactOut(BaseModel):
    """A reporter's contact as the caller may see it (masked for squads)."""

    name: str | None
    phone: str | None


class ReportOut(BaseModel):
    """A report inside a case."""

    id: int
    source: StoredSource
    description: str
    observed_at: datetime
    received_at: datetime
    lon: float
    lat: float
    input: ReportedPoint
    photos: list[str]
    reporter: ContactOut | None = Field(
        description="Full, masked or absent (null), by the caller's role; null without contact data."
    )
    merged: bool


class EventOut(BaseModel):
    """One audit-trail entry."""

    id: int
    at: datetime
    actor: str
    kind: str
    from_status: Status | None
    to_status: Status | None
    reason: str
    payload: dict[str, Any] = Field(description="Details of the event; their keys depend on its kind.")


class CaseActionItem(BaseModel):
    """An open action item of a liaison meeting that concerns the case."""

    id: int
    title: str
    due_date: date
    overdue: bool = Field(description="Past its due date.")
    owner: str = Field(description="The squad or district answerable (Chinese name).")
    meeting_id: int
    meeting_title: str


class CaseDetail(CaseOut):
    """A case with its reports, routing decision and audit trail."""

    routing: Routing
    reports: list[ReportOut]
    events: list[EventOut]
    action_items: list[CaseActionItem] = Field(
        default_factory=list,
        description="Open action items of liaison meetings linked to the case (gone once done or dropped).",
    )
    evidence: list[EvidenceOut] = Field(
        default_factory=list,
        description="Photos and documents: the squads' before/after photos (POST …/evidence) and the "
        "photos sent with the case's reports.",
    )


class CaseQuery(QueryModel):
    """Filters of the case list."""

    status: Status | None = None
    squad: str | None = Field(default=None, description="Squad code: cases it leads or partners on.")
    district: str | None = None
    category: str | None = None
    in_border_zone: bool | None = None
    border_pair: str | None = Field(default=None, pattern=BORDER_PAIR_PATTERN, description=BORDER_PAIR_HELP)
    bbox: str | None = Field(default=None, pattern=BBOX_PATTERN, description=BBOX_HELP)
    created_from: datetime | None = Field(default=None, description="Created at or after (RFC 3339).")
    created_to: datetime | None = Field(default=None, description="Created before (RFC 3339).")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    per_page: int = Field(default=50, ge=1, le=500)
    format: Literal["json", "geojson"] = "json"

    @field_validator("border_pair")
    @classmethod
    def _two_districts(cls, value: str | None) -> str | None:
        return check_border_pair(value)


class CasePage(BaseModel):
    """A page of cases."""

    cases: list[CaseOut]
    page: int
    per_page: int
    total: int


class CaseFeature(BaseModel):
    """A listed case as a GeoJSON Point feature; its properties are the case as listed."""

    type: FeatureType
    id: int
    geometry: Geometry
    properties: CaseOut


class CaseFeatureCollection(BaseModel):
    """A page of cases as a GeoJSON FeatureCollection (`format=geojson`)."""

    type: CollectionType
    page: int
    per_page: int
    total: int
    features: list[CaseFeature]
    links: list[Link] = Field(
        description="`self`, and `next`/`prev` when there is such a page (also in `Link`)."
    )


class Inbox(BaseModel):
    """The caller's open cases: claimable first, then overdue."""

    cases: list[CaseOut]


class ActionIn(BaseModel):
    """An optional note for a lifecycle action."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class ResolveIn(BaseModel):
    """Resolution evidence: a note and at least one photo URL, or a dispatcher's waiver."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000, description="What was done (处置情况).")
    photos: list[WebUrl] = Field(
        default_factory=list,
        max_length=MAX_PHOTOS,
        description="After photo URLs; without them the `after` photos uploaded to the case "
        "(POST /cases/{id}/evidence) are the evidence.",
    )
    waive_evidence: str | None = Field(
        default=None, max_length=500, description="Dispatchers only: why no photo evidence is needed."
    )


class ReasonIn(BaseModel):
    """A reason (required)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class VoidIn(BaseModel):
    """作废: a duplicate of another case, or not actionable."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["duplicate", "not_actionable"]
    reason: str = Field(min_length=1, max_length=500)
    duplicate_of: str | None = Field(default=None, description="Case number it duplicates (kind=duplicate).")


class TransferIn(BaseModel):
    """Ask another squad to take the case over."""

    model_config = ConfigDict(extra="forbid")
    to_squad: str = Field(min_length=1, max_length=32, description="Code of the receiving squad.")
    reason: str = Field(min_length=1, max_length=500)


class TransferDecisionIn(BaseModel):
    """The receiving squad's decision note (required to decline)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class TransferResult(BaseModel):
    """A transfer request and the case it concerns."""

    transfer: TransferOut
    case: CaseDetail
