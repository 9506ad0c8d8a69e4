"""PostgreSQL: an intake's writes in one statement.

On PostgreSQL every statement is a network round trip plus the driver's and SQLAlchemy's per-statement
Python, and a report that opens a case used to need six of them after the dedup lookup (case number,
case, partners, report, events, outbox). Data-modifying CTEs let PostgreSQL do all of it in one
statement, in one snapshot, with the ids flowing between the inserts inside the server:

    WITH n AS (upsert the year's counter RETURNING last),
         c AS (INSERT INTO case_file … SELECT 'JJ-2026-' || lpad(n.last, 6, '0'), … FROM n
               RETURNING id, number),
         p AS (INSERT INTO case_partner … FROM c, json_to_recordset(:partners)),
         r AS (INSERT INTO report … FROM c RETURNING id),
         e AS (INSERT INTO case_event … the "reported" event (with r.id) and the "routed" event),
         o AS (INSERT INTO outbox_message … with c.number)
    SELECT c.id, c.number, r.id FROM c, r

A merge is the same idea: UPDATE the case, INSERT the report and its event. SQLite has no
data-modifying CTEs; there `coordinator.cases.services` runs the same rows as separate Core
statements (in-process calls, no round trips). Both paths take their rows from the same builders in
`services`, and tests/cases/test_intake_paths.py checks on PostgreSQL that they write identical rows.

Every parameter is cast to its column's type (generated from the models, so the SQL cannot drift from
the schema) and bound with that type, so values go through the same processors as ORM writes
(UTC datetimes, the JSON serializer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import JSON, Connection, Table, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql

from coordinator.cases.models import Case, CaseEvent, CaseNumberCounter, Report
from coordinator.notifications.models import OutboxMessage

_CASES = cast(Table, Case.__table__)
_REPORTS = cast(Table, Report.__table__)
_EVENTS = cast(Table, CaseEvent.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_COUNTER = cast(Table, CaseNumberCounter.__table__)
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]

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


def _sql_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=_DIALECT))


def _params(table: Table, prefix: str, columns: Iterable[str]) -> list[str]:
    return [f"CAST(:{prefix}{c} AS {_sql_type(table, c)})" for c in columns]


def _binds(table: Table, prefix: str, columns: Iterable[str]) -> list[Any]:
    return [bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns]


def _event_select(prefix: str, payload_sql: str) -> str:
    values = ", ".join(_params(_EVENTS, prefix, EVENT_COLUMNS))
    return f"SELECT c.id, {values}, {payload_sql}"


_POINT = "ST_SetSRID(ST_MakePoint(CAST(:{p}lon AS float8), CAST(:{p}lat AS float8)), 4326)"
# The SQL below is assembled only from this module's constants and the models' column types (no input
# ever reaches it: values are bound parameters), hence the S608 exemption in pyproject.toml.
_REPORT_INSERT = (
    f"r AS (INSERT INTO report (case_id, geom, {', '.join(REPORT_COLUMNS)}) "
    f"SELECT c.id, {_POINT.format(p='r_')}, {', '.join(_params(_REPORTS, 'r_', REPORT_COLUMNS))} FROM c "
    "RETURNING id)"
)
_EVENT_INSERT_HEAD = f"INSERT INTO case_event (case_id, {', '.join(EVENT_COLUMNS)}, payload) "
# The first event of every intake carries the new report's id, known only inside the statement.
_REPORTED_PAYLOAD = (
    "CAST(json_build_object('report_id', r.id, 'distance_m', CAST(:e1_distance_m AS float8)) AS json)"
)

_OPEN_CASE_SQL = (
    "WITH n AS (INSERT INTO case_number_counter (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = case_number_counter.last + 1 RETURNING last), "
    f"c AS (INSERT INTO case_file (number, geom, {', '.join(CASE_COLUMNS)}) "
    "SELECT CAST(:number_prefix AS text) || "
    "lpad(CAST(n.last AS text), GREATEST(6, length(CAST(n.last AS text))), '0'), "
    f"{_POINT.format(p='c_')}, "
    f"{', '.join(_params(_CASES, 'c_', CASE_COLUMNS))} FROM n RETURNING id, number), "
    "p AS (INSERT INTO case_partner (case_id, squad_id, reason, added_at) "
    "SELECT c.id, x.squad_id, x.reason, CAST(:c_created_at AS timestamptz) "
    "FROM c, json_to_recordset(CAST(:partners AS json)) AS x(squad_id integer, reason text)), "
    f"{_REPORT_INSERT}, "
    f"e AS ({_EVENT_INSERT_HEAD}{_event_select('e1_', _REPORTED_PAYLOAD)} FROM c, r "
    f"UNION ALL {_event_select('e2_', 'CAST(:e2_payload AS json)')} FROM c), "
    "o AS (INSERT INTO outbox_message (kind, case_id, payload, created_at) "
    "SELECT CAST(:o_kind AS text), c.id, "
    "CAST(CAST(:o_payload AS jsonb) || jsonb_build_object('case_number', c.number) AS json), "
    "CAST(:o_created_at AS timestamptz) FROM c WHERE CAST(:o_kind AS text) IS NOT NULL) "
    "SELECT c.id AS case_id, c.number, r.id AS report_id FROM c, r"
)
_MERGE_SQL = (
    "WITH c AS (UPDATE case_file SET report_count = report_count + 1, "
    "last_report_at = GREATEST(last_report_at, CAST(:now AS timestamptz)), "
    "updated_at = CAST(:now AS timestamptz) WHERE id = :case_id RETURNING id), "
    f"{_REPORT_INSERT}, "
    f"e AS ({_EVENT_INSERT_HEAD}{_event_select('e1_', _REPORTED_PAYLOAD)} FROM c, r) "
    "SELECT r.id AS report_id FROM r"
)

_EVENT_BINDS = [*_binds(_EVENTS, "e1_", EVENT_COLUMNS), *_binds(_EVENTS, "e2_", EVENT_COLUMNS)]
OPEN_CASE: TextClause = text(_OPEN_CASE_SQL).bindparams(
    *_binds(_CASES, "c_", CASE_COLUMNS),
    *_binds(_REPORTS, "r_", REPORT_COLUMNS),
    *_EVENT_BINDS,
    bindparam("partners", type_=JSON),
    bindparam("e2_payload", type_=JSON),
    bindparam("o_payload", type_=JSON),
    bindparam("o_created_at", type_=_OUTBOX.c.created_at.type),
)
MERGE: TextClause = text(_MERGE_SQL).bindparams(
    *_binds(_REPORTS, "r_", REPORT_COLUMNS),
    *_binds(_EVENTS, "e1_", EVENT_COLUMNS),
    bindparam("now", type_=_CASES.c.updated_at.type),
)


def _prefixed(prefix: str, row: Mapping[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    return {f"{prefix}{c}": row[c] for c in columns}


def open_case_with_report(
    conn: Connection,
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
    params: dict[str, Any] = {
        "year": year,
        "number_prefix": number_prefix,
        **_prefixed("c_", case_row, CASE_COLUMNS),
        "partners": [{"squad_id": p["squad_id"], "reason": p["reason"]} for p in partner_rows],
        **_prefixed("r_", report_row, REPORT_COLUMNS),
        **_prefixed("e1_", reported_event, EVENT_COLUMNS),
        "e1_distance_m": reported_event["payload"].get("distance_m"),
        **_prefixed("e2_", routed_event, EVENT_COLUMNS),
        "e2_payload": routed_event["payload"],
        "o_kind": outbox_row["kind"] if outbox_row else None,
        "o_payload": outbox_row["payload"] if outbox_row else {},
        "o_created_at": outbox_row["created_at"] if outbox_row else case_row["created_at"],
    }
    row = conn.execute(OPEN_CASE, params).one()
    return int(row.case_id), str(row.number), int(row.report_id)


def merge_report(
    conn: Connection,
    *,
    case_id: int,
    now: Any,
    report_row: Mapping[str, Any],
    merged_event: Mapping[str, Any],
) -> int:
    """Count the report on its case, insert it and its event; return the report id."""
    params: dict[str, Any] = {
        "case_id": case_id,
        "now": now,
        **_prefixed("r_", report_row, REPORT_COLUMNS),
        **_prefixed("e1_", merged_event, EVENT_COLUMNS),
        "e1_distance_m": merged_event["payload"].get("distance_m"),
    }
    return int(conn.execute(MERGE, params).scalar_one())
