"""What input the service accepts, checked where it enters, with no Flask: request parsing
(coordinator.api), the route schemas and the bulk import's rows all use these.

* Text the databases cannot store: U+0000 (NUL). PostgreSQL's text cannot hold it (psycopg refuses the
  value, a 500 if it reached a query), so it is a client error on every backend alike.
* Numbers and datetimes the columns and Python's datetime can take: row ids, page numbers, a datetime
  range.
* Query-string models refuse unknown parameters (a typo must not silently widen a query).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

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


class QueryModel(BaseModel):
    """Base for query-string models: unknown parameters are an error (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


# Row ids are INTEGER columns (32 bits on PostgreSQL): a larger number cannot name a row, and binding it
# would overflow the driver (SQLite raises OverflowError beyond 64 bits) instead of answering 404.
MAX_ROW_ID = 2**31 - 1
# Page numbers stay small enough that the row offset, (page - 1) * page size, is a 64-bit integer.
MAX_PAGE = 1_000_000_000


# Datetimes a request may carry: wide enough for any filter, narrow enough that converting to UTC or
# adding the Open311 90-day span never leaves Python's datetime range (years 1 … 9999), and that a
# stored time never shows in Asia/Shanghai's pre-1901 local mean time (+08:05:43, not RFC 3339).
EARLIEST_INPUT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INPUT = datetime(9000, 1, 1, tzinfo=UTC)


def check_input_datetime(value: datetime | None) -> datetime | None:
    """For an aware datetime's field validator: ValueError (a 4xx) outside EARLIEST_INPUT … LATEST_INPUT."""
    if value is not None and not EARLIEST_INPUT <= value < LATEST_INPUT:
        raise ValueError("must be between 1970-01-01 and 9000-01-01")
    return value
