"""PostgreSQL: a report's intake in one round trip, the database function `intake_report`.

The locked part of an intake — advisory locks, the lookup of a retry and of an open duplicate, and the
writes (case number, case, partners, report, events, outbox; or the merge) — runs inside PostgreSQL as
one call of `intake_report(control jsonb, <rows> json…) RETURNS json` (migration 0006). Every
statement costs a network round trip plus the driver's, SQLAlchemy's and the server's per-statement
work; the intake used to need six (BEGIN, lock, lookup, write, COMMIT and the token check) and now needs
two, and on the API (autocommit, see coordinator.extensions.single_statement) no BEGIN or COMMIT at all:
the call is its own transaction, so it is atomic by itself (docs/performance.md has the numbers).

`coordinator.cases.services.submit_report` builds the arguments from the same builders as the
per-table path (SQLite's, and the reference); tests/cases/test_intake_paths.py checks on PostgreSQL
that both store identical rows.

Each row travels as a JSON object and is typed by PostgreSQL itself with
`json_populate_record(NULL::<table>, …)`, the table's own row type: no per-column casts to keep in step
with the schema, seven bound parameters instead of ~80 that SQLAlchemy and psycopg would each process
in Python. Aware datetimes go over as RFC 3339 with offset and floats in shortest round-trip form, so
timestamps and coordinates arrive exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from coordinator.db import DirectStatement

ROW_ARGUMENTS = ("case_row", "partner_rows", "report_row", "reported_event", "routed_event", "outbox_rows")
INTAKE = DirectStatement(
    text(
        "SELECT intake_report(CAST(:control AS jsonb), "
        + ", ".join(f"CAST(:{name} AS json)" for name in ROW_ARGUMENTS)
        + ") AS outcome"
    )
)


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


def run_intake(session: Session, control: Mapping[str, Any], rows: Mapping[str, Any]) -> dict[str, Any]:
    """Call `intake_report` (built by coordinator.cases.services): `control` holds the lock keys, the
    retry identity, the dedup box and the scalars; `rows` the rows to insert, by ROW_ARGUMENTS name.

    The answer, as a dict:
    - `{"outcome": "replay", "row": …}`: a retry; the first report's lookup row, nothing written;
    - `{"outcome": "merged", "report_id": …, "row": …}`: joined the open case in `row` (with `distance`);
    - `{"outcome": "opened", "report_id": …, "case_id": …, "number": …}`: opened the planned case.
    """
    params = {"control": _json(control), **{name: _json(rows[name]) for name in ROW_ARGUMENTS}}
    (row,) = INTAKE.rows(session, params)
    outcome: dict[str, Any] = row.outcome
    return outcome
