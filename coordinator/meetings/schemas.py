"""Schemas of the meetings API (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coordinator.validation import (
    IsoDate,
    PatchModel,
    QueryModel,
    Rfc3339DateTime,
    check_input_datetime,
)

Scope = Literal["alliance", "border_pair"]
Frequency = Literal["monthly", "on_demand"]
MeetingStatus = Literal["scheduled", "held", "cancelled"]
ActionStatus = Literal["open", "done", "dropped"]
AttendanceStatus = Literal["present", "absent", "excused"]
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a timezone offset, e.g. 2026-12-15T14:30:00+08:00")
    return check_input_datetime(value)


class SeriesIn(BaseModel):
    """A new meeting series."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, description="Short id, e.g. `ALLIANCE` or `JS-FX`.")
    name: str = Field(min_length=1, max_length=200, description="Chinese name, e.g. 交界地带联席会议.")
    scope: Scope
    border_pair: list[str] | None = Field(
        default=None, min_length=2, max_length=2, description="scope=border_pair: the two district codes."
    )
    frequency: Frequency = "monthly"
    day_of_month: int | None = Field(
        default=None, ge=1, le=28, description="Monthly: the first working day on or after this day."
    )
    start_time: time = Field(description="Local start time (Asia/Shanghai), e.g. `14:30`.")
    duration_min: int = Field(default=120, ge=15, le=600)
    location: str = Field(default="", max_length=200)
    host_rotation: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="District codes in hosting order; default: the series' districts by code.",
    )
    first_month: IsoDate | None = Field(
        default=None, description="Month of occurrence 1 (default: this month)."
    )
    agenda_lead_h: float = Field(default=48.0, ge=0, le=24 * 30, description="Agenda built this long before.")
    reminder_lead_h: float = Field(
        default=24.0, ge=0, le=24 * 30, description="Reminder sent this long before."
    )

    @model_validator(mode="after")
    def _pair(self) -> SeriesIn:
        if (self.scope == "border_pair") != (self.border_pair is not None):
            raise ValueError("border_pair is given exactly for scope=border_pair")
        if self.border_pair is not None and self.border_pair[0] == self.border_pair[1]:
            raise ValueError("border_pair names two different districts")
        if self.first_month is not None and not date(1970, 1, 1) <= self.first_month < date(9000, 1, 1):
            raise ValueError("first_month must lie in 1970 … 9000")
        return self


class SeriesPatch(PatchModel):
    """Changes to a series' rule (its future meetings follow unless moved by hand)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    start_time: time | None = None
    duration_min: int | None = Field(default=None, ge=15, le=600)
    location: str | None = Field(default=None, max_length=200)
    host_rotation: list[str] | None = Field(default=None, min_length=1, max_length=16)
    agenda_lead_h: float | None = Field(default=None, ge=0, le=24 * 30)
    reminder_lead_h: float | None = Field(default=None, ge=0, le=24 * 30)
    active: bool | None = None


class MeetingIn(BaseModel):
    """One more meeting of a series (a border pair's meeting on demand)."""

    model_config = ConfigDict(extra="forbid")
    starts_at: Rfc3339DateTime = Field(description="Start, with offset; must be on a working day.")
    host: str | None = Field(
        default=None, max_length=32, description="Host district (default: the rotation's)."
    )
    location: str | None = Field(default=None, max_length=200)

    @field_validator("starts_at")
    @classmethod
    def _aware_start(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class MeetingPatch(PatchModel):
    """Move, re-host or relocate one meeting."""

    starts_at: Rfc3339DateTime | None = None
    host: str | None = Field(default=None, max_length=32)
    location: str | None = Field(default=None, max_length=200)

    @field_validator("starts_at")
    @classmethod
    def _aware_start(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class CancelIn(BaseModel):
    """Why a meeting is cancelled."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class AgendaItemIn(BaseModel):
    """An agenda item as the host sets it: an existing item (id) kept or re-titled, or a new one."""

    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=4000)


class AgendaIn(BaseModel):
    """The whole agenda, in order."""

    model_config = ConfigDict(extra="forbid")
    items: list[AgendaItemIn] = Field(max_length=100)


class MinutesIn(BaseModel):
    """Minutes and decisions (the decisions replace the earlier list)."""

    model_config = ConfigDict(extra="forbid")
    minutes: str = Field(max_length=20_000)
    decisions: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("decisions")
    @classmethod
    def _decisions(cls, value: list[str]) -> list[str]:
        if any(not d.strip() or len(d) > 2000 for d in value):
            raise ValueError("each decision is 1–2000 characters")
        return value


class AttendanceRowIn(BaseModel):
    """One district's attendance (no names: how many came)."""

    model_config = ConfigDict(extra="forbid")
    district: str = Field(max_length=32)
    status: AttendanceStatus
    attendees: int = Field(default=0, ge=0, le=200)
    note: str = Field(default="", max_length=200)


class AttendanceIn(BaseModel):
    """Attendance per district."""

    model_config = ConfigDict(extra="forbid")
    districts: list[AttendanceRowIn] = Field(max_length=16)


class ActionItemIn(BaseModel):
    """An action item: one owner (a squad or a district), a due date, the cases it concerns."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=4000)
    owner_squad: str | None = Field(default=None, max_length=32)
    owner_district: str | None = Field(default=None, max_length=32)
    due_date: IsoDate
    case_numbers: list[str] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _owner(self) -> ActionItemIn:
        if (self.owner_squad is None) == (self.owner_district is None):
            raise ValueError("name exactly one owner: owner_squad or owner_district")
        if not date(1970, 1, 1) <= self.due_date < date(9000, 1, 1):
            raise ValueError("due_date must lie in 1970 … 9000")
        return self


class ActionItemPatch(PatchModel):
    """Mark an action item done (or dropped, or open again), re-date or relink it."""

    status: ActionStatus | None = None
    done_note: str | None = Field(default=None, max_length=500)
    due_date: IsoDate | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    case_numbers: list[str] | None = Field(default=None, max_length=200)

    @field_validator("due_date")
    @classmethod
    def _due(cls, value: date | None) -> date | None:
        if value is not None and not date(1970, 1, 1) <= value < date(9000, 1, 1):
            raise ValueError("due_date must lie in 1970 … 9000")
        return value


class FeedTokenIn(BaseModel):
    """A new calendar feed URL."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=100)
    district: str | None = Field(default=None, max_length=32, description="Only this district's meetings.")


class MeetingQuery(QueryModel):
    """Filters of the meeting list."""

    series: int | None = Field(default=None, ge=1, le=2**31 - 1)
    district: str | None = Field(default=None, max_length=32)
    status: MeetingStatus | None = None
    start: datetime | None = Field(
        default=None, description="Meetings starting at or after (default: now − 31 days)."
    )
    end: datetime | None = Field(default=None, description="…and before.")

    @field_validator("start", "end")
    @classmethod
    def _aware_bounds(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class ActionItemQuery(QueryModel):
    """Filters of the action item list."""

    status: ActionStatus | None = None
    series: int | None = Field(default=None, ge=1, le=2**31 - 1)
    district: str | None = Field(default=None, max_length=32)
    case: str | None = Field(default=None, max_length=20, description="Case number.")


class CalendarQuery(QueryModel):
    """The calendar feed."""

    token: str | None = Field(default=None, max_length=200, description="Feed token (calendar apps).")
    district: str | None = Field(default=None, max_length=32, description="Only this district's meetings.")


# -- answers ---------------------------------------------------------------------------------------


class DistrictOut(BaseModel):
    """A district."""

    code: str
    name: str


class SeriesOut(BaseModel):
    """A meeting series."""

    id: int
    code: str
    name: str
    scope: Scope
    border_pair: list[str] | None
    frequency: Frequency
    day_of_month: int | None
    start_time: str = Field(description="HH:MM, Asia/Shanghai.")
    duration_min: int
    location: str
    host_rotation: list[DistrictOut]
    first_month: date
    agenda_lead_h: float
    reminder_lead_h: float
    active: bool


class PlanOut(BaseModel):
    """What planning did."""

    created: int
    changed: int
    blocked_year: int | None = Field(description="A year not yet published: planning stopped before it.")
    message: str | None


class SeriesDetail(SeriesOut):
    """A series with its planning outcome and upcoming meetings."""

    plan: PlanOut | None
    upcoming: list[MeetingOut]


class SeriesList(BaseModel):
    """Every series."""

    series: list[SeriesOut]


class CaseSnapshot(BaseModel):
    """A case as an agenda item saw it when it was built (no personal data). The linked cases of a
    carried action item are listed by `id` alone."""

    id: int
    number: str | None = None
    status: str | None = None
    category: str | None = None
    district: str | None = None
    border_pair: str | None = Field(default=None, description="`A-B`, or null outside a border zone.")
    created_at: datetime | None = None
    overdue: bool | None = Field(default=None, description="Overdue when the agenda was built.")
    escalated: bool | None = None


class AgendaPeriod(BaseModel):
    """The dates (Asia/Shanghai, inclusive) a review agenda item covers."""

    first: date = Field(alias="from")
    last: date = Field(alias="to")


class AgendaReviewRow(BaseModel):
    """One border pair's figures in a review agenda item."""

    key: str | None
    label: str
    new: int
    overdue: int


class AgendaHotspot(BaseModel):
    """A rising hotspot on an agenda: its dumping cases in the period and the equal span before."""

    id: int
    name: str
    border_pair: str
    cases: int
    previous: int
    trend: str


class AgendaCoverageRow(BaseModel):
    """A border pair's joint patrols on an agenda: planned, due, done, missed."""

    border_pair: str
    label: str
    planned: int
    due: int
    done: int
    missed: int
    rate: float | None = Field(description="done / due; null while nothing is due.")
    cases_found: int


class AgendaItemData(BaseModel):
    """The figures behind an automatic agenda item; which members it has depends on its `kind`
    (a host's own item has none)."""

    period: AgendaPeriod | None = Field(default=None, description="review: the period it covers.")
    rows: list[AgendaReviewRow] | None = Field(default=None, description="review: per border pair.")
    total: dict[str, int] | None = Field(default=None, description="review: every count of the total.")
    count: int | None = Field(
        default=None,
        description="Case lists: how many cases matched (all listed up to the limit); hotspots: how many "
        "rise.",
    )
    due_date: date | None = Field(default=None, description="action_item: its due date.")
    status: ActionStatus | None = Field(default=None, description="action_item: its status.")
    available: bool | None = Field(
        default=None, description="hotspots, roster_coverage: always true (kept for earlier agendas)."
    )
    hotspots: list[AgendaHotspot] | None = Field(
        default=None, description="hotspots: the rising hotspots (rule: docs/review.md), up to 50."
    )
    coverage: list[AgendaCoverageRow] | None = Field(
        default=None, description="roster_coverage: joint patrols per border pair."
    )


class AgendaItemOut(BaseModel):
    """An agenda item."""

    id: int
    position: int
    kind: str = Field(
        description="review, action_item, overdue_cases, escalated_cases, transfer_disputes, "
        "open_joint_cases, hotspots, roster_coverage (automatic) or host."
    )
    source: Literal["auto", "host"]
    title: str
    detail: str
    cases: list[CaseSnapshot]
    data: AgendaItemData
    action_item_id: int | None


class AttendanceOut(BaseModel):
    """A district's attendance."""

    district: DistrictOut
    status: AttendanceStatus
    attendees: int
    note: str


class ActionItemOut(BaseModel):
    """An action item."""

    id: int
    meeting_id: int
    series_id: int
    title: str
    detail: str
    owner_squad: dict[str, str] | None
    owner_district: DistrictOut | None
    due_date: date
    status: ActionStatus
    overdue: bool = Field(description="Open past its due date.")
    done_at: datetime | None
    done_note: str
    case_numbers: list[str]


class MeetingOut(BaseModel):
    """A meeting as listed."""

    id: int
    series_id: int
    series_code: str
    occurrence: int
    title: str
    host: DistrictOut
    starts_at: datetime
    ends_at: datetime
    location: str
    status: MeetingStatus
    cancel_reason: str
    ical_uid: str
    ical_sequence: int
    agenda_due_at: datetime
    agenda_built_at: datetime | None
    reminder_sent_at: datetime | None


class MeetingDetail(MeetingOut):
    """A meeting with its agenda, minutes, decisions, attendance and action items."""

    agenda: list[AgendaItemOut]
    minutes: str
    minutes_updated_at: datetime | None
    decisions: list[str]
    attendance: list[AttendanceOut]
    action_items: list[ActionItemOut] = Field(description="Action items raised at this meeting.")
    can_edit_record: bool = Field(description="Whether the caller keeps this meeting's agenda and minutes.")


class MeetingList(BaseModel):
    """Meetings by start time."""

    meetings: list[MeetingOut]


class ActionItemList(BaseModel):
    """Action items by due date."""

    action_items: list[ActionItemOut]


class FeedTokenOut(BaseModel):
    """A calendar feed token (the token and URL appear only in the answer that created it)."""

    id: int
    prefix: str
    label: str
    district: str | None
    created_at: datetime
    revoked_at: datetime | None
    token: str | None = None
    url: str | None = None


class FeedTokenList(BaseModel):
    """The caller's feed tokens."""

    tokens: list[FeedTokenOut]


SeriesDetail.model_rebuild()
