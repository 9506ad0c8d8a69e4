"""Report intake: idempotent submission, dedup into open cases, 首接负责 routing, case numbers, reads.

Services take a Session and never commit; the request (or CLI command) commits once.

Concurrency: intakes that could collide are serialised — on PostgreSQL by transaction-scoped advisory
locks on the report's retry identity and on every ~1 km cell its dedup box touches (per category); on
SQLite by the write lock of `BEGIN IMMEDIATE` — so two reports of the same pile of rubbish arriving at
once cannot both open a case, and a retried request waits for the first and then replays its answer.
Unique constraints on (submitter, Idempotency-Key) and (source, external id) back this up.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.util import identity_key

from coordinator.auth.models import User
from coordinator.auth.services import Actor
from coordinator.cases import intake_pg
from coordinator.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePartner,
    CaseTransfer,
    Category,
    Report,
    RoutingRule,
)
from coordinator.db import Base, DirectStatement, UtcDateTime, begin_write
from coordinator.errors import Conflict, NotFound, ValidationFailed
from coordinator.geolocation.services import check_and_locate, location_payload
from coordinator.notifications.models import OutboxMessage
from coordinator.notifications.services import NOTIFY_KINDS, enqueue
from coordinator.refcache import cached
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime import WorkCalendar
from geo.locator import Location, Locator

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE_PREFIX = "JJ"
EARTH_RADIUS_M = 6_371_008.8


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


@dataclass(frozen=True)
class CategoryRef:
    """What intake needs of an active category (a snapshot, shared between requests)."""

    code: str
    dedup_radius_m: float
    dedup_window_h: float
    claim_limit_value: float
    claim_limit_unit: str
    resolve_limit_value: float
    resolve_limit_unit: str


@dataclass(frozen=True)
class RuleRef:
    """An active routing rule (a snapshot of `RoutingRule`)."""

    name: str
    reason_zh: str
    outcome: str | None
    in_border_zone: bool | None
    category_code: str | None
    lead: str
    partner: str
    queue: str


@dataclass(frozen=True)
class SquadRef:
    """An active squad as routing sees it (a snapshot of `Squad`)."""

    id: int
    code: str
    name_zh: str
    district_code: str
    categories: tuple[str, ...]

    def handles(self, category: str) -> bool:
        """Whether the squad takes cases of `category` (an empty list means all categories)."""
        return not self.categories or category in self.categories


@dataclass(frozen=True)
class UnitRef:
    """A dispatch unit (a snapshot of `DispatchUnit`)."""

    id: int
    code: str
    name_zh: str


@dataclass(frozen=True)
class ReferenceData:
    """Everything intake reads besides the cases themselves; cached per process (coordinator.refcache)."""

    categories: dict[str, CategoryRef]
    rules: tuple[RuleRef, ...]  # active, by priority
    squads_by_area: dict[str, tuple[SquadRef, ...]]  # active squads by jurisdiction, by code
    district_units: dict[str, UnitRef]  # the first district-level unit of each district (by id)
    alliance_unit: UnitRef | None  # the first alliance-level unit (by id)

    def category(self, code: str) -> CategoryRef:
        """An active category, or 422 naming the valid codes."""
        category = self.categories.get(code)
        if category is None:
            raise ValidationFailed(
                f"unknown category {code!r}",
                code="unknown_category",
                details={"category": code, "valid": sorted(self.categories)},
            )
        return category


def load_reference(session: Session) -> ReferenceData:
    """Read the reference tables intake needs (four statements)."""
    categories = {
        c.code: CategoryRef(
            c.code,
            c.dedup_radius_m,
            c.dedup_window_h,
            c.claim_limit_value,
            c.claim_limit_unit,
            c.resolve_limit_value,
            c.resolve_limit_unit,
        )
        for c in list_categories(session)
    }
    rules = tuple(
        RuleRef(r.name, r.reason_zh, r.outcome, r.in_border_zone, r.category_code, r.lead, r.partner, r.queue)
        for r in session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.priority)
        )
    )
    squads: dict[str, list[SquadRef]] = {}
    for sq in session.scalars(
        select(Squad).where(Squad.active.is_(True), Squad.jurisdiction_code.isnot(None)).order_by(Squad.code)
    ):
        ref = SquadRef(sq.id, sq.code, sq.name_zh, sq.district_code, tuple(sq.categories or ()))
        squads.setdefault(sq.jurisdiction_code or "", []).append(ref)
    district_units: dict[str, UnitRef] = {}
    alliance_unit: UnitRef | None = None
    for unit in session.scalars(select(DispatchUnit).order_by(DispatchUnit.id)):
        ref_unit = UnitRef(unit.id, unit.code, unit.name_zh)
        if unit.level == "district" and unit.district_code is not None:
            district_units.setdefault(unit.district_code, ref_unit)
        elif unit.level == "alliance" and alliance_unit is None:
            alliance_unit = ref_unit
    return ReferenceData(
        categories, rules, {k: tuple(v) for k, v in squads.items()}, district_units, alliance_unit
    )


def reference_data(session: Session) -> ReferenceData:
    """The reference data through the session's per-process cache (fresh within refcache.TTL_S)."""
    return cached(session, "intake", load_reference)


@dataclass
class RoutingDecision:
    """Who owns a new case and why."""

    rule: str
    reason: str
    lead: SquadRef | None
    queue: UnitRef | None
    partners: list[tuple[SquadRef, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- lookups ---------------------------------------------------------------------------------------


def list_categories(session: Session, *, active_only: bool = True) -> list[Category]:
    """Categories ordered by code."""
    stmt = select(Category).order_by(Category.code)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return list(session.scalars(stmt))


def get_case(session: Session, case_id: int) -> Case:
    """A case with its reports, partners and events, or 404."""
    case = session.scalars(
        select(Case)
        .where(Case.id == case_id)
        .options(selectinload(Case.reports), selectinload(Case.partners), selectinload(Case.events))
    ).one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id}", details={"id": case_id})
    return case


# -- intake ----------------------------------------------------------------------------------------
# Intake is the hottest write path of the service, so it speaks SQLAlchemy Core on the session's
# connection (same transaction as the ORM) with statements built once at import: the ORM unit of work
# cost more Python time per report than everything else in the request together (docs/performance.md).

_CASES = cast(Table, Case.__table__)
_REPORTS = cast(Table, Report.__table__)
_PARTNERS = cast(Table, CasePartner.__table__)
_EVENTS = cast(Table, CaseEvent.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_NOW = bindparam("now", type_=UtcDateTime())

# Dedup boxes are locked per cell of this size (degrees, ~1 km): reports far apart never wait for each
# other, reports that could be duplicates of each other always do.
LOCK_CELL_DEG = 0.01

_LOCK = DirectStatement(
    text(
        "SELECT pg_advisory_xact_lock(k) "
        "FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS sorted_keys"
    )
)

# The open cases of one category in the dedup box (a range scan of ix_case_dedup: see docs/cases.md).
_DUPLICATES = select(
    literal("case", String).label("kind"),
    null().label("report_id"),
    _CASES.c.id.label("case_id"),
    _CASES.c.number,
    _CASES.c.status,
    _CASES.c.routing,
    _CASES.c.category_code,
    _CASES.c.lon,
    _CASES.c.lat,
    null().label("idempotency_key"),
    literal(False, Boolean).label("merged"),
    _CASES.c.district_code,
    _CASES.c.lead_squad_id,
).where(
    _CASES.c.category_code == bindparam("category"),
    _CASES.c.lat.between(bindparam("lat_min"), bindparam("lat_max")),
    _CASES.c.lon.between(bindparam("lon_min"), bindparam("lon_max")),
    # The statuses as SQL literals (constants), so the statement compiles once to fixed SQL.
    _CASES.c.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES]),
    _CASES.c.last_report_at >= bindparam("since"),
)
# An earlier report with the same retry identity (unique constraints back both lookups).
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
# Replays and duplicates in one round trip (the replay part only when the report has a retry identity).
_REPLAYS_AND_DUPLICATES = union_all(_REPLAYS, _DUPLICATES)
_LOOKUP_DIRECT = DirectStatement(_REPLAYS_AND_DUPLICATES)
_DUPLICATES_DIRECT = DirectStatement(_DUPLICATES)
_MERGE = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("case_id"))
    .values(
        report_count=_CASES.c.report_count + 1,
        last_report_at=case((_CASES.c.last_report_at < _NOW, _NOW), else_=_CASES.c.last_report_at),
        updated_at=_NOW,
    )
)
_INSERT_CASE = insert(_CASES).returning(_CASES.c.id)
_INSERT_REPORT = insert(_REPORTS).returning(_REPORTS.c.id)
# PostgreSQL runs the locked part of an intake as one database function call (coordinator.cases.intake_pg);
# tests switch this off to compare it with the per-table path every backend can run.
SINGLE_STATEMENT_WRITES = True


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


def _lock_key(text_key: str) -> int:
    return zlib.crc32(text_key.encode())


def intake_lock_keys(
    data: ReportInput, submitter: Actor | None, category: Category | CategoryRef, lon: float, lat: float
) -> list[int]:
    """Advisory-lock keys for one report: its retry identity and every cell its dedup box touches."""
    keys: set[int] = set()
    if data.idempotency_key and submitter is not None:
        keys.add(_lock_key(f"idem:{submitter.id}:{data.idempotency_key}"))
    if data.external_id:
        keys.add(_lock_key(f"ext:{data.source}:{data.external_id}"))
    dlat, dlon = _dedup_box(category.dedup_radius_m, lat)
    for x in (lon - dlon, lon + dlon):
        for y in (lat - dlat, lat + dlat):
            cell = (math.floor(x / LOCK_CELL_DEG), math.floor(y / LOCK_CELL_DEG))
            keys.add(_lock_key(f"dedup:{category.code}:{cell[0]}:{cell[1]}"))
    return sorted(keys)


def lock_intake(session: Session, keys: Sequence[int]) -> None:
    """Serialise intakes that could collide until the transaction ends (see the module docstring).

    PostgreSQL: transaction-scoped advisory locks, taken in key order so two intakes cannot deadlock.
    SQLite: the write lock of BEGIN IMMEDIATE already serialises all writers.
    """
    begin_write(session)
    if keys and session.get_bind().dialect.name == "postgresql":
        _LOCK.rows(session, {"keys": list(keys)})


def _dedup_box(radius_m: float, lat: float) -> tuple[float, float]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    return dlat, dlat / max(math.cos(math.radians(lat)), 1e-6)


def _dedup_params(category: Category | CategoryRef, lon: float, lat: float, now: datetime) -> dict[str, Any]:
    dlat, dlon = _dedup_box(category.dedup_radius_m, lat)
    return {
        "category": category.code,
        "lat_min": lat - dlat,
        "lat_max": lat + dlat,
        "lon_min": lon - dlon,
        "lon_max": lon + dlon,
        "since": now - timedelta(hours=category.dedup_window_h),
    }


def _case_facts(row: Any) -> CaseFacts:
    return CaseFacts(row.case_id, row.number, row.status, row.routing, row.district_code, row.lead_squad_id)


def submit_report(
    session: Session,
    locator: Locator,
    data: ReportInput,
    *,
    submitter: Actor | None,
    calendar: WorkCalendar,
    now: datetime | None = None,
) -> IntakeResult:
    """Take one report: replay a retry, else locate it, join a nearby open case or open a routed one.

    What needs no database (validation, locating, routing, the rows) is done first; then, under the
    intake locks: the lookup of a retry and of open duplicates, and the writes. On PostgreSQL that
    locked part is one call of the database function `intake_report` (coordinator.cases.intake_pg);
    elsewhere it runs here as Core statements (the reference; tests compare the two). Nothing is
    written before every check passed, so an error leaves nothing behind.
    """
    now = now or datetime.now(SHANGHAI)
    begin_write(session)
    reference = reference_data(session)
    category = reference.category(data.category)
    # Locating needs no database: done before locking, so the locks can be as narrow as the dedup box.
    location = check_and_locate(locator, data.lon, data.lat, data.crs)
    session.flush()  # the Core statements below do not autoflush the caller's pending ORM objects
    keys = intake_lock_keys(data, submitter, category, location.lon, location.lat)
    dedup = _dedup_params(category, location.lon, location.lat, now)
    retry = _retry_identity(data, submitter)
    if SINGLE_STATEMENT_WRITES and session.get_bind().dialect.name == "postgresql":
        plan = plan_case(
            reference, locator, category, location, calendar=calendar, now=now, synthetic=data.synthetic
        )  # planned before knowing whether the report joins a case: the lookup happens in the call
        return _submit_in_one_call(
            session, data, category, location, submitter, plan, keys, dedup, retry, now
        )
    if session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # Separate statements would each commit: only the one-call path may run without a transaction.
        raise RuntimeError("the per-table intake needs a transaction; this session autocommits")
    lock_intake(session, keys)
    if retry is not None:
        rows = _LOOKUP_DIRECT.rows(session, {**dedup, **retry})
        replays = sorted(
            (r for r in rows if r.kind == "replay"),
            key=lambda r: (r.idempotency_key != data.idempotency_key, r.report_id),  # the key's match first
        )
        if replays:
            return _replayed(session, data, replays[0])
        candidates = rows
    else:
        candidates = _DUPLICATES_DIRECT.rows(session, dedup)
    best, distance = _nearest(candidates, category.dedup_radius_m, location.lon, location.lat)
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


def _submit_in_one_call(
    session: Session,
    data: ReportInput,
    category: CategoryRef,
    location: Location,
    submitter: Actor | None,
    plan: CasePlan,
    keys: list[int],
    dedup: dict[str, Any],
    retry: dict[str, Any] | None,
    now: datetime,
) -> IntakeResult:
    """The locked part of `submit_report` as one `intake_report` call (PostgreSQL)."""
    year = now.astimezone(SHANGHAI).year
    control = {
        "lock_keys": keys,
        "retry": retry,
        "dedup": {
            **dedup,
            "lon": location.lon,
            "lat": location.lat,
            "radius_m": category.dedup_radius_m,
            "statuses": OPEN_STATUSES,
            "earth_radius_m": EARTH_RADIUS_M,
        },
        "now": now,
        "year": year,
        "number_prefix": f"{CASE_PREFIX}-{year}-",
        # The function fills in the distance (rounded as "{:.0f}" rounds: half to even).
        "merged_reason": MERGED_REASON.format(source=data.source, distance="{distance}"),
    }
    rows = {
        "case_row": plan.row,
        "partner_rows": plan.partners,
        "report_row": _report_row(data, category, location, submitter, merged=False, now=now),
        "reported_event": _event_row(_reported_event(data, submitter, None, None), now),
        "routed_event": _event_row(plan.routed, now),
        # The function adds the case number to the payload.
        "outbox_rows": _outbox_rows(_facts_of(0, "", plan.row), [plan.routed], now),
    }
    outcome = intake_pg.run_intake(session, control, rows)
    if outcome["outcome"] == "replay":
        return _replayed(session, data, SimpleNamespace(**outcome["row"]))
    if outcome["outcome"] == "merged":
        facts = _case_facts(SimpleNamespace(**outcome["row"]))
        _expire_cached(session, Case, facts.id)
        return IntakeResult(session, outcome["report_id"], facts, merged=True, replayed=False)
    facts = _facts_of(outcome["case_id"], outcome["number"], plan.row)
    return IntakeResult(session, outcome["report_id"], facts, merged=False, replayed=False)


REPORTED_REASON = "{source} 上报"
MERGED_REASON = "{source} 上报，距案件 {distance} 米，并入"


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


def _retry_identity(data: ReportInput, submitter: Actor | None) -> dict[str, Any] | None:
    """What identifies a retry of this report (Idempotency-Key per submitter, external id per source)."""
    if not ((data.idempotency_key and submitter is not None) or data.external_id):
        return None
    return {
        "submitter_id": submitter.id if submitter else None,
        "idempotency_key": data.idempotency_key,
        "source": data.source,
        "external_id": data.external_id,
    }


def _report_row(
    data: ReportInput,
    category: CategoryRef,
    location: Location,
    submitter: Actor | None,
    *,
    merged: bool,
    now: datetime,
) -> dict[str, Any]:
    """The report's row, without its case id (both write paths insert exactly this)."""
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
        "external_id": data.external_id,
        "idempotency_key": data.idempotency_key,
        "submitted_by_id": submitter.id if submitter else None,
        "merged": merged,
        "synthetic": data.synthetic,
    }


@dataclass(frozen=True)
class CasePlan:
    """A routed case about to be inserted: its row (without number and id), partners and routing."""

    row: dict[str, Any]
    partners: list[dict[str, Any]]
    routed: EventDraft


def plan_case(
    reference: ReferenceData,
    locator: Locator,
    category: CategoryRef,
    location: Location,
    *,
    calendar: WorkCalendar,
    now: datetime,
    synthetic: bool = False,
) -> CasePlan:
    """Route a new case at `location` and build its row (owner, partners, deadlines, routing record)."""
    decision = route(reference, locator, category, location)
    pair = location.border_pair
    routing = routing_record(decision, category, location, locator)
    row = {
        "status": "routed",
        "category_code": category.code,
        "lon": location.lon,
        "lat": location.lat,
        "district_code": location.district.code if location.district else None,
        "town_code": location.town.code if location.town else None,
        "outcome": location.outcome,
        "in_border_zone": location.in_border_zone,
        "border_pair_a": pair[0] if pair else None,
        "border_pair_b": pair[1] if pair else None,
        "lead_squad_id": decision.lead.id if decision.lead else None,
        "queue_unit_id": decision.queue.id if decision.queue and decision.lead is None else None,
        "routing": routing,
        "claim_by": calendar.add(now, category.claim_limit_value, category.claim_limit_unit),
        "resolve_by": calendar.add(now, category.resolve_limit_value, category.resolve_limit_unit),
        "report_count": 1,
        "created_at": now,
        "updated_at": now,
        "last_report_at": now,
        "synthetic": synthetic,
        "resolution_photos": [],
    }
    partners = [
        {"squad_id": squad.id, "reason": reason, "added_at": now} for squad, reason in decision.partners
    ]
    routed = EventDraft(
        kind="routed",
        from_status="reported",
        to_status="routed",
        reason=routing["reason"],
        payload={"rule": routing["rule"], "lead": routing["lead"], "queue": routing["queue"]},
    )
    return CasePlan(row, partners, routed)


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
        conn.execute(insert(_PARTNERS), [{**p, "case_id": case_id} for p in plan.partners])
    report_id = _insert_report(conn, case_id, report_row)
    facts = _facts_of(case_id, number, row)
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
    _expire_cached(session, Case, facts.id)
    return report_id


def _insert_report(conn: Connection, case_id: int, row: dict[str, Any]) -> int:
    geom = ewkt_point(row["lon"], row["lat"])
    report_id: int = conn.execute(_INSERT_REPORT, {**row, "case_id": case_id, "geom": geom}).scalar_one()
    return report_id


def _with_report_id(event: EventDraft, report_id: int) -> EventDraft:
    return replace(event, payload={**event.payload, "report_id": report_id})


def _facts_of(case_id: int, number: str, row: dict[str, Any]) -> CaseFacts:
    return CaseFacts(
        case_id, number, row["status"], row["routing"], row["district_code"], row["lead_squad_id"]
    )


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


def _nearest(
    candidates: Sequence[Any], radius_m: float, lon: float, lat: float
) -> tuple[Any | None, float | None]:
    """The candidate nearest to (lon, lat) within `radius_m` (equal distances: the lower case id)."""
    within = [(geodesic_distance_m(lon, lat, row.lon, row.lat), row.case_id, row) for row in candidates]
    hits = [hit for hit in within if hit[0] <= radius_m]
    if not hits:
        return None, None
    distance, _, row = min(hits, key=lambda hit: hit[:2])
    return row, distance


def _expire_cached(session: Session, model: type[Base], ident: int) -> None:
    """Expire the session's copy of a row changed by a Core statement, if it holds one."""
    cached_row = session.identity_map.get(identity_key(model, ident))
    if cached_row is not None:
        session.expire(cached_row)


def ewkt_point(lon: float, lat: float) -> str:
    """A WGS-84 point as EWKT, the form GeoAlchemy binds on both backends (cheaper than WKB via shapely)."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def geodesic_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; < 0.5 % from the ellipsoid, ample for a dedup radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def find_duplicate(
    session: Session, category: Category | CategoryRef, lon: float, lat: float, *, now: datetime
) -> tuple[CaseFacts | None, float | None]:
    """The nearest open case of the category within its dedup radius and window, if any.

    The query is a range scan of `ix_case_dedup` (category_code, lat, lon): a latitude band of twice the
    radius (~200 m of Shanghai's ~135 km), filtered by longitude, status and time; the exact distance
    is then computed for the handful of rows in the box.
    """
    rows = _DUPLICATES_DIRECT.rows(session, _dedup_params(category, lon, lat, now))
    best, distance = _nearest(rows, category.dedup_radius_m, lon, lat)
    return (None, None) if best is None else (_case_facts(best), distance)


def next_case_number(session: Session, now: datetime) -> str:
    """The next human case number of the year (Asia/Shanghai), e.g. JJ-2026-000123. Never reused.

    One statement: an upsert that creates the year's counter at 1 or increments it, returning the new
    value (the row lock it takes serialises concurrent intakes exactly as the former UPDATE did).
    """
    year = now.astimezone(SHANGHAI).year
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert_(CaseNumberCounter).values(year=year, last=1)
    last = (
        session.connection()
        .execute(
            stmt.on_conflict_do_update(
                index_elements=[CaseNumberCounter.year], set_={"last": CaseNumberCounter.last + 1}
            ).returning(CaseNumberCounter.last)
        )
        .scalar_one()
    )
    return f"{CASE_PREFIX}-{year}-{last:06d}"


def _rule_matches(rule: RuleRef, category: Category | CategoryRef, location: Location) -> bool:
    return (
        (rule.outcome is None or rule.outcome == location.outcome)
        and (rule.in_border_zone is None or rule.in_border_zone == location.in_border_zone)
        and (rule.category_code is None or rule.category_code == category.code)
    )


def queue_for(reference: ReferenceData, scope: str, district_code: str | None) -> UnitRef | None:
    """The dispatch desk whose queue owns a case: the district's desk, else the alliance desk."""
    if scope == "district" and district_code is not None:
        unit = reference.district_units.get(district_code)
        if unit is not None:
            return unit
    return reference.alliance_unit


def _squad_for_area(
    reference: ReferenceData, area_code: str, category: Category | CategoryRef
) -> SquadRef | None:
    squads = reference.squads_by_area.get(area_code, ())
    return next((s for s in squads if s.handles(category.code)), None)


def route(
    reference: ReferenceData, locator: Locator, category: Category | CategoryRef, location: Location
) -> RoutingDecision:
    """Apply the first matching routing rule. Never returns a decision without an owner."""
    rule = next((r for r in reference.rules if _rule_matches(r, category, location)), None)
    district_code = location.district.code if location.district else None
    if rule is None:
        queue = queue_for(reference, "alliance", None)
        return RoutingDecision("none", "没有匹配的分派规则：转联盟调度员", None, queue)
    decision = RoutingDecision(rule.name, rule.reason_zh, None, None)
    if rule.lead == "jurisdiction":
        town = location.town
        decision.lead = _squad_for_area(reference, town.code, category) if town else None
        if decision.lead is None:
            decision.notes.append("属地无可接单中队：转区调度员")
            decision.reason = f"{rule.reason_zh}；属地无可接单中队，转区调度员"
    if decision.lead is None:
        decision.queue = queue_for(reference, rule.queue, district_code)
    if rule.partner == "nearest_other_district" and location.border_pair and district_code:
        other = next(code for code in location.border_pair if code != district_code)
        for town, distance in locator.nearest_towns(location.lon, location.lat, other):
            squad = _squad_for_area(reference, town.code, category)
            if squad is not None:
                decision.partners.append((squad, f"对侧最近中队，距离 {distance:.0f} 米"))
                break
        else:
            decision.notes.append(f"对侧 {other} 无可协同中队")
    if decision.lead is None and decision.queue is None:
        raise ValidationFailed(
            "no dispatch unit exists to own this case; run `flask --app wsgi seed demo` or create units",
            code="no_owner",
        )
    return decision


def _squad_ref(squad: SquadRef) -> dict[str, Any]:
    return {"id": squad.id, "code": squad.code, "name": squad.name_zh, "district": squad.district_code}


def routing_record(
    decision: RoutingDecision, category: Category | CategoryRef, location: Location, locator: Locator
) -> dict[str, Any]:
    """The routing decision and its inputs, as stored on the case and shown by the API."""
    return {
        "rule": decision.rule,
        "reason": decision.reason,
        "lead": _squad_ref(decision.lead) if decision.lead else None,
        "queue": None
        if decision.queue is None
        else {"id": decision.queue.id, "code": decision.queue.code, "name": decision.queue.name_zh},
        "partners": [{**_squad_ref(s), "reason": why} for s, why in decision.partners],
        "notes": decision.notes,
        "inputs": {
            "category": category.code,
            "location": location_payload(location, generation=locator.generation),
        },
    }


@dataclass(frozen=True)
class EventDraft:
    """One audit-trail entry to append (see `insert_events`)."""

    kind: str
    to_status: str | None = None
    from_status: str | None = None
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


def _outbox_payload(
    case_number: str,
    status: str,
    district_code: str | None,
    lead_squad_id: int | None,
    event: EventDraft,
    actor_name: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "case_number": case_number,
        "status": status,
        "district": district_code,
        "lead_squad_id": lead_squad_id,
        "actor": actor_name,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason[:500],
        "at": at.astimezone(SHANGHAI).isoformat(),
        "details": event.payload,
    }


def _event_row(event: EventDraft, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "actor_id": event.actor.id if event.actor else None,
        "actor": event.actor.username if event.actor else "system",
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason[:500],
        "payload": event.payload,
    }


def _outbox_rows(case: CaseFacts, events: Sequence[EventDraft], at: datetime) -> list[dict[str, Any]]:
    """Outbox rows (without case id) for the events of kinds other systems subscribe to."""
    return [
        {
            "kind": event.kind,
            "payload": _outbox_payload(
                case.number,
                case.status,
                case.district_code,
                case.lead_squad_id,
                event,
                event.actor.username if event.actor else "system",
                at,
            ),
            "created_at": at,
        }
        for event in events
        if event.kind in NOTIFY_KINDS
    ]


def insert_events(session: Session, case: CaseFacts, events: Sequence[EventDraft], *, at: datetime) -> None:
    """Append events to a case's trail with Core inserts, with the outbox messages of notified kinds.

    The intake path's twin of `add_event` (which works on ORM objects for the lifecycle actions).
    """
    conn = session.connection()
    conn.execute(insert(_EVENTS), [{**_event_row(e, at), "case_id": case.id} for e in events])
    outbox = _outbox_rows(case, events, at)
    if outbox:
        conn.execute(insert(_OUTBOX), [{**o, "case_id": case.id} for o in outbox])


def add_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor: Actor | None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one event to a case's audit trail (and, for kinds other systems subscribe to, an outbox
    message in the same transaction)."""
    at = at or datetime.now(SHANGHAI)
    draft = EventDraft(kind, to_status, from_status, reason, payload or {}, actor)
    event = CaseEvent(
        case_id=case.id,
        at=at,
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else "system",
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:500],
        payload=draft.payload,
    )
    session.add(event)
    payload = _outbox_payload(
        case.number, case.status, case.district_code, case.lead_squad_id, draft, event.actor, at
    )
    enqueue(session, kind, case.id, payload, now=at)
    return event


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case list."""

    status: Sequence[str] = ()
    squad: str | None = None
    district: str | None = None
    category: str | None = None
    in_border_zone: bool | None = None
    bbox: tuple[float, float, float, float] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def list_cases(session: Session, flt: CaseFilter, *, page: int, per_page: int) -> tuple[list[Case], int]:
    """A page of cases (newest first) and the total count."""
    stmt = select(Case)
    if flt.status:
        stmt = stmt.where(Case.status.in_(list(flt.status)))
    if flt.squad:
        squad_id = select(Squad.id).where(Squad.code == flt.squad).scalar_subquery()
        partner = select(CasePartner.case_id).where(CasePartner.squad_id == squad_id)
        stmt = stmt.where(or_(Case.lead_squad_id == squad_id, Case.id.in_(partner)))
    if flt.district:
        stmt = stmt.where(Case.district_code == flt.district)
    if flt.category:
        stmt = stmt.where(Case.category_code == flt.category)
    if flt.in_border_zone is not None:
        stmt = stmt.where(Case.in_border_zone.is_(flt.in_border_zone))
    if flt.bbox:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # Plan with the box's values: a cached generic plan cannot tell a street from the whole area.
            session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        stmt = stmt.where(*bbox_conditions(dialect, flt.bbox))
    if flt.created_from:
        stmt = stmt.where(Case.created_at >= flt.created_from)
    if flt.created_to:
        stmt = stmt.where(Case.created_at < flt.created_to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Case.partners))
    ).all()
    return list(rows), total


def bbox_conditions(dialect: str, bbox: tuple[float, float, float, float]) -> list[ColumnElement[bool]]:
    """Cases inside the box, edges included: the exact test on `lon`/`lat`, and on PostgreSQL `&&`
    against the GiST index of `case_file.geom` to find the rows first.

    Without `&&` a box on PostgreSQL was a scan of the whole table at any size (0.3-0.4 s at 1e6 cases
    on the 2-vCPU host; 22-31x faster for ~1 km boxes with it, bench/case_list.py, docs/cases.md);
    `list_cases` also has such a query planned with the box's values. SQLite needs neither: its
    planner already answers the `lat` range with a skip-scan of `ix_case_dedup`, and going through
    SpatiaLite's R*Tree measured no faster for small boxes and 10x slower for the whole area.
    """
    x0, y0, x1, y1 = bbox
    exact: list[ColumnElement[bool]] = [Case.lon.between(x0, x1), Case.lat.between(y0, y1)]
    if dialect != "postgresql":
        return exact
    # The GiST keys are float32 boxes rounded outwards: `&&` never loses a point the exact test keeps.
    return [Case.geom.op("&&")(func.ST_MakeEnvelope(x0, y0, x1, y1, 4326)), *exact]


def squads_by_id(session: Session, ids: set[int]) -> dict[int, Squad]:
    """Squads by id (for serializing many cases with one query)."""
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Squad).where(Squad.id.in_(ids)))}


def inbox(session: Session, user: User, *, now: datetime, limit: int = 200) -> list[Case]:
    """Open cases for the caller: claimable first, then overdue, then the rest (oldest first within)."""
    stmt = select(Case).where(Case.status.in_(OPEN_STATUSES))
    if user.squad_id is not None:
        partner = select(CasePartner.case_id).where(CasePartner.squad_id == user.squad_id)
        offered = select(CaseTransfer.case_id).where(
            CaseTransfer.to_squad_id == user.squad_id, CaseTransfer.state == "pending"
        )
        stmt = stmt.where(
            or_(Case.lead_squad_id == user.squad_id, Case.id.in_(partner), Case.id.in_(offered))
        )
    elif user.role == "dispatcher":
        units = select(DispatchUnit.id).where(
            or_(DispatchUnit.district_code == user.district_code, DispatchUnit.level == "alliance")
            if user.district_code is None
            else DispatchUnit.district_code == user.district_code
        )
        district_cases = (
            Case.district_code == user.district_code if user.district_code else Case.id.isnot(None)
        )
        stmt = stmt.where(
            or_(Case.queue_unit_id.in_(units), Case.escalated_to_unit_id.in_(units), district_cases)
        )
    cases = session.scalars(stmt.options(selectinload(Case.partners)).limit(5000)).all()

    def rank(case: Case) -> tuple[int, datetime]:
        # Claimable first (escalated ones at the very top), then overdue, then the rest.
        claimable = case.status == "routed" and case.claimed_by_id is None
        overdue = is_overdue(case, now) or case.escalated_at is not None
        return (0 if claimable and overdue else 1 if claimable else 2 if overdue else 3, case.created_at)

    return sorted(cases, key=rank)[:limit]


def is_overdue(case: Case, now: datetime) -> bool:
    """Past the claim deadline while unclaimed, or past the resolve deadline while unresolved."""
    if case.status not in OPEN_STATUSES:
        return False
    if case.claimed_by_id is None and case.claim_by is not None and now > case.claim_by:
        return True
    return case.resolve_by is not None and now > case.resolve_by
