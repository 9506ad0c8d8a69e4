"""Schemas of the citizen API: the anonymous report and the status link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coordinator.cases.schemas import OBSERVED_AT_SKEW, Status
from coordinator.geolocation.schemas import CRS_HELP, CrsName
from coordinator.validation import Latitude, Longitude, Rfc3339DateTime, check_input_datetime


class CitizenContact(BaseModel):
    """The reporter's phone (required: it carries the per-phone limit and lets the squad call back) and
    optional name. Shown masked to squads, in full to dispatchers, never on the status page."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(
        min_length=5,
        max_length=32,
        description="A mainland mobile (1[3-9] + 9 digits) or landline (0 + area code + number); spaces, "
        "dashes, full-width digits and +86 are fine.",
    )
    name: str | None = Field(default=None, max_length=100)


class CitizenNotify(BaseModel):
    """Whether the citizen wants to hear of the case's progress (claimed, resolved with the squad's
    feedback, closed) on the report's phone: `sms` (短信) or `suishenban` (随申办). Nothing is sent without
    `consent: true`; the message goes into the webhook outbox for the gateway that sends it."""

    model_config = ConfigDict(extra="forbid")
    channel: Literal["sms", "suishenban"] = Field(default="sms", description="How to reach the phone.")
    consent: bool = Field(description="The citizen agreed to be told (短信通知我处理进展).")


class CitizenReportIn(BaseModel):
    """A citizen's report (no account). As JSON, or as the `report` part of a multipart/form-data body
    with photos in `photos`."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=16, description="A code from GET /api/v1/categories.")
    description: str = Field(default="", max_length=4000)
    lon: Longitude = Field(description="Longitude (经度), from the phone's GPS or a pin on the map.")
    lat: Latitude = Field(description="Latitude (纬度).")
    crs: CrsName = Field(default="wgs84", description=CRS_HELP)
    observed_at: Rfc3339DateTime | None = Field(default=None, description="When it was seen (RFC 3339).")
    reporter: CitizenContact
    notify: CitizenNotify | None = Field(
        default=None, description="Progress messages to the reporter's phone (opt-in; none without it)."
    )

    @field_validator("observed_at")
    @classmethod
    def _not_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + OBSERVED_AT_SKEW:
            raise ValueError("observed_at is in the future")
        return check_input_datetime(value)


class CitizenReceiptOut(BaseModel):
    """The answer to a citizen's report: keep `status_url`, it is shown only this once."""

    case_number: str = Field(description="The case number to quote on the phone, e.g. JJ-2026-000123.")
    merged: bool = Field(description="The report joined a case others had already reported.")
    photos: int = Field(description="How many photos were stored.")
    status_url: str = Field(description="The secret status page (/s/<token>): progress and feedback.")
    status_api_url: str = Field(description="The same as JSON (GET /api/v1/status/<token>).")


class PublicCategory(BaseModel):
    """A category by code and Chinese name."""

    code: str
    name: str


class TimelineEntry(BaseModel):
    """A step of the case as the public sees it."""

    at: datetime
    kind: str = Field(description="`received`, `routed`, `claimed`, `started`, `resolved`, `verified`, …")
    label: str = Field(description="The step in Chinese.")


class Feedback(BaseModel):
    """The squad's feedback (处置情况) once the case is resolved."""

    note: str
    resolved_at: datetime | None


class PublicPhoto(BaseModel):
    """A photo the status link shows (no metadata in the file)."""

    id: int
    media_type: str
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None
    uploaded_at: datetime


class StatusOut(BaseModel):
    """What a status link shows: no contact data, no staff names, no internal notes."""

    case_number: str
    status: Status
    status_label: str
    category: PublicCategory
    description: str = Field(description="The citizen's own description of the report.")
    submitted_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry]
    feedback: Feedback | None
    your_photos: list[PublicPhoto]
    after_photos: list[PublicPhoto] = Field(description="The squad's photos after handling it (整改后).")
