"""PostgreSQL: an intake's writes in one statement.

On PostgreSQL every statement is a network round trip plus the driver's and SQLAlchemy's per-statement
Python, and a report that opens a case used to need six of them after the dedup lookup (case number,
case, partners, report, events, outbox). Data-modifying CTEs let PostgreSQL do all of it in one
statement, in one snapshot, with the ids flowing between the inserts inside the server:

    WITH n AS (upsert the year's counter RETURNING last),
         c AS (INSERT INTO case_file … SELECT 'JJ-2026-' || lpad(n.last, 6, '0'), … FROM n
               RETURNING id, number),
         p AS (INSERT INTO case_partner … FROM c, json_populate_recordset(NULL::case_partner, :partners)),
         r AS (INSERT INTO report … FROM c RETURNING id),
         e AS (INSERT INTO case_event … the "reported" event (with r.id) and the "routed" event),
         o AS (INSERT INTO outbox_message … with c.number)
    SELECT c.id, c.number, r.id FROM c, r

A merge is the same idea: UPDATE the case, INSERT the report and its event. SQLite has no
data-modifying CTEs; there `coordinator.cases.services` runs the same rows as separate Core
statements (in-process calls, no round trips). Both paths take their rows from the same builders in
`services`, and tests/cases/test_intake_paths.py checks on PostgreSQL that they write identical rows.

Each row travels as one JSON document (orjson: one C call per row) and is typed by PostgreSQL itself
with `json_populate_record(NULL::<table>, …)`, the table's own row type: no per-column casts to keep in
step with the schema, and eight bound parameters instead of ~80 that SQLAlchemy and psycopg would each
process in Python. Aware datetimes go over as RFC 3339 with offset and floats in shortest round-trip
form, so timestamps and coordinates arrive exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from coordinator.db import DirectStatement

# Columns written from parameters (the geometry is built from lon/lat in SQL; ids come from the CTEs).
CASE_COLUMNS = (
    "status", "category_code", "lon", "lat", "district_code", "town_code", "outcome", "in_border_zone",
    "border_pair_a", "border_pair_b", "lead_squad_id", "queue_unit_id", "routing", "claim_by",
    "resolve_by", "report_count", "created_at", "updated_at", "last_report_at", "synthetic",
    "resolution_photos",
)  # fmt: skip
REPORT_COLUMNS = (
    "category_code", "description", "source", "observed_at", "received_at", "input_lon", "input_lat",
    "input_crs", "lon", "lat", "photos", "reporter_name", "reporter_phone", "external_id",
    "idempotency_key", "submitted_by_id", "merged", "synthetic",
)  # fmt: skip
EVENT_COLUMNS = ("at", "actor_id", "actor", "kind", "from_status", "to_status", "reason")


def _from(record: str, columns: Iterable[str]) -> str:
    return ", ".join(f"{record}.{c}" for c in columns)


def _row(param: str, table: str) -> str:
    """A one-row relation typed as `table`'s rows, from the JSON object bound to `param`."""
    return f"json_populate_record(NULL::{table}, CAST(:{param} AS json))"


_POINT = "ST_SetSRID(ST_MakePoint({r}.lon, {r}.lat), 4326)"
_REPORT_INSERT = (
    f"rr AS (SELECT * FROM {_row('report', 'report')}), "
    f"r AS (INSERT INTO report (case_id, geom, {', '.join(REPORT_COLUMNS)}) "
    f"SELECT c.id, {_POINT.format(r='rr')}, {_from('rr', REPORT_COLUMNS)} FROM c, rr RETURNING id)"
)
_EVENT_INSERT_HEAD = f"INSERT INTO case_event (case_id, {', '.join(EVENT_COLUMNS)}, payload) "
# The first event of every intake carries the new report's id, known only inside the statement.
_REPORTED_EVENT = (
    f"SELECT c.id, {_from('e1', EVENT_COLUMNS)}, "
    "json_build_object('report_id', r.id, 'distance_m', e1.payload -> 'distance_m') "
    f"FROM c, r, {_row('reported', 'case_event')} AS e1"
)

_OPEN_CASE_SQL = (
    "WITH n AS (INSERT INTO case_number_counter (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = case_number_counter.last + 1 RETURNING last), "
    f"cr AS (SELECT * FROM {_row('case', 'case_file')}), "
    f"c AS (INSERT INTO case_file (number, geom, {', '.join(CASE_COLUMNS)}) "
    "SELECT CAST(:number_prefix AS text) || "
    "lpad(CAST(n.last AS text), GREATEST(6, length(CAST(n.last AS text))), '0'), "
    f"{_POINT.format(r='cr')}, {_from('cr', CASE_COLUMNS)} FROM n, cr RETURNING id, number), "
    "p AS (INSERT INTO case_partner (case_id, squad_id, reason, added_at) "
    "SELECT c.id, x.squad_id, x.reason, x.added_at "
    "FROM c, json_populate_recordset(NULL::case_partner, CAST(:partners AS json)) AS x), "
    f"{_REPORT_INSERT}, "
    f"e AS ({_EVENT_INSERT_HEAD}{_REPORTED_EVENT} "
    f"UNION ALL SELECT c.id, {_from('e2', EVENT_COLUMNS)}, e2.payload "
    f"FROM c, {_row('routed', 'case_event')} AS e2), "
    "o AS (INSERT INTO outbox_message (kind, case_id, payload, created_at) "
    "SELECT o.kind, c.id, "
    "CAST(CAST(o.payload AS jsonb) || jsonb_build_object('case_number', c.number) AS json), "
    f"o.created_at FROM c, json_populate_recordset(NULL::outbox_message, CAST(:outbox AS json)) AS o) "
    "SELECT c.id AS case_id, c.number, r.id AS report_id FROM c, r"
)
_MERGE_SQL = (
    "WITH c AS (UPDATE case_file SET report_count = report_count + 1, "
    "last_report_at = GREATEST(last_report_at, CAST(:now AS timestamptz)), "
    "updated_at = CAST(:now AS timestamptz) WHERE id = :case_id RETURNING id), "
    f"{_REPORT_INSERT}, "
    f"e AS ({_EVENT_INSERT_HEAD}{_REPORTED_EVENT}) "
    "SELECT r.id AS report_id FROM r"
)

OPEN_CASE = DirectStatement(text(_OPEN_CASE_SQL))
MERGE = DirectStatement(text(_MERGE_SQL))


def _datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    if value.tzinfo is None:  # the same refusal as coordinator.db.UtcDateTime on the other path
        raise ValueError("naive datetime given; store timezone-aware datetimes only")
    return value.isoformat()


def _json(value: Any) -> str:
    # Aware datetimes as ISO 8601 with offset (PostgreSQL parses them into timestamptz exactly), naive
    # ones refused; floats in shortest round-trip form; Chinese text as UTF-8.
    try:
        return orjson.dumps(value, default=_datetime, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError as error:
        if isinstance(error.__cause__, ValueError):  # orjson wraps what `default` raised
            raise error.__cause__ from None
        raise


def open_case_with_report(
    session: Session,
    *,
    year: int,
    number_prefix: str,
    case_row: Mapping[str, Any],
    partner_rows: list[dict[str, Any]],
    report_row: Mapping[str, Any],
    reported_event: Mapping[str, Any],
    routed_event: Mapping[str, Any],
    outbox_row: Mapping[str, Any] | None,
) -> tuple[int, str, int]:
    """Insert case, partners, report, both events and the outbox message; return (case id, number,
    report id). The rows are those the generic path would insert (the builders in `services`)."""
    params = {
        "year": year,
        "number_prefix": number_prefix,
        "case": _json(case_row),
        "partners": _json(partner_rows),
        "report": _json(report_row),
        "reported": _json(reported_event),
        "routed": _json(routed_event),
        "outbox": _json([outbox_row] if outbox_row else []),
    }
    (row,) = OPEN_CASE.rows(session, params)
    return int(row.case_id), str(row.number), int(row.report_id)


def merge_report(
    session: Session,
    *,
    case_id: int,
    now: datetime,
    report_row: Mapping[str, Any],
    merged_event: Mapping[str, Any],
) -> int:
    """Count the report on its case, insert it and its event; return the report id."""
    params = {
        "case_id": case_id,
        "now": now,
        "report": _json(report_row),
        "reported": _json(merged_event),
    }
    (row,) = MERGE.rows(session, params)
    return int(row.report_id)
