"""What input the service accepts, checked where it enters, with no Flask: request parsing
(coordinator.api), the route schemas and the bulk import's rows all use these.

* Types are not coerced across kinds. JSON bodies are validated strictly (coordinator.api.parse_body):
  a number is a JSON number, a boolean `true`/`false`, text a string. Query strings and form fields are
  text by nature, so each kind of value has exactly one spelling there (`QueryModel`): booleans `true` /
  `false`, numbers as JSON writes them, datetimes as RFC 3339 — never a Unix timestamp, never `0.5`.
* An empty query value means the parameter is absent, on every route (the Open311 rule, applied to our
  own API too): `?status=&page=2` is `?page=2`.
* Text the databases cannot store: U+0000 (NUL). PostgreSQL's text cannot hold it (psycopg refuses the
  value, a 500 if it reached a query), so it is a client error on every backend alike.
* Numbers and datetimes the columns and Python's datetime can take: row ids, page numbers, a datetime
  range; longitudes and latitudes in range.
* Query-string models refuse unknown parameters (a typo must not silently widen a query).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import (
    AllowInfNan,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    UrlConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def nul_fields(value: Any, path: str = "") -> list[str]:
    """The dotted paths of the strings (values or keys) in parsed input that hold U+0000."""
    if isinstance(value, str):
        return [path or "(input)"] if NUL in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if NUL in str(key) else nul_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_fields(item, f"{path}.{index}" if path else str(index))
    return found


# Row ids are INTEGER columns (32 bits on PostgreSQL): a larger number cannot name a row, and binding it
# would overflow the driver (SQLite raises OverflowError beyond 64 bits) instead of answering 404.
MAX_ROW_ID = 2**31 - 1
# A row id in a request body or query: what a `<id:…>` path segment is, for JSON and query fields.
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
# Page numbers stay small enough that the row offset, (page - 1) * page size, is a 64-bit integer.
MAX_PAGE = 1_000_000_000

# ---------------------------------------------------------------------------------------- datetimes

# Datetimes a request may carry are written with a year from 1970 to 8999: wide enough for any filter,
# narrow enough that converting to UTC or adding the Open311 90-day span never leaves Python's datetime
# range (years 1 … 9999), and that a stored time never shows in Asia/Shanghai's pre-1901 local mean time
# (+08:05:43, not RFC 3339). The year is checked as written, so the rule is a pattern the OpenAPI
# document can state exactly.
INPUT_YEARS = "between 1970-01-01 and 9000-01-01"
_YEAR = r"(?:19[7-9][0-9]|[2-8][0-9]{3})"
# Months with their days (29 February of every year; fromisoformat refuses it in common years).
_MONTH_DAY = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-9])|(?:0[13-9]|1[0-2])-30|(?:0[13578]|1[02])-31)"
_DATE = _YEAR + "-" + _MONTH_DAY
_HOUR_MINUTE = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_SECONDS = r":[0-5][0-9](?:\.[0-9]{1,6})?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
# RFC 3339 `date-time`: a date, `T`, a time with seconds and an offset (`Z` or ±hh:mm).
RFC3339_PATTERN = f"^{_DATE}[Tt]{_HOUR_MINUTE}{_SECONDS}{_OFFSET}$"
# ISO 8601 calendar date (`YYYY-MM-DD`).
DATE_PATTERN = f"^{_DATE}$"
# The W3C profile of ISO 8601 that Open311 names: a date alone, or with a time (seconds optional) and
# an optional offset (a time without one is local time, the caller decides which).
W3C_DATETIME_PATTERN = f"^{_DATE}(?:[Tt]{_HOUR_MINUTE}(?:{_SECONDS})?{_OFFSET}?)?$"

# A date (and time) whose only fault is its year.
_ANY_YEAR = re.compile(
    "^[0-9]{4}" + _DATE.removeprefix(_YEAR) + f"(?:[Tt]{_HOUR_MINUTE}(?:{_SECONDS})?{_OFFSET}?)?$"
)


def parse_datetime_text(text: str, pattern: str = RFC3339_PATTERN) -> datetime:
    """A datetime written per `pattern` (RFC 3339 by default); ValueError with a readable reason."""
    if not re.match(pattern, text):
        if _ANY_YEAR.match(text):
            raise ValueError(f"must be {INPUT_YEARS} (as written)")
        example = "2026-11-27T08:30:00+08:00"
        if pattern == RFC3339_PATTERN:
            raise ValueError(f"must be an RFC 3339 date-time with an offset, e.g. {example}")
        raise ValueError(f"must be an ISO 8601 date or date-time, e.g. 2026-11-27 or {example}")
    return datetime.fromisoformat(text.upper())  # fromisoformat wants `T` and `Z`; RFC 3339 allows t, z


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime_text(value)
    if isinstance(value, datetime):  # built in Python (the bulk import parses its own spellings)
        return value
    raise PydanticCustomError("datetime_type", "must be an RFC 3339 date-time string")


# A datetime in a JSON body: an RFC 3339 string with an offset, never a number (no Unix timestamps).
Rfc3339DateTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}),
]


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        if not re.match(DATE_PATTERN, value):
            raise ValueError(f"must be a date YYYY-MM-DD {INPUT_YEARS}")
        return date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError("date_type", "must be a date string YYYY-MM-DD")


# A date in a JSON body: `YYYY-MM-DD`, never a number or a Unix time in a string.
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]


def check_input_datetime(value: datetime | None) -> datetime | None:
    """For an aware datetime's field validator: ValueError (a 4xx) unless its year, as written, is one
    a request may carry (1970 … 8999)."""
    if value is not None and not 1970 <= value.year < 9000:
        raise ValueError(f"must be {INPUT_YEARS}")
    return value


# ------------------------------------------------------------------------------- longitude, latitude

# The ranges are enforced where a point is located (coordinator.geolocation.services.check_and_locate,
# which also recognises a swapped lon/lat pair and says so); the schema states them.
LONGITUDE_SCHEMA: dict[str, JsonValue] = {"type": "number", "minimum": -180, "maximum": 180}
LATITUDE_SCHEMA: dict[str, JsonValue] = {"type": "number", "minimum": -90, "maximum": 90}
Longitude = Annotated[float, AllowInfNan(False), WithJsonSchema(LONGITUDE_SCHEMA)]
Latitude = Annotated[float, AllowInfNan(False), WithJsonSchema(LATITUDE_SCHEMA)]

# A web address of a photo: http or https (pydantic's AnyHttpUrl, whose schema alone says any URI), at
# most 2083 characters (what browsers take).
WebUrl = Annotated[
    AnyHttpUrl,
    UrlConstraints(max_length=2083),
    WithJsonSchema(
        {"type": "string", "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://", "maxLength": 2083}
    ),
]

# ------------------------------------------------------------------------------------ query strings

# Numbers in query strings and form fields are written as JSON writes them: no `+`, no leading zeros,
# no `.5`, no `1_000`, no `inf`.
JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
TextParser = Callable[[str], Any]


def _query_bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError("must be true or false")
    return text == "true"


def _query_int(text: str) -> int:
    if not JSON_INTEGER.fullmatch(text):
        raise ValueError("must be an integer, written like 12")
    return int(text)


def _query_number(text: str) -> float:
    if not JSON_NUMBER.fullmatch(text):
        raise ValueError("must be a number, written like 121.45")
    return float(text)


def _query_date(text: str) -> date:
    if not re.match(DATE_PATTERN, text):
        raise ValueError(f"must be a date YYYY-MM-DD {INPUT_YEARS}")
    return date.fromisoformat(text)


def _scalar_types(annotation: Any) -> set[Any]:
    """The plain types a field's annotation admits (`int | None` → {int, NoneType})."""
    if get_origin(annotation) is Annotated:
        return _scalar_types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_scalar_types(arg) for arg in get_args(annotation)))
    if get_origin(annotation) is Literal:
        return {str}
    return {annotation}


class PatchModel(BaseModel):
    """Base for PATCH bodies. A field left out, or sent as `null`, keeps its value — no field of a PATCH
    clears by `null` (the columns behind them are not nullable, or null means the default) — so
    `changes()` is what to apply. Unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields to change: those sent with a value."""
        return self.model_dump(exclude_none=True)


class QueryModel(BaseModel):
    """Base for query-string (and form) models.

    - Unknown parameters are an error (typos must not pass silently).
    - An empty value is an absent parameter.
    - Each kind of value has one spelling (see the module docstring); `datetime_pattern` is the one for
      datetimes (RFC 3339 here; Open311 accepts the W3C profile of ISO 8601).
    The JSON schema says the same: no `null` (a parameter is absent, never null), and the pattern of
    datetimes and dates.
    """

    model_config = ConfigDict(extra="forbid")
    datetime_pattern: ClassVar[str] = RFC3339_PATTERN

    @classmethod
    def _text_parser(cls, annotation: Any) -> TextParser | None:
        kinds = _scalar_types(annotation) - {type(None)}
        if kinds == {bool}:
            return _query_bool
        if kinds == {int}:
            return _query_int
        if kinds == {float}:
            return _query_number
        if kinds == {datetime}:
            pattern = cls.datetime_pattern
            return lambda text: parse_datetime_text(text, pattern)
        if kinds == {date}:
            return _query_date
        return None

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = {(f.alias or name): f for name, f in cls.model_fields.items()}
        parsed: dict[str, Any] = {}
        errors: list[InitErrorDetails] = []
        for key, value in data.items():
            if value == "":
                continue  # empty means absent
            field = fields.get(key)
            parser = cls._text_parser(field.annotation) if field is not None else None
            if parser is not None and isinstance(value, str):
                try:
                    value = parser(value)
                except ValueError as exc:
                    error = PydanticCustomError("query_value", "{reason}", {"reason": str(exc)})
                    errors.append(InitErrorDetails(type=error, loc=(key,), input=value))
                    continue
            parsed[key] = value
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return parsed

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema = handler.resolve_ref_schema(schema)
        for prop in schema.get("properties", {}).values():
            options = prop.pop("anyOf", None)
            if options is not None:
                kept = [o for o in options if o != {"type": "null"}]
                if len(kept) == 1:
                    prop.update(kept[0])
                else:
                    prop["anyOf"] = kept
            if prop.get("default", ...) is None:
                del prop["default"]  # absent, not null
            if prop.get("format") == "date-time":
                prop["pattern"] = cls.datetime_pattern
                if cls.datetime_pattern != RFC3339_PATTERN:
                    del prop["format"]  # also a date alone: not a JSON Schema date-time
            elif prop.get("format") == "date":
                prop["pattern"] = DATE_PATTERN
        return schema
