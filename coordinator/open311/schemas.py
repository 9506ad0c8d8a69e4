"""Open311 GeoReport v2 parameters and answers (they validate requests and document the routes).

Spec rules every model here follows: an empty optional parameter means "absent" (our own API's rule too,
coordinator.validation.QueryModel); dates are the W3C profile of ISO 8601 — a date, or a date and time
with an optional offset (a time without one is read as Asia/Shanghai time, what a local client means) —
never a number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, RootModel, field_validator, model_validator

from coordinator.geolocation.schemas import CRS_HELP, CrsName
from coordinator.validation import MAX_PAGE, W3C_DATETIME_PATTERN, Latitude, Longitude, QueryModel, WebUrl
from coordinator.worktime import SHANGHAI

MAX_RESULTS = 1000
MAX_SPAN_DAYS = 90


class Open311Params(QueryModel):
    """Base of Open311 query/form models: unknown parameters are an error, empty ones are absent, values
    have one spelling each (coordinator.validation.QueryModel) and datetimes are W3C/ISO 8601."""

    datetime_pattern: ClassVar[str] = W3C_DATETIME_PATTERN


def _local_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value


class JurisdictionParams(Open311Params):
    """`jurisdiction_id` is accepted everywhere and ignored: this endpoint serves one jurisdiction.
    `api_key` is accepted everywhere: reads are public and ignore it; a POST reads it from its form
    or, failing that, from its query string."""

    jurisdiction_id: str | None = Field(default=None, description="Ignored (one jurisdiction).")
    api_key: str | None = Field(
        default=None,
        description="The API token of a user allowed to report (needed to POST; ignored on reads).",
    )


# What the server requires of a POST, though the model lets the view answer the spec's own errors: a
# missing api_key is 403 (it may also come in the query string), a missing location a 400 that says
# why an address alone is not enough.
REQUIRED_TO_POST: list[JsonValue] = ["service_code", "lat", "long"]


class RequestForm(JurisdictionParams):
    """POST requests.json (form-encoded). A location by lat/long is required here."""

    model_config = ConfigDict(
        json_schema_extra={
            "required": REQUIRED_TO_POST,
            "patternProperties": {r"^attribute\[[^\]]+\]$": {"type": "string", "pattern": "^[^\\u0000]*$"}},
        }
    )

    service_code: str | None = Field(default=None, max_length=16, description="From services.json.")
    lat: Latitude | None = Field(default=None, description="Latitude (WGS-84).")
    long: Longitude | None = Field(default=None, description="Longitude (WGS-84).")
    address_string: str | None = Field(default=None, max_length=500, description="Not enough alone.")
    address_id: str | None = Field(default=None, max_length=100, description="Not enough alone.")
    description: str = Field(default="", max_length=4000)
    media_url: WebUrl | None = Field(default=None, description="A photo URL (http or https).")
    email: str | None = Field(default=None, max_length=200, description="Not stored (no place for it).")
    device_id: str | None = Field(default=None, max_length=200, description="Not stored.")
    account_id: str | None = Field(default=None, max_length=200, description="Echoed in the answer.")
    first_name: str | None = Field(default=None, max_length=50)
    last_name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,30}$")
    crs: CrsName = Field(default="wgs84", description="Extension. " + CRS_HELP)

    @model_validator(mode="before")
    @classmethod
    def _drop_attributes(cls, data: Any) -> Any:
        # `attribute[code]=v` answers service definitions; ours have no attributes (metadata=false).
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("attribute[")}
        return data


class RequestsQuery(JurisdictionParams):
    """GET requests.json filters (and the page/page_size extension)."""

    service_request_id: str | None = Field(
        default=None, description="Comma-separated ids; when given, every other filter is ignored."
    )
    service_code: str | None = Field(default=None, description="Comma-separated service codes.")
    start_date: datetime | None = Field(
        default=None,
        description="Earliest requested_datetime (e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00).",
    )
    end_date: datetime | None = Field(default=None, description="Latest requested_datetime.")
    status: Literal["open", "closed", "open,closed", "closed,open"] | None = Field(
        default=None, description="`open`, `closed` or both (comma-separated)."
    )
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Extension: page number.")
    page_size: int = Field(default=MAX_RESULTS, ge=1, le=MAX_RESULTS, description="Extension.")
    extensions: bool | None = Field(default=None, description="Accepted; no extended attributes.")

    _aware = field_validator("start_date", "end_date")(_local_aware)


class DiscoveryEndpoint(BaseModel):
    """One API endpoint in discovery.json."""

    specification: str
    url: str
    changeset: datetime
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    """Service discovery."""

    changeset: datetime
    contact: str
    key_service: str
    endpoints: list[DiscoveryEndpoint]


class Service(BaseModel):
    """A service (one of our report categories)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class ServiceList(RootModel[list[Service]]):
    """services.json."""


class AttributeValue(BaseModel):
    """One choice of a list attribute."""

    key: str
    name: str


class ServiceAttribute(BaseModel):
    """An extra attribute a service asks for (the spec's shape; our services define none)."""

    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue] | None = None


class ServiceDefinition(BaseModel):
    """services/{code}.json: our services have no extra attributes."""

    service_code: str
    attributes: list[ServiceAttribute] = Field(description="Always empty: metadata is false.")


class ServiceRequest(BaseModel):
    """A service request as read back (never with personal data)."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str = Field(
        description="As written, but with phone numbers, ID numbers and e-mail addresses masked."
    )
    agency_responsible: str | None
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None = Field(description="The resolve deadline of the case.")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None


class ServiceRequestList(RootModel[list[ServiceRequest]]):
    """requests.json, requests/{id}.json (a list of one)."""


class Created(BaseModel):
    """The answer to POST requests.json (one element)."""

    service_request_id: str
    service_notice: str
    account_id: str | None


class CreatedList(RootModel[list[Created]]):
    """POST requests.json answers a list of one."""


class Open311Error(BaseModel):
    """One error."""

    code: int
    description: str


class Open311Errors(RootModel[list[Open311Error]]):
    """Every Open311 error answer: a list of {code, description}."""
