"""Bulk import of hotline exports (CSV or JSON lines) through the one intake core.

Each row is submitted inside its own SAVEPOINT: a row that fails rolls back alone and is reported
with its line number and reason, so a bad row never stops the good ones and nothing is half-written.
Re-importing a file is safe: `external_id` per source makes every row idempotent (a second run
replays instead of creating), and rows without one are rejected for that reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.intake import ReportInput, submit_report
from coordinator.cases.schemas import ReportIn
from coordinator.errors import ApiError, ValidationFailed
from coordinator.validation import NUL_MESSAGE, nul_fields
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator

COLUMNS = (
    "external_id",
    "category",
    "lon",
    "lat",
    "crs",
    "description",
    "observed_at",
    "reporter_name",
    "reporter_phone",
)
REQUIRED_COLUMNS = ("external_id", "category", "lon", "lat")
# Hotline exports write local time, often without an offset and with slashes.
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d")

Outcome = Literal["new", "merged", "already", "rejected"]


@dataclass(frozen=True)
class RawRow:
    """One row as read: its line in the file (what a spreadsheet shows) and its values."""

    line: int
    values: dict[str, Any]
    error: str | None = None  # the row could not even be read (bad JSON)


@dataclass(frozen=True)
class RowResult:
    """What happened to one row."""

    line: int
    external_id: str
    outcome: Outcome
    reason: str = ""
    case_number: str | None = None


class RowRejected(Exception):
    """A row that cannot become a report, with the reason to show."""


def read_rows(path: Path, fmt: Literal["csv", "jsonl"], *, encoding: str = "utf-8-sig") -> list[RawRow]:
    """All rows of the file. A CSV without the required columns is refused as a whole."""
    if fmt == "csv":
        return list(_read_csv(path, encoding))
    rows = []
    with path.open(encoding=encoding) as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                rows.append(RawRow(number, {}, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(value, dict):
                rows.append(RawRow(number, {}, "each line must be a JSON object"))
                continue
            rows.append(RawRow(number, value))
    return rows


def _read_csv(path: Path, encoding: str) -> Iterator[RawRow]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValidationFailed(
                f"the CSV header lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}",
                code="bad_header",
            )
        for record in reader:
            values = {(k or "").strip(): v for k, v in record.items()}
            yield RawRow(reader.line_num, values)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_observed_at(value: Any) -> datetime | None:
    """ISO 8601 with or without offset, or `YYYY/MM/DD HH:MM[:SS]`; without an offset it is Shanghai time."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)  # noqa: DTZ007  (local time, made aware below)
                break
            except ValueError:
                continue
        else:
            raise RowRejected(
                f"observed_at {text!r} is not a date and time (e.g. 2026-11-20 08:30)"
            ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=SHANGHAI)


def parse_row(raw: RawRow, *, source: str, default_crs: str) -> ReportInput:
    """Validate one row with the same schema as POST /api/v1/reports; RowRejected says why not."""
    if raw.error:
        raise RowRejected(raw.error)
    values = raw.values
    external_id = _text(values.get("external_id"))
    if external_id is None:
        raise RowRejected("external_id is missing (it is what makes a re-import safe)")
    name, phone = _text(values.get("reporter_name")), _text(values.get("reporter_phone"))
    candidate = {
        "category": _text(values.get("category")) or "",
        "description": _text(values.get("description")) or "",
        "lon": _text(values.get("lon")),
        "lat": _text(values.get("lat")),
        "crs": (_text(values.get("crs")) or default_crs).lower(),
        "observed_at": parse_observed_at(values.get("observed_at")),
        "external_id": external_id,
        "reporter": {"name": name, "phone": phone} if name or phone else None,
    }
    nul = nul_fields(candidate)
    if nul:
        raise RowRejected(f"{', '.join(nul)}: {NUL_MESSAGE}")
    try:
        report = ReportIn.model_validate(candidate)
    except ValidationError as exc:
        reasons = [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise RowRejected("; ".join(reasons)) from None
    return report.to_input(source=source)  # the import's source: the operator's, not the file's


def import_row(
    session: Session,
    locator: Locator,
    raw: RawRow,
    *,
    source: str,
    default_crs: str,
    submitter: User | None,
    calendar: WorkCalendar,
    now: datetime | None = None,
) -> RowResult:
    """Import one row inside a SAVEPOINT; a failure rolls back this row only. Never commits."""
    external_id = _text(raw.values.get("external_id")) or ""
    try:
        data = parse_row(raw, source=source, default_crs=default_crs)
        with session.begin_nested():
            result = submit_report(session, locator, data, submitter=submitter, calendar=calendar, now=now)
    except RowRejected as exc:
        return RowResult(raw.line, external_id, "rejected", str(exc))
    except ApiError as exc:
        return RowResult(raw.line, external_id, "rejected", exc.message)
    except IntegrityError as exc:  # a constraint the checks above did not foresee: this row only
        return RowResult(raw.line, external_id, "rejected", f"database refused the row: {exc.orig}")
    outcome: Outcome = "already" if result.replayed else "merged" if result.merged else "new"
    return RowResult(raw.line, external_id, outcome, case_number=result.case_facts.number)
