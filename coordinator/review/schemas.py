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


class LocalPeriodQuery(QueryModel):
    """A period of local dates: a month, or from/to (last month by default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description=PERIOD_HELP)
    from_: date | None = Field(default=None, alias="from", description="First day (Asia/Shanghai).")
    to: date | None = Field(default=None, description="Last day, inclusive (Asia/Shanghai).")

    @model_validator(mode="after")
    def _one_period(self) -> LocalPeriodQuery:
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


class PeriodQuery(LocalPeriodQuery):
    """A period and a scope of cases."""

    border_pair: str | None = Field(
        default=None, max_length=40, description="Only this border pair, e.g. `310116-310120`."
    )
    district: str | None = Field(default=None, max_length=32, description="Only cases of this district.")
    joint_only: bool = Field(default=False, description="Only cases in a border zone (joint cases).")

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


Trend = Literal["rising", "flat", "falling"]


class SpanOut(BaseModel):
    """A span of time, [start, end)."""

    start: datetime
    end: datetime


class HotspotTrendOut(BaseModel):
    """A hotspot with its dumping cases in the period and in the previous equal period."""

    id: int
    name: str
    kind: str = Field(description="ditch, dead_end_road, vacant_lot or other.")
    border_pair: str = Field(description="`A-B` (district codes, ascending).")
    lon: float
    lat: float
    active: bool = Field(description="False for a hotspot retired during the period.")
    cases: int = Field(
        description="Dumping cases (01-10, 01-11, 01-51; not void) within 300 m in the period."
    )
    previous: int = Field(description="…in the equal span just before.")
    change: int = Field(description="cases − previous.")
    trend: Trend


class HotspotTrendsOut(BaseModel):
    """Hotspots with their trend: every hotspot of the scope, rising first."""

    available: bool = Field(description="Always true (kept for clients of the earlier placeholder).")
    reason: str = Field(description="Empty, or why there are no items.")
    rule: str = Field(description="The trend rule, in Chinese (docs/review.md).")
    compared: SpanOut = Field(description="The span counted: the period, or its elapsed part.")
    previous: SpanOut = Field(description="The equal span just before it.")
    items: list[HotspotTrendOut]


class CoverageOut(BaseModel):
    """Joint patrols planned and done (shifts of published rosters on the period's nights)."""

    planned: int = Field(description="Planned shifts (not cancelled).")
    due: int = Field(description="…whose night is over (before today, Asia/Shanghai), or already logged.")
    done: int = Field(description="…with a patrol log.")
    missed: int = Field(description="due − done.")
    rate: float | None = Field(description="done / due; null while nothing is due.")
    cases_found: int = Field(description="Cases linked or opened by those patrols.")


class HotspotCoverageOut(BaseModel):
    """One hotspot's joint patrols."""

    id: int
    name: str
    kind: str
    border_pair: str
    coverage: CoverageOut


class PairCoverageOut(BaseModel):
    """One border pair's joint patrols (its hotspots summed)."""

    border_pair: str
    label: str
    hotspots: int
    coverage: CoverageOut


class PatrolCoverageOut(BaseModel):
    """Joint-patrol coverage, planned vs done, per hotspot and per border pair."""

    available: bool = Field(description="Always true (kept for clients of the earlier placeholder).")
    reason: str = Field(description="Empty, or why there are no items (no published roster).")
    as_of: date = Field(description="Nights before this local date are due.")
    items: list[HotspotCoverageOut]
    pairs: list[PairCoverageOut]
    total: CoverageOut


class ReviewOut(BaseModel):
    """The grouped review."""

    period: PeriodOut
    scope: ScopeOut
    group_by: GroupBy
    generated_at: datetime
    rows: list[GroupOut]
    total: FiguresOut
    hotspots: HotspotTrendsOut = Field(description="Hotspots with their trend.")
    patrol_coverage: PatrolCoverageOut = Field(description="Joint patrols planned vs done.")


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


class HotspotsSectionOut(BaseModel):
    """Hotspots with their trend, on their own."""

    period: PeriodOut
    scope: ScopeOut
    section: HotspotTrendsOut


class CoverageSectionOut(BaseModel):
    """Joint-patrol coverage, on its own."""

    period: PeriodOut
    scope: ScopeOut
    section: PatrolCoverageOut


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


# -- renovation filings (the committee's counts) -----------------------------------------------------------


class RenovationReviewQuery(LocalPeriodQuery):
    """A period and, optionally, the districts whose compounds to count."""

    district: str | None = Field(default=None, max_length=32, description="Only this district's compounds.")
    border_pair: str | None = Field(
        default=None,
        max_length=40,
        description="Only the compounds of this pair's two districts, e.g. `310116-310120`.",
    )

    def districts(self) -> set[str] | None:
        """The districts asked for (both filters: those in both), or None for all."""
        chosen: set[str] | None = None
        if self.border_pair:
            chosen = set(border_pair_key(self.border_pair))
        if self.district:
            chosen = {self.district} if chosen is None else chosen & {self.district}
        return chosen


class FilingStateCounts(BaseModel):
    """Filings filed in the month, by the state they are in now (docs/citizens.md has the states)."""

    total: int
    submitted: int = Field(description="Filed, awaiting review.")
    returned: int = Field(description="Returned to the property manager with reasons.")
    resubmitted: int = Field(description="Resubmitted after a return, awaiting review.")
    accepted: int = Field(description="Accepted by the district's dispatcher.")
    in_works: int = Field(description="Works started.")
    inspected: int = Field(description="A completion inspection passed.")
    closed: int = Field(description="Finished.")


class SpotCheckCounts(BaseModel):
    """城管 spot checks (抽查) done in the month, by outcome."""

    total: int
    passed: int
    failed: int
    cases_opened: int = Field(
        description="Failed checks that filed a report (and so opened or joined a case)."
    )


class RenovationRowOut(BaseModel):
    """One district in one month."""

    district: str | None = Field(description="The compounds' district code.")
    label: str = Field(description="The district's name.")
    month: str = Field(description="YYYY-MM (Asia/Shanghai): when filed, or when checked.")
    filings: FilingStateCounts
    spot_checks: SpotCheckCounts


class RenovationTotalOut(BaseModel):
    """All rows together."""

    filings: FilingStateCounts
    spot_checks: SpotCheckCounts


class RenovationReviewOut(BaseModel):
    """Renovation filings per district and month by state, and spot-check outcomes: counts only."""

    period: PeriodOut
    districts: list[str] | None = Field(description="The districts counted (null: all).")
    rows: list[RenovationRowOut]
    total: RenovationTotalOut
