"""Open311 GeoReport v2 parameters and answers (they validate requests and document the routes).

Spec rules every model here follows: an empty optional parameter means "absent"; dates are ISO 8601
with an offset (a date without one is read as Asia/Shanghai time, what a local client means).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from coordinator.geolocation.schemas import CRS_HELP, CrsName
from coordinator.validation import MAX_PAGE, check_input_datetime
from coordinator.worktime import SHANGHAI

MAX_RESULTS = 1000
MAX_SPAN_DAYS = 90


class Open311Params(BaseModel):
    """Base of Open311 query/form models: unknown parameters are an error, empty ones are absent."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


def _local_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return check_input_datetime(value)


class JurisdictionParams(Open311Params):
    """`jurisdiction_id` is accepted everywhere and ignored: this endpoint serves one jurisdiction."""

    jurisdiction_id: str | None = Field(default=None, description="Ignored (one jurisdiction).")


class RequestForm(JurisdictionParams):
    """POST requests.json (form-encoded). A location by lat/long is required here."""

    api_key: str | None = Field(default=None, description="The API token of a user allowed to report.")
    service_code: str | None = Field(default=None, max_length=16, description="From services.json.")
    lat: float | None = Field(default=None, allow_inf_nan=False, description="Latitude (WGS-84).")
    long: float | None = Field(default=None, allow_inf_nan=False, description="Longitude (WGS-84).")
    address_string: str | None = Field(default=None, max_length=500, description="Not enough alone.")
    address_id: str | None = Field(default=None, max_length=100, description="Not enough alone.")
    description: str = Field(default="", max_length=4000)
    media_url: AnyHttpUrl | None = Field(default=None, description="A photo URL.")
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
    start_date: datetime | None = Field(default=None, description="Earliest requested_datetime.")
    end_date: datetime | None = Field(default=None, description="Latest requested_datetime.")
    status: str | None = Field(default=None, description="`open`, `closed` or `open,closed`.")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Extension: page number.")
    page_size: int = Field(default=MAX_RESULTS, ge=1, le=MAX_RESULTS, description="Extension.")
    extensions: str | None = Field(default=None, description="Accepted; no extended attributes.")

    _aware = field_validator("start_date", "end_date")(_local_aware)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and not {s.strip() for s in value.split(",")} <= {"open", "closed"}:
            raise ValueError("status must be open or closed")
        return value


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
