"""Report intake: one report in, a routed case opened or an open case joined, in one transaction.

Every door — `POST /api/v1/reports`, Open311 `POST requests.json`, `flask reports import` — calls
`submit_report`, so idempotency, dedup, routing and numbering behave the same whichever way a report
comes. What needs no database (validation, locating, routing, building the rows) is done first; then,
under the intake locks (coordinator.cases.dedup), the lookup of a retry and of open duplicates, and the
writes — one SQLAlchemy Core statement per table, on the session's connection and in its transaction.
Nothing is written before every check passed, so a rejected report leaves nothing behind.

Intake is the hottest write path, so it skips the ORM unit of work and its statements are built once,
here, at import. Unique constraints on (submitter, Idempotency-Key) and (source, external id) back the
locks up. Services never commit; the request (or CLI command) commits once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    bindparam,
    case,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.base import Executable

from coordinator.auth.services import Actor
from coordinator.cases.dedup import (
    OPEN_DUPLICATES,
    dedup_params,
    intake_lock_keys,
    nearest,
    nearest_open_case,
)
from coordinator.cases.events import EventDraft, insert_events
from coordinator.cases.models import Case, CaseNumberCounter, CasePartner, Report
from coordinator.cases.reference import CategoryRef, reference_data
from coordinator.cases.routing import CasePlan, plan_case
from coordinator.db import UtcDateTime
from coordinator.dialects import Upsert, begin_write, insert_for, lock_keys
from coordinator.errors import Conflict, ValidationFailed
from coordinator.geolocation.services import check_and_locate
from coordinator.permissions import OUTSIDE_AREA_ROLES, may_file_outside_service_area
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Location, Locator

CASE_PREFIX = "JJ"
REPORTED_REASON = "{source} 上报"
MERGED_REASON = "{source} 上报，距案件 {distance} 米，并入"

_CASES = cast(Table, Case.__table__)
_REPORTS = cast(Table, Report.__table__)
_PARTNERS = cast(Table, CasePartner.__table__)
_COUNTERS = cast(Table, CaseNumberCounter.__table__)
_NOW = bindparam("now", type_=UtcDateTime())

# An earlier report with the same retry identity (unique constraints back both lookups); its columns
# match dedup's OPEN_DUPLICATES, so both go to the database as one UNION ALL.
_REPLAYS = (
    select(
        literal("replay", String).label("kind"),
        _REPORTS.c.id.label("report_id"),
        _REPORTS.c.case_id,
        _CASES.c.number,
        _CASES.c.status,
        _CASES.c.routing,
        _REPORTS.c.category_code,
        _REPORTS.c.input_lon.label("lon"),
        _REPORTS.c.input_lat.label("lat"),
        _REPORTS.c.idempotency_key,
        _REPORTS.c.merged,
        _CASES.c.district_code,
        _CASES.c.lead_squad_id,
    )
    .join_from(_REPORTS, _CASES, _CASES.c.id == _REPORTS.c.case_id)
    .where(
        or_(
            and_(
                _REPORTS.c.submitted_by_id == bindparam("submitter_id"),
                _REPORTS.c.idempotency_key == bindparam("idempotency_key"),
            ),
            and_(
                _REPORTS.c.source == bindparam("source"), _REPORTS.c.external_id == bindparam("external_id")
            ),
        )
    )
)
_REPLAYS_AND_DUPLICATES = union_all(_REPLAYS, OPEN_DUPLICATES)
_MERGE = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("case_id"))
    .values(
        report_count=_CASES.c.report_count + 1,
        last_report_at=case((_CASES.c.last_report_at < _NOW, _NOW), else_=_CASES.c.last_report_at),
        updated_at=_NOW,
    )
)
EXTERNAL_ID_MAX = 100  # the column's length
_INSERT_CASE = insert(_CASES).returning(_CASES.c.id)
_INSERT_REPORT = insert(_REPORTS).returning(_REPORTS.c.id)
_INSERT_PARTNERS = insert(_PARTNERS)


@dataclass(frozen=True)
class ReportInput:
    """A report as it arrives, before any lookup (validated for shape by the API schema)."""

    category: str
    lon: float
    lat: float
    crs: str = "wgs84"
    description: str = ""
    source: str = "citizen"
    observed_at: datetime | None = None
    photos: Sequence[str] = ()
    reporter_name: str | None = None
    reporter_phone: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    synthetic: bool = False
    notify_channel: str | None = None
    notify_consent: bool = False
    flat: dict[str, str] | None = None


@dataclass(frozen=True)
class CaseFacts:
    """What intake knows of the case a report opened or joined (enough to answer and to log events)."""

    id: int
    number: str
    status: str
    routing: dict[str, Any]
    district_code: str | None
    lead_squad_id: int | None


@dataclass(frozen=True)
class IntakeResult:
    """What happened to a report: the case it opened or joined, and whether this is a replay.

    `report` and `case` load the ORM rows on first use (the API answer needs only the ids, the number
    and the routing, which come with the result).
    """

    session: Session = field(repr=False, compare=False)
    report_id: int
    case_facts: CaseFacts
    merged: bool
    replayed: bool

    @property
    def case(self) -> Case:
        """The case row."""
        return self.session.get_one(Case, self.case_facts.id)

    @property
    def report(self) -> Report:
        """The report row."""
        return self.session.get_one(Report, self.report_id)


def submit_report(
    session: Session,
    locator: Locator,
    data: ReportInput,
    *,
    submitter: Actor | None,
    anonymous: bool = False,
    calendar: WorkCalendar,
    now: datetime | None = None,
) -> IntakeResult:
    """Take one report: replay a retry, else locate it, join a nearby open case or open a routed one.

    `submitter` None is the operator's import, or with `anonymous` a citizen without an account (held
    to the service area as a reporter account is).

    Locating needs no database: it is done before locking, so the locks can be as narrow as the dedup
    box. Under the locks: one lookup of a retry and of open duplicates, then the writes.
    """
    now = now or datetime.now(SHANGHAI)
    begin_write(session)
    reference = reference_data(session)
    category = reference.category(data.category)
    location = check_and_locate(locator, data.lon, data.lat, data.crs)
    check_service_area(location, submitter, anonymous=anonymous)
    session.flush()  # the Core statements below do not autoflush the caller's pending ORM objects
    lon, lat = location.lon, location.lat
    lock_keys(session, intake_lock_keys(category, lon, lat, retry_names=_retry_names(data, submitter)))
    retry = _retry_identity(data, submitter)
    if retry is None:
        best, distance = nearest_open_case(session, category, lon, lat, now=now)
    else:
        rows = session.connection().execute(
            _REPLAYS_AND_DUPLICATES, {**dedup_params(category, lon, lat, now), **retry}
        )
        candidates = rows.all()
        replays = sorted(
            (r for r in candidates if r.kind == "replay"),
            key=lambda r: (r.idempotency_key != data.idempotency_key, r.report_id),  # the key's match first
        )
        if replays:
            return _replayed(session, data, replays[0])
        best, distance = nearest(candidates, category.dedup_radius_m, lon, lat)
    report_row = _report_row(data, category, location, submitter, merged=best is not None, now=now)
    reported = _reported_event(data, submitter, best, distance)
    if best is not None:
        facts = _case_facts(best)
        report_id = write_merge(session, facts, report_row, reported, now=now)
        return IntakeResult(session, report_id, facts, merged=True, replayed=False)
    plan = plan_case(
        reference, locator, category, location, calendar=calendar, now=now, synthetic=data.synthetic
    )
    facts, report_id = write_new_case(session, plan, report_row, reported, now=now)
    return IntakeResult(session, report_id, facts, merged=False, replayed=False)


def check_service_area(location: Location, submitter: Actor | None, *, anonymous: bool = False) -> None:
    """422 `outside_service_area` for a point outside the member districts and their border zones,
    unless the submitter's role may file it there (coordinator.permissions) or there is no submitter
    and the report is not an anonymous citizen's (the operator's bulk import)."""
    if location.outcome == "member" or location.in_border_zone:
        return
    if submitter is None and not anonymous:
        return
    if submitter is not None and may_file_outside_service_area(submitter.role):
        return
    district = location.district.name_zh if location.district else None
    raise ValidationFailed(
        "该位置不在联盟服务范围内（成员区及其交界地带）；如确需上报，请联系调度台",
        code="outside_service_area",
        details={
            "lon": location.lon,
            "lat": location.lat,
            "outcome": location.outcome,
            "district": district,
            "allowed_roles": list(OUTSIDE_AREA_ROLES),
        },
    )


def stored_external_id(data: ReportInput, submitter: Actor | None) -> str | None:
    """The external id as stored: scoped to its submitter (`<user id>:<id>`), so one sender's ids never
    name another's reports; as given for the bulk import without a submitter (the hotline's own ids,
    unique per source). Unique per (source, stored id)."""
    if data.external_id is None:
        return None
    stored = data.external_id if submitter is None else f"{submitter.id}:{data.external_id}"
    if len(stored) > EXTERNAL_ID_MAX:
        raise ValidationFailed("external_id is too long", details={"max_length": EXTERNAL_ID_MAX - 12})
    return stored


def _retry_names(data: ReportInput, submitter: Actor | None) -> list[str]:
    """The lock names of the report's retry identities (see `_retry_identity`)."""
    names = []
    if data.idempotency_key and submitter is not None:
        names.append(f"idem:{submitter.id}:{data.idempotency_key}")
    external_id = stored_external_id(data, submitter)
    if external_id:
        names.append(f"ext:{data.source}:{external_id}")
    return names


def _retry_identity(data: ReportInput, submitter: Actor | None) -> dict[str, Any] | None:
    """What identifies a retry of this report: the Idempotency-Key per submitter, the external id per
    source and submitter."""
    if not ((data.idempotency_key and submitter is not None) or data.external_id):
        return None
    return {
        "submitter_id": submitter.id if submitter else None,
        "idempotency_key": data.idempotency_key,
        "source": data.source,
        "external_id": stored_external_id(data, submitter),
    }


def _reported_event(
    data: ReportInput, submitter: Actor | None, best: Any | None, distance: float | None
) -> EventDraft:
    """The report's own event: "reported" on a new case, "report_merged" on the case it joins."""
    if best is None or distance is None:
        return EventDraft(
            kind="reported",
            to_status="reported",
            reason=REPORTED_REASON.format(source=data.source),
            payload={"report_id": None, "distance_m": None},
            actor=submitter,
        )
    return EventDraft(
        kind="report_merged",
        to_status=best.status,
        reason=MERGED_REASON.format(source=data.source, distance=f"{distance:.0f}"),
        payload={"report_id": None, "distance_m": round(distance, 1)},
        actor=submitter,
    )


def _report_row(
    data: ReportInput,
    category: CategoryRef,
    location: Location,
    submitter: Actor | None,
    *,
    merged: bool,
    now: datetime,
) -> dict[str, Any]:
    """The report's row, without its case id."""
    return {
        "category_code": category.code,
        "description": data.description,
        "source": data.source,
        "observed_at": data.observed_at or now,
        "received_at": now,
        "input_lon": data.lon,
        "input_lat": data.lat,
        "input_crs": data.crs,
        "lon": location.lon,
        "lat": location.lat,
        "photos": list(data.photos),
        "reporter_name": data.reporter_name,
        "reporter_phone": data.reporter_phone,
        "external_id": stored_external_id(data, submitter),
        "idempotency_key": data.idempotency_key,
        "submitted_by_id": submitter.id if submitter else None,
        "merged": merged,
        "synthetic": data.synthetic,
        "notify_channel": data.notify_channel,
        "notify_consent": data.notify_consent,
        "flat": data.flat,
    }


def next_case_number(session: Session, now: datetime) -> str:
    """The next human case number of the year (Asia/Shanghai), e.g. JJ-2026-000123. Never reused.

    One statement: an upsert that creates the year's counter at 1 or increments it, returning the new
    value. The row lock it takes is held to commit, so concurrent intakes are numbered in commit order.
    """
    year = now.astimezone(SHANGHAI).year
    stmt = _counter_upsert(insert_for(session))
    last = session.connection().execute(stmt, {"year": year}).scalar_one()
    return f"{CASE_PREFIX}-{year}-{last:06d}"


@cache
def _counter_upsert(insert_flavour: Upsert) -> Executable:
    """`next_case_number`'s statement in one dialect's upsert flavour, built once per flavour (like the
    other intake statements, so a report does not pay for building and keying it)."""
    return (
        insert_flavour(_COUNTERS)
        .values(year=bindparam("year"), last=1)
        .on_conflict_do_update(index_elements=[_COUNTERS.c.year], set_={"last": _COUNTERS.c.last + 1})
        .returning(_COUNTERS.c.last)
    )


def write_new_case(
    session: Session, plan: CasePlan, report_row: dict[str, Any], reported: EventDraft, *, now: datetime
) -> tuple[CaseFacts, int]:
    """Insert the planned case, its partners, the report and the "reported" and "routed" events (with
    the outbox message), one Core statement per table. Returns the case's facts and the report id."""
    conn = session.connection()
    row = plan.row
    number = next_case_number(session, now)
    geom = ewkt_point(row["lon"], row["lat"])
    case_id = conn.execute(_INSERT_CASE, {**row, "number": number, "geom": geom}).scalar_one()
    if plan.partners:
        conn.execute(_INSERT_PARTNERS, [{**p, "case_id": case_id} for p in plan.partners])
    report_id = _insert_report(conn, case_id, report_row)
    facts = CaseFacts(
        case_id, number, row["status"], row["routing"], row["district_code"], row["lead_squad_id"]
    )
    insert_events(session, facts, [_with_report_id(reported, report_id), plan.routed], at=now)
    return facts, report_id


def write_merge(
    session: Session, facts: CaseFacts, report_row: dict[str, Any], merged: EventDraft, *, now: datetime
) -> int:
    """Count a duplicate report on its case, insert it and its "report_merged" event; the report id."""
    conn = session.connection()
    conn.execute(_MERGE, {"case_id": facts.id, "now": now})
    report_id = _insert_report(conn, facts.id, report_row)
    insert_events(session, facts, [_with_report_id(merged, report_id)], at=now)
    # The session's copy of the case, if it holds one, is stale now.
    cached_case = session.identity_map.get(identity_key(Case, facts.id))
    if cached_case is not None:
        session.expire(cached_case)
    return report_id


def _insert_report(conn: Connection, case_id: int, row: dict[str, Any]) -> int:
    geom = ewkt_point(row["lon"], row["lat"])
    report_id: int = conn.execute(_INSERT_REPORT, {**row, "case_id": case_id, "geom": geom}).scalar_one()
    return report_id


def _with_report_id(event: EventDraft, report_id: int) -> EventDraft:
    return replace(event, payload={**event.payload, "report_id": report_id})


def _case_facts(row: Any) -> CaseFacts:
    return CaseFacts(row.case_id, row.number, row.status, row.routing, row.district_code, row.lead_squad_id)


def _replayed(session: Session, data: ReportInput, row: Any) -> IntakeResult:
    if (
        row.category_code != data.category
        or not math.isclose(row.lon, data.lon, abs_tol=1e-9)
        or not math.isclose(row.lat, data.lat, abs_tol=1e-9)
    ):
        raise Conflict(
            "this Idempotency-Key / external id was already used for a different report",
            code="idempotency_key_reused",
            details={"report_id": row.report_id, "case_id": row.case_id},
        )
    return IntakeResult(session, row.report_id, _case_facts(row), bool(row.merged), replayed=True)


def ewkt_point(lon: float, lat: float) -> str:
    """A WGS-84 point as EWKT, the form GeoAlchemy binds on both backends (cheaper than WKB via shapely)."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"
