"""Requests and answers of the roster API (rosters, shifts, patrol logs, squad availability and
preferences, calendar feed tokens). The OpenAPI document is generated from these models and every
answer is built through them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from coordinator.cases.schemas import Routing
from coordinator.geolocation.schemas import CRS_HELP, CrsName
from coordinator.validation import (
    IsoDate,
    PatchModel,
    QueryModel,
    Rfc3339DateTime,
    RowId,
    check_input_datetime,
)


def _date_in_range(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("must be between 2000-01-01 and 2100-12-31")
    return value


class RosterOptionsIn(BaseModel):
    """How to solve the roster."""

    model_config = ConfigDict(extra="forbid")
    solver: Literal["cp-sat", "greedy"] = Field(
        default="cp-sat", description="cp-sat (greedy warm start, greedy fallback) or the greedy alone."
    )
    time_limit_s: float = Field(default=20.0, gt=0, le=120, description="Solver time limit in seconds.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Random seed of the solver.")
    confirm_unpublished_year: bool = Field(
        default=False, description="Plan into a year whose holidays are not published yet (warned)."
    )
    eligible_m: float = Field(
        default=5000.0, gt=0, le=50000, description="Squads within this distance of a hotspot may patrol it."
    )


class RosterIn(BaseModel):
    """A roster to draft."""

    model_config = ConfigDict(extra="forbid")
    start: IsoDate = Field(description="The first night (YYYY-MM-DD), usually a Monday.")
    weeks: int = Field(default=2, ge=1, le=4, description="1–4 weeks of nights.")
    options: RosterOptionsIn = Field(default_factory=RosterOptionsIn)

    @field_validator("start")
    @classmethod
    def _start(cls, value: date) -> date:
        return _date_in_range(value)


class RosterQuery(QueryModel):
    """Filters for the roster list."""

    status: Literal["draft", "published"] | None = None


class SquadRef(BaseModel):
    """A squad in a roster."""

    code: str
    name: str
    district: str


class HotspotRef(BaseModel):
    """A hotspot in a shift."""

    id: int
    name: str
    kind: str


class ShiftOut(BaseModel):
    """One patrol: a hotspot, a night, one squad from each side."""

    id: int
    uid: str = Field(description="Calendar UID, stable for the shift's life.")
    night: date = Field(description="The evening the patrol starts (20:00 Asia/Shanghai).")
    status: Literal["planned", "cancelled"]
    sequence: int = Field(description="iCalendar SEQUENCE: changes since publishing.")
    hotspot: HotspotRef
    squads: list[SquadRef] = Field(description="Side a, side b of the hotspot's border pair.")
    patrol_logs: int
    cases_found: int


class SolverOut(BaseModel):
    """How the roster was solved."""

    solver: str = Field(description="cp-sat or greedy (asked for, or the fallback).")
    status: str = Field(description="OPTIMAL, FEASIBLE, FALLBACK, …")
    seed: int
    time_limit_s: float
    solve_time_s: float
    objective: int
    bound: float | None = Field(description="Best proven upper bound on the objective.")
    gap: float | None = Field(description="(bound − objective) / |objective|.")
    breakdown: dict[str, int] = Field(description="The objective's weighted terms (docs/rosters.md).")


class NightOut(BaseModel):
    """A night of the period."""

    date: date
    burden: int = Field(description="10; 15 on the eve of a day off; 20 on a holiday night.")
    kind: Literal["normal", "eve", "holiday"]


class HotspotPlan(BaseModel):
    """Why a hotspot got its nights."""

    id: int
    name: str
    kind: str
    kind_label: str
    pair: list[str]
    weight: float
    recent_cases: int
    min_per_week: int
    required_per_week: list[int]
    patrols_per_week: list[int]
    nights: list[date]
    patrols_planned: int
    patrols_done: int = Field(description="Shifts with a patrol log.")
    cases_found: int = Field(description="Cases linked or opened by those patrols.")
    eligible_squads: dict[str, list[str]]
    reason: str


class SquadLoad(BaseModel):
    """A squad's nights against its capacity."""

    code: str
    name: str
    district: str
    capacity_per_week: int
    nights_per_week: list[int]
    within_capacity: bool
    burden: int
    unavailable_nights: list[date]


class RosterOut(BaseModel):
    """A roster with its shifts and its explanation."""

    id: int
    period_start: date
    period_end: date
    status: Literal["draft", "published"]
    origin: str
    created_at: datetime
    published_at: datetime | None
    solver: SolverOut
    current: dict[str, int] = Field(description="The objective's terms for the roster as it is now.")
    nights: list[NightOut]
    hotspots: list[HotspotPlan]
    squads: list[SquadLoad]
    all_within_capacity: bool
    warnings: list[str]
    shift_count: int
    shifts: list[ShiftOut]


class RosterSummary(BaseModel):
    """A roster in the list."""

    id: int
    period_start: date
    period_end: date
    status: Literal["draft", "published"]
    origin: str
    solver: str
    objective: int
    gap: float | None
    shift_count: int
    created_at: datetime
    published_at: datetime | None


class RosterList(BaseModel):
    """Rosters, newest first."""

    rosters: list[RosterSummary]


class ShiftPatch(PatchModel):
    """Move a shift to another night or hotspot, or change its squads (omitted fields stay)."""

    night: IsoDate | None = None
    hotspot_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    squad_a: str | None = Field(default=None, max_length=32, description="Squad code for side a.")
    squad_b: str | None = Field(default=None, max_length=32, description="Squad code for side b.")
    dry_run: bool = Field(default=False, description="Only check the hard rules and show the cost.")

    @field_validator("night")
    @classmethod
    def _night(cls, value: date | None) -> date | None:
        return None if value is None else _date_in_range(value)


class SwapIn(BaseModel):
    """Swap the nights of two shifts."""

    model_config = ConfigDict(extra="forbid")
    shift_ids: list[RowId] = Field(min_length=2, max_length=2)
    dry_run: bool = False


class ChangeOut(BaseModel):
    """A change checked against the hard rules, and what it costs."""

    applied: bool
    before: dict[str, int]
    after: dict[str, int]
    delta: dict[str, int] = Field(description="after − before, per term (negative = the change costs).")
    roster: RosterOut


class FoundReportIn(BaseModel):
    """A new report from the patrol (goes through the normal intake, source joint_patrol)."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=16)
    lon: float = Field(allow_inf_nan=False)
    lat: float = Field(allow_inf_nan=False)
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)
    description: str = Field(default="", max_length=4000)
    photos: list[AnyHttpUrl] = Field(default_factory=list, max_length=10)


class PatrolLogIn(BaseModel):
    """What the squads on a shift did."""

    model_config = ConfigDict(extra="forbid")
    started_at: Rfc3339DateTime
    ended_at: Rfc3339DateTime
    members: list[str] = Field(min_length=1, max_length=50, description="Who went (names or ids).")
    outcome: Literal["found", "nothing_found"]
    note: str = Field(default="", max_length=2000)
    linked_cases: list[str] = Field(default_factory=list, max_length=50, description="Case numbers found.")
    reports: list[FoundReportIn] = Field(default_factory=list, max_length=20)

    @field_validator("started_at", "ended_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a timezone offset, e.g. 2026-12-01T20:00:00+08:00")
        checked = check_input_datetime(value)
        assert checked is not None
        return checked.astimezone(UTC)

    @model_validator(mode="after")
    def _members(self) -> PatrolLogIn:
        if any(not m.strip() or len(m) > 100 for m in self.members):
            raise ValueError("members are 1–100 characters each")
        return self


class FindingOut(BaseModel):
    """A case a patrol found."""

    case_id: int
    case_number: str
    kind: Literal["linked", "opened"]
    routing: Routing = Field(
        description="How the case was routed (lead, partners, queue), as for any report."
    )


class PatrolLogOut(BaseModel):
    """A recorded patrol."""

    id: int
    shift_id: int
    started_at: datetime
    ended_at: datetime
    members: list[str]
    outcome: Literal["found", "nothing_found"]
    note: str
    findings: list[FindingOut]
    created_at: datetime


class PatrolLogList(BaseModel):
    """A shift's patrol logs."""

    patrol_logs: list[PatrolLogOut]


class UnavailabilityIn(BaseModel):
    """Nights a squad cannot patrol (inclusive)."""

    model_config = ConfigDict(extra="forbid")
    start_date: IsoDate
    end_date: IsoDate
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _order(self) -> UnavailabilityIn:
        _date_in_range(self.start_date)
        _date_in_range(self.end_date)
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.end_date - self.start_date).days > 366:
            raise ValueError("at most a year at a time")
        return self


class UnavailabilityOut(BaseModel):
    """A squad's unavailability."""

    id: int
    squad: str
    start_date: date
    end_date: date
    reason: str


class UnavailabilityList(BaseModel):
    """A squad's unavailabilities."""

    unavailability: list[UnavailabilityOut]


class PreferencesIn(BaseModel):
    """A squad's weekday preferences for nights: weekday (0 = Monday) → −2 (avoid) … +2 (prefer)."""

    model_config = ConfigDict(extra="forbid")
    weekdays: dict[Literal["0", "1", "2", "3", "4", "5", "6"], int] = Field(
        description="Missing weekdays are neutral (0)."
    )

    @field_validator("weekdays")
    @classmethod
    def _range(cls, value: dict[str, int]) -> dict[str, int]:
        if any(not -2 <= v <= 2 for v in value.values()):
            raise ValueError("preferences are −2 … +2")
        return value


class PreferencesOut(BaseModel):
    """A squad's weekday preferences."""

    squad: str
    weekdays: dict[str, int]


class SquadFeedTokenOut(BaseModel):
    """A squad's calendar feed URL (the token is shown once)."""

    squad: str
    token: str
    url: str = Field(description="Subscribe to this URL in a calendar app.")


class SquadFeedRevokedOut(BaseModel):
    """How many tokens were revoked."""

    squad: str
    revoked: int


class FeedQuery(QueryModel):
    """The feed's secret token."""

    token: str | None = Field(default=None, max_length=200, description="The squad's feed token.")
