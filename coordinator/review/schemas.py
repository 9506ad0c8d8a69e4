"""Schemas of the review API (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coordinator.cases.schemas import Status
from coordinator.errors import ValidationFailed
from coordinator.geojson import CollectionType, FeatureType
from coordinator.review.exports import CaseExportRow
from coordinator.review.services import Period, Scope, border_pair_key
from coordinator.validation import QueryModel

GroupBy = Literal["border_pair", "district", "squad", "category", "source", "week"]
PERIOD_HELP = (
    "The period: `month=YYYY-MM`, or `from` and `to` (local dates, both inclusive); neither = last month."
)


class PeriodQuery(QueryModel):
    """A period and a scope of cases."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description=PERIOD_HELP)
    from_: date | None = Field(default=None, alias="from", description="First day (Asia/Shanghai).")
    to: date | None = Field(default=None, description="Last day, inclusive (Asia/Shanghai).")
    border_pair: str | None = Field(
        default=None, max_length=40, description="Only this border pair, e.g. `310116-310120`."
    )
    district: str | None = Field(default=None, max_length=32, description="Only cases of this district.")
    joint_only: bool = Field(default=False, description="Only cases in a border zone (joint cases).")

    @model_validator(mode="after")
    def _one_period(self) -> PeriodQuery:
        if self.month and (self.from_ or self.to):
            raise ValueError("give either month or from/to, not both")
        if (self.from_ is None) != (self.to is None):
            raise ValueError("from and to go together")
        if self.from_ and self.to and not (date(1970, 1, 1) <= self.from_ <= self.to <= date(9000, 1, 1)):
            raise ValueError("from must not be after to (dates 1970 … 9000)")
        return self

    def period(self, now: datetime) -> Period:
        """The period asked for (last month by default)."""
        if self.month:
            year, month = (int(p) for p in self.month.split("-"))
            if year < 1970:
                raise ValidationFailed("month must be 1970 or later", details={"month": self.month})
            return Period.month(year, month)
        if self.from_ and self.to:
            return Period(self.from_, self.to)
        return Period.last_month(now)

    def scope(self) -> Scope:
        """The scope asked for."""
        pair = border_pair_key(self.border_pair) if self.border_pair else None
        return Scope(border_pair=pair, district=self.district, joint_only=self.joint_only)


class ReviewQuery(PeriodQuery):
    """The grouped review."""

    group_by: GroupBy = Field(default="border_pair", description="How to group the cases.")


class ExportQuery(ReviewQuery):
    """The grouped review as a file."""

    format: Literal["csv", "xlsx"] = "csv"


class CaseExportQuery(PeriodQuery):
    """The cases opened in a period, as a file (streamed)."""

    status: Status | None = None
    format: Literal["csv", "xlsx", "geojson"] = "csv"


class PeriodOut(BaseModel):
    """A period of local dates."""

    model_config = ConfigDict(populate_by_name=True)
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    label: str


class ScopeOut(BaseModel):
    """The cases looked at."""

    border_pair: list[str] | None
    district: str | None
    joint_only: bool


class FiguresOut(BaseModel):
    """The review's figures for a group. Counts are of the cases opened in the period, as they stand
    now; durations are working hours on the SLA clock (nearest-rank median and 90th percentile, to
    the tenth of an hour)."""

    new: int = Field(description="Cases opened in the period.")
    open: int = Field(description="…still open (reported, routed, claimed, in progress).")
    closed: int = Field(description="…closed (结案).")
    void: int = Field(description="…voided (作废).")
    overdue: int = Field(description="…overdue now (the inbox's `overdue` flag).")
    transferred: int = Field(description="…handed to another squad (an accepted transfer).")
    transfer_declined: int = Field(description="…with a declined transfer request.")
    escalated: int = Field(description="…escalated by the SLA sweep (unclaimed past the claim deadline).")
    in_border_zone: int = Field(description="…in a border zone (joint cases).")
    border_zone_share: float | None = Field(description="in_border_zone / new.")
    repeat_location: int = Field(
        description="…reopened, or re-reported at the same place (more than one report joined the case)."
    )
    sla_met: int = Field(description="Finished (resolved, verified, closed) within both deadlines.")
    sla_breached: int = Field(description="Claimed or resolved late, or overdue now.")
    sla_pending: int = Field(description="Open and within the deadlines so far.")
    sla_compliance: float | None = Field(description="sla_met / (sla_met + sla_breached); null if none.")
    claim_h_median: float | None = Field(description="Working hours from opening to claim, median.")
    claim_h_p90: float | None
    close_h_median: float | None = Field(description="Working hours from opening to close, median.")
    close_h_p90: float | None


class GroupOut(BaseModel):
    """One group."""

    key: str | None = Field(
        description="Border pair `A-B`, district code, squad id, category, source or week."
    )
    label: str = Field(description="Chinese label.")
    figures: FiguresOut


class UnavailableOut(BaseModel):
    """A section the review does not compute yet (hotspots, patrol coverage): `available` false, no
    items."""

    available: bool
    reason: str
    items: list[None] = Field(max_length=0, description="Empty until the section is computed.")


class ReviewOut(BaseModel):
    """The grouped review."""

    period: PeriodOut
    scope: ScopeOut
    group_by: GroupBy
    generated_at: datetime
    rows: list[GroupOut]
    total: FiguresOut
    hotspots: UnavailableOut = Field(description="Hotspots with trend (not computed yet).")
    patrol_coverage: UnavailableOut = Field(description="Joint patrols planned vs done (not computed yet).")


class RepeatLocationOut(BaseModel):
    """A place where a problem came back."""

    category: str
    lon: float
    lat: float
    cases: int
    reopened: int
    border_pair: str | None
    first_at: datetime
    last_at: datetime
    case_numbers: list[str] = Field(description="Up to 20, oldest first.")


class RepeatLocationsOut(BaseModel):
    """Repeat locations of a period."""

    period: PeriodOut
    scope: ScopeOut
    locations: list[RepeatLocationOut]


class SectionOut(BaseModel):
    """A review section on its own (hotspots, patrol coverage)."""

    period: PeriodOut
    scope: ScopeOut
    section: UnavailableOut


class ExportPoint(BaseModel):
    """Where a case lies: a GeoJSON Point."""

    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2, description="[lon, lat], WGS-84.")


class CaseExportFeature(BaseModel):
    """One exported case as a GeoJSON feature; its properties are the columns of the CSV and XLSX."""

    type: FeatureType
    id: str = Field(description="The case number.")
    geometry: ExportPoint
    properties: CaseExportRow


class CaseExportCollection(BaseModel):
    """The cases of an export as a GeoJSON FeatureCollection (`format=geojson`), streamed."""

    type: CollectionType
    period: PeriodOut
    features: list[CaseExportFeature]
