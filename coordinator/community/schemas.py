"""Schemas of the community API: reporters' reports, ratings, disputes and rewards; reward rules and
totals; compounds, renovation filings and inspections (they validate requests and make the OpenAPI
document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coordinator.api import FilePart
from coordinator.cases.schemas import Status
from coordinator.evidence.files import DOCUMENT_MEDIA_TYPES, IMAGE_MEDIA_TYPES
from coordinator.geojson import Geometry
from coordinator.validation import IsoDate, PatchModel, QueryModel, RowId

FilingState = Literal["submitted", "returned", "resubmitted", "accepted", "in_works", "inspected", "closed"]
InspectionKind = Literal["property_patrol", "spot_check", "completion"]
PHONE_PATTERN = r"^\+?[0-9][0-9 -]{4,30}$"


# -- reporters ---------------------------------------------------------------------------------------------


class RatingIn(BaseModel):
    """The reporter's rating of the resolution (1–5 stars), within the feedback window, once."""

    model_config = ConfigDict(extra="forbid")
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class DisputeIn(BaseModel):
    """The reporter disputes the resolution (the case goes back to the dispatcher), within the window."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class FeedbackOut(BaseModel):
    """A rating or dispute as recorded."""

    kind: Literal["rating", "dispute"]
    stars: int | None
    comment: str
    at: datetime


class MyReport(BaseModel):
    """One of the caller's reports, with its case's progress and the squad's feedback."""

    report_id: int
    case_number: str
    category: str
    status: Status
    received_at: datetime
    feedback: str | None = Field(description="The squad's resolution note (contact details masked).")
    after_photos: list[str]
    resolved_at: datetime | None
    closed_at: datetime | None
    feedback_until: datetime | None = Field(description="Rating and dispute are possible until then.")
    rating: FeedbackOut | None
    dispute: FeedbackOut | None
    notify_channel: str | None
    notify_consent: bool


class MyReports(BaseModel):
    """The caller's reports, newest first."""

    reports: list[MyReport]


class DisputeOut(BaseModel):
    """The dispute was recorded: the case is back on the dispatcher's desk."""

    case_number: str
    status: Status
    dispute: FeedbackOut


class LedgerLine(BaseModel):
    """One line of a reporter's reward ledger."""

    id: int
    kind: Literal["earned", "revoked", "redeemed"]
    points: int = Field(description="Signed: earned > 0, revoked and redeemed < 0.")
    case_number: str | None
    category: str | None
    rule: str | None
    reference: str | None
    flag: str | None
    note: str
    at: datetime


class RewardAccount(BaseModel):
    """A reporter's balance and history."""

    balance: int
    history: list[LedgerLine]


# -- reward administration ------------------------------------------------------------------------------


class RewardRuleIn(BaseModel):
    """A reward rule (created or replaced by name)."""

    model_config = ConfigDict(extra="forbid")
    priority: int = Field(ge=1, le=100000, description="First matching active rule (lowest) decides.")
    category: str | None = Field(default=None, max_length=16, description="Category code; null: any.")
    source: str | None = Field(default=None, max_length=20, description="Report source; null: any.")
    points: int = Field(ge=1, le=100000)
    first_k: int | None = Field(default=None, ge=1, le=1000, description="Only the first K reporters earn.")
    daily_cap: int | None = Field(default=None, ge=1, le=1000000, description="Points per reporter per day.")
    burst_count: int | None = Field(default=None, ge=2, le=1000)
    burst_minutes: int | None = Field(default=None, ge=1, le=1440)
    active: bool = True


class RewardRuleOut(BaseModel):
    """A reward rule."""

    name: str
    priority: int
    category: str | None
    source: str | None
    trigger: Literal["verified"]
    points: int
    first_k: int | None
    daily_cap: int | None
    burst_count: int | None
    burst_minutes: int | None
    active: bool


class RewardRuleList(BaseModel):
    """All reward rules by priority."""

    rules: list[RewardRuleOut]


class RedemptionIn(BaseModel):
    """Book points out of a reporter's balance (name the reporter by account or by phone)."""

    model_config = ConfigDict(extra="forbid")
    username: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    points: int = Field(ge=1, le=1000000)
    reference: str = Field(min_length=1, max_length=100, description="Voucher or transaction reference.")
    note: str = Field(default="", max_length=500)


class RedemptionOut(BaseModel):
    """The redemption and the balance after it."""

    entry: LedgerLine
    balance: int


class TotalsQuery(QueryModel):
    """Which month."""

    month: str = Field(pattern=r"^(19[7-9][0-9]|[2-8][0-9]{3})-(0[1-9]|1[0-2])$", description="YYYY-MM")


class DistrictTotalOut(BaseModel):
    """Points per district in the month (district null: redemptions, which belong to no case)."""

    district: str | None
    earned: int
    revoked: int
    redeemed: int
    reporters: int = Field(description="Distinct reporters who earned.")
    flagged: int = Field(description="Earnings flagged by the burst check.")


class RewardTotals(BaseModel):
    """The month's ledger per district."""

    month: str
    districts: list[DistrictTotalOut]


class FlaggedLine(LedgerLine):
    """A flagged earning with its district."""

    district: str | None


class FlaggedList(BaseModel):
    """Earnings the abuse checks flagged, newest first."""

    entries: list[FlaggedLine]


# -- compounds ------------------------------------------------------------------------------------------


class GeometryIn(BaseModel):
    """A GeoJSON Point or Polygon in WGS-84."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Point", "Polygon"]
    coordinates: list[Any] = Field(description="RFC 7946 coordinates (longitude, latitude).")


class CompoundIn(BaseModel):
    """A compound (小区) and its property managers (accounts of role property_manager)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    geometry: GeometryIn
    managers: list[str] = Field(default_factory=list, max_length=20, description="Usernames.")


class CompoundPatch(PatchModel):
    """Edits of a compound (omitted fields stay). A new geometry locates the compound again (its
    district and town follow it); `managers` replaces the list (`[]`: none)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    geometry: GeometryIn | None = None
    managers: list[str] | None = Field(default=None, max_length=20, description="Usernames.")


class CompoundOut(BaseModel):
    """A compound."""

    id: int
    name: str
    address: str
    geometry: Geometry
    lon: float
    lat: float
    district: str | None
    town: str | None
    managers: list[str]
    active: bool  # false once retired


class CompoundList(BaseModel):
    """The compounds the caller may see."""

    compounds: list[CompoundOut]


# -- renovation filings -------------------------------------------------------------------------------------


class WastePlan(BaseModel):
    """Who hauls the renovation waste, when, and where to."""

    model_config = ConfigDict(extra="forbid")
    hauler: str = Field(min_length=1, max_length=200)
    schedule: str = Field(min_length=1, max_length=200)
    destination: str = Field(min_length=1, max_length=200)


class FlatIn(BaseModel):
    """A flat: building (楼/幢), unit (单元, may be empty), room (室)."""

    model_config = ConfigDict(extra="forbid")
    building: str = Field(min_length=1, max_length=20)
    unit: str = Field(default="", max_length=20)
    room: str = Field(min_length=1, max_length=20)


class PersonIn(BaseModel):
    """The owner (业主): name and phone."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=PHONE_PATTERN)


class ContractorIn(BaseModel):
    """The contractor and its qualification (资质)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    qualification: str = Field(min_length=1, max_length=200)


class FilingIn(BaseModel):
    """A renovation filing (装修申报)."""

    model_config = ConfigDict(extra="forbid")
    compound_id: RowId
    flat: FlatIn
    owner: PersonIn
    contractor: ContractorIn
    planned_start: IsoDate
    planned_end: IsoDate
    waste_plan: WastePlan
    description: str = Field(default="", max_length=4000)

    def fields(self) -> dict[str, Any]:
        """The filing's columns."""
        return {
            "building": self.flat.building,
            "unit": self.flat.unit,
            "room": self.flat.room,
            "owner_name": self.owner.name,
            "owner_phone": self.owner.phone,
            "contractor_name": self.contractor.name,
            "contractor_qualification": self.contractor.qualification,
            "planned_start": self.planned_start,
            "planned_end": self.planned_end,
            "waste_hauler": self.waste_plan.hauler,
            "waste_schedule": self.waste_plan.schedule,
            "waste_destination": self.waste_plan.destination,
            "description": self.description,
        }


class ResubmitIn(BaseModel):
    """Resubmit a returned filing with what changed (omitted parts stay)."""

    model_config = ConfigDict(extra="forbid")
    owner: PersonIn | None = None
    contractor: ContractorIn | None = None
    planned_start: IsoDate | None = None
    planned_end: IsoDate | None = None
    waste_plan: WastePlan | None = None
    description: str | None = Field(default=None, max_length=4000)
    note: str = Field(default="", max_length=500)

    def changes(self) -> dict[str, Any]:
        """The columns to change."""
        out: dict[str, Any] = {
            "planned_start": self.planned_start,
            "planned_end": self.planned_end,
            "description": self.description,
        }
        if self.owner:
            out.update(owner_name=self.owner.name, owner_phone=self.owner.phone)
        if self.contractor:
            out.update(
                contractor_name=self.contractor.name, contractor_qualification=self.contractor.qualification
            )
        if self.waste_plan:
            out.update(
                waste_hauler=self.waste_plan.hauler,
                waste_schedule=self.waste_plan.schedule,
                waste_destination=self.waste_plan.destination,
            )
        return out


class ReturnIn(BaseModel):
    """Return a filing for correction, with the reasons."""

    model_config = ConfigDict(extra="forbid")
    reasons: list[str] = Field(min_length=1, max_length=20)


class NoteIn(BaseModel):
    """An optional note for a filing action."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class InspectionIn(BaseModel):
    """An inspection: property patrol (物业巡查), 城管 spot check (抽查) or completion inspection."""

    model_config = ConfigDict(extra="forbid")
    kind: InspectionKind
    result: Literal["pass", "fail"]
    notes: str = Field(default="", max_length=4000)
    violation: Literal["illegal_renovation", "illegal_construction"] | None = Field(
        default=None, description="Required when the result is fail: the case's category (违法装修/违法搭建)."
    )


class InspectionOut(BaseModel):
    """An inspection as recorded; a failed one names the case it opened (or joined)."""

    id: int
    kind: InspectionKind
    result: Literal["pass", "fail"]
    notes: str
    violation_category: str | None
    case_number: str | None
    inspector: str
    at: datetime
    photos: list[int] = Field(default_factory=list, description="Evidence ids of its photos.")


class Contact(BaseModel):
    """Contact data as the caller may see it (masked for squads)."""

    name: str | None
    phone: str | None


class FilingEventOut(BaseModel):
    """An entry of the filing's trail."""

    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str
    payload: dict[str, Any]


class FilingSummary(BaseModel):
    """A filing as listed (no personal data)."""

    id: int
    number: str
    state: FilingState
    compound_id: int
    compound: str
    flat: dict[str, str]
    planned_start: date
    planned_end: date
    updated_at: datetime


class FilingDetail(FilingSummary):
    """A filing with its owner (per the caller's role), contractor, waste plan, trail and inspections."""

    owner: Contact | None
    contractor: dict[str, str]
    waste_plan: dict[str, str]
    description: str
    return_reasons: list[str]
    allowed_actions: list[str]
    events: list[FilingEventOut]
    inspections: list[InspectionOut]
    documents: list[int] = Field(default_factory=list, description="Evidence ids of its documents.")


class FilingList(BaseModel):
    """Filings the caller may see, newest first."""

    filings: list[FilingSummary]


class FilingListQuery(QueryModel):
    """Filters of the filing list."""

    state: FilingState | None = None
    compound_id: RowId | None = None


class FilingCount(BaseModel):
    """How many filings a district has in a state."""

    district: str | None
    state: FilingState
    count: int


class InspectionCount(BaseModel):
    """How many inspections of a kind had a result in a district."""

    district: str | None
    kind: InspectionKind
    result: Literal["pass", "fail"]
    count: int


class RenovationStats(BaseModel):
    """Counts only (what the committee sees): filings by state, inspections by kind and result."""

    filings: list[FilingCount]
    inspections: list[InspectionCount]


# -- documents and photos (multipart) ---------------------------------------------------------------------

DOCUMENTS_PART = FilePart(
    name="documents",
    description="Drawings and documents: PDF (by its content) or JPEG/PNG/WebP images, 1–9 files. 413 for "
    "a file over the size limit, 415 for any other type; either way nothing of the request is stored.",
    media_types=DOCUMENT_MEDIA_TYPES,
    max_items=9,
)
INSPECTION_PHOTOS_PART = FilePart(
    name="photos",
    description="Photos of the inspection (JPEG, PNG or WebP), 1–9 files; 413/415 store nothing.",
    media_types=IMAGE_MEDIA_TYPES,
    max_items=9,
)


class DocumentForm(BaseModel):
    """The form fields of a filing's document upload (beside the files in `documents`)."""

    model_config = ConfigDict(extra="forbid")
    purpose: Literal["drawing", "document"] = Field(description="`drawing` (图纸) or `document` (其他材料).")


class PhotoForm(BaseModel):
    """No form fields besides the files in `photos`."""

    model_config = ConfigDict(extra="forbid")


# -- the citizen's status link --------------------------------------------------------------------------


class StatusRewards(BaseModel):
    """The reward points of the phone a status link's report left (an anonymous reporter's balance)."""

    balance: int
    history: list[LedgerLine]
