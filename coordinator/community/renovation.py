"""Compounds (小区), their property managers, renovation filings (装修申报) and inspections.

A filing moves through the states of `FILING_TRANSITIONS` (one table, like the case lifecycle):

    submitted → accepted | returned (with reasons) → resubmitted → accepted | returned …
    accepted → in_works → inspected (a passed completion inspection) → closed

Property inspections (物业巡查), 城管 spot checks (抽查) and the completion inspection are recorded with
their result; a failed one files a report through the normal intake (category 违法装修 or 违法搭建, at
the compound, the flat named), so the case is deduplicated and routed like any other. Cases read by
staff list the filings they concern (`filings_for_case`): renovation-waste cases the active filings of
compounds nearby, flat-level cases (违法装修, 群租, 违法搭建) the filings of the flat they name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.auth.services import find_user
from coordinator.cases import intake
from coordinator.community.case_filings import flat_label
from coordinator.community.models import (
    ACTIVE_FILING_STATES,
    Compound,
    CompoundManager,
    FilingEvent,
    Inspection,
    RenovationFiling,
)
from coordinator.dialects import begin_write
from coordinator.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coordinator.geolocation.services import check_and_locate
from coordinator.permissions import (
    can_inspect_filing,
    can_manage_compound,
    can_read_filing,
    can_review_filing,
    manages_compound,
)
from coordinator.worktime import SHANGHAI, WorkCalendar
from geo.locator import Locator

FILING_PREFIX = "ZX"
# The category of the report a failed inspection files, by violation (codes of coordinator/cases/seed.py).
VIOLATION_CATEGORIES = {"illegal_renovation": "05-51", "illegal_construction": "01-01"}
INSPECTION_STATES = frozenset(ACTIVE_FILING_STATES)
KIND_LABELS = {"property_patrol": "物业巡查", "spot_check": "城管抽查", "completion": "竣工检查"}


@dataclass(frozen=True)
class FilingTransition:
    """One filing action: from which states, to which, and who (`manager`: a property manager of the
    compound; `reviewer`: the district's dispatcher or an admin)."""

    action: str
    sources: frozenset[str]
    target: str
    actors: tuple[str, ...]
    summary: str


FILING_TRANSITIONS: tuple[FilingTransition, ...] = (
    FilingTransition("accept", frozenset({"submitted", "resubmitted"}), "accepted", ("reviewer",), "受理"),
    FilingTransition(
        "return", frozenset({"submitted", "resubmitted"}), "returned", ("reviewer",), "退回补正"
    ),
    FilingTransition("resubmit", frozenset({"returned"}), "resubmitted", ("manager",), "补正后重新申报"),
    FilingTransition("start", frozenset({"accepted"}), "in_works", ("manager",), "开工"),
    FilingTransition("inspected", frozenset({"in_works"}), "inspected", ("inspector",), "竣工检查通过"),
    FilingTransition("close", frozenset({"inspected"}), "closed", ("manager", "reviewer"), "办结"),
)
BY_ACTION = {t.action: t for t in FILING_TRANSITIONS}


# -- compounds ------------------------------------------------------------------------------------------


def parse_geometry(geometry: dict[str, Any]) -> BaseGeometry:
    """A compound's GeoJSON Point or Polygon (WGS-84), valid and non-empty; 422 otherwise."""
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ValidationFailed(
            "geometry is not a valid GeoJSON Point or Polygon", code="invalid_geometry"
        ) from exc
    if geom.geom_type not in ("Point", "Polygon") or geom.is_empty or not geom.is_valid:
        raise ValidationFailed(
            "geometry must be a valid, non-empty GeoJSON Point or Polygon", code="invalid_geometry"
        )
    return geom


def _place(compound: Compound, locator: Locator, geometry: dict[str, Any]) -> None:
    """Give the compound this geometry, its representative point, and the member district and town that
    point is in (422 `outside_alliance` outside the member districts)."""
    geom = parse_geometry(geometry)
    point = geom if isinstance(geom, Point) else geom.representative_point()
    location = check_and_locate(locator, point.x, point.y, "wgs84")
    if location.outcome != "member" or location.district is None:
        raise ValidationFailed(
            "a compound must lie in a member district",
            code="outside_alliance",
            details={"outcome": location.outcome},
        )
    compound.geometry = geometry
    compound.lon, compound.lat = point.x, point.y
    compound.district_code = location.district.code
    compound.town_code = location.town.code if location.town else None


def _check_manager(user: User, compound: Compound) -> None:
    if not can_manage_compound(user, compound):
        raise Forbidden(
            f"compound lies in district {compound.district_code}; "
            "only its dispatcher or an admin registers or edits it",
            details={"district": compound.district_code},
        )


def create_compound(
    session: Session,
    locator: Locator,
    user: User,
    *,
    name: str,
    address: str,
    geometry: dict[str, Any],
    managers: Sequence[str],
) -> Compound:
    """Register a compound; it lies in the member district and town its representative point is in."""
    compound = Compound(name=name, address=address)
    _place(compound, locator, geometry)
    _check_manager(user, compound)
    session.add(compound)
    session.flush()
    set_managers(session, compound, managers)
    return compound


def update_compound(
    session: Session, locator: Locator, user: User, compound: Compound, changes: dict[str, Any]
) -> Compound:
    """Edit a compound (name, address, geometry, managers — `changes` holds only the fields sent, as
    PatchModel.changes gives them). The caller must manage the compound where it is and, when it moves,
    where it goes (403 otherwise: a district's dispatcher cannot move it to another district)."""
    if not compound.active:
        raise NotFound(f"no compound {compound.id}")
    _check_manager(user, compound)
    for key in ("name", "address"):
        if key in changes:
            setattr(compound, key, changes[key])
    if "geometry" in changes:
        _place(compound, locator, changes["geometry"])
        _check_manager(user, compound)
    session.flush()
    if "managers" in changes:
        set_managers(session, compound, changes["managers"])
    return compound


# A compound is retired only once no filing of it waits for the district or has works under way: a
# returned filing waits for the property manager, who may abandon it.
_RETIRE_BLOCKING_STATES = ("submitted", "resubmitted", *ACTIVE_FILING_STATES)


def retire_compound(session: Session, user: User, compound: Compound) -> Compound:
    """Retire a compound (registered by mistake, or no longer managed): it leaves the lists and takes no
    new filing or resubmission; its filings and their history stay readable. 409 while one of its filings
    is submitted, resubmitted or accepted/in works/inspected (they are listed)."""
    if not compound.active:
        raise NotFound(f"no compound {compound.id}")
    _check_manager(user, compound)
    open_numbers = list(
        session.scalars(
            select(RenovationFiling.number)
            .where(
                RenovationFiling.compound_id == compound.id,
                RenovationFiling.state.in_(_RETIRE_BLOCKING_STATES),
            )
            .order_by(RenovationFiling.id)
        )
    )
    if open_numbers:
        raise Conflict(
            f"compound {compound.id} has filings still open: {', '.join(open_numbers)}",
            code="compound_has_open_filings",
            details={"filings": open_numbers},
        )
    compound.active = False
    session.flush()
    return compound


def _check_active(compound: Compound) -> None:
    if not compound.active:
        raise Conflict(f"compound {compound.id} is retired: it takes no new filing", code="compound_retired")


def set_managers(session: Session, compound: Compound, usernames: Sequence[str]) -> None:
    """Make exactly these property-manager accounts the compound's managers."""
    users = []
    for name in usernames:
        u = find_user(session, name)
        if u is None or u.role != "property_manager":
            raise ValidationFailed(
                f"{name!r} is not a property_manager account", code="not_a_property_manager"
            )
        users.append(u)
    for row in list(compound.managers):
        session.delete(row)
    session.flush()
    for u in users:
        session.add(CompoundManager(compound_id=compound.id, user_id=u.id))
    session.flush()
    session.refresh(compound, ["managers"])


def manager_ids(compound: Compound) -> set[int]:
    """The user ids of the compound's property managers."""
    return {m.user_id for m in compound.managers}


def get_compound(session: Session, compound_id: int) -> Compound:
    """A compound, or 404."""
    compound = session.get(Compound, compound_id)
    if compound is None:
        raise NotFound(f"no compound {compound_id}")
    return compound


def list_compounds(session: Session, user: User) -> list[Compound]:
    """The compounds `user` may see: a property manager its own; squads their town's; dispatchers
    their district's; admins and the alliance desk all."""
    stmt = select(Compound).where(Compound.active.is_(True)).order_by(Compound.id)
    if user.role == "property_manager":
        stmt = stmt.join(CompoundManager, CompoundManager.compound_id == Compound.id).where(
            CompoundManager.user_id == user.id
        )
    elif user.role == "dispatcher" and user.district_code is not None:
        stmt = stmt.where(Compound.district_code == user.district_code)
    elif user.squad is not None:
        stmt = stmt.where(Compound.town_code == user.squad.jurisdiction_code)
    elif user.role not in ("admin", "dispatcher"):
        return []
    return list(session.scalars(stmt))


# -- filings --------------------------------------------------------------------------------------------


def _event(
    session: Session,
    filing: RenovationFiling,
    actor: User,
    kind: str,
    *,
    from_state: str | None,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    session.add(
        FilingEvent(
            filing_id=filing.id,
            at=now,
            actor_id=actor.id,
            actor=actor.username,
            kind=kind,
            from_state=from_state,
            to_state=filing.state,
            reason=reason[:1000],
            payload=payload or {},
        )
    )


FILING_FIELDS = (
    "building",
    "unit",
    "room",
    "owner_name",
    "owner_phone",
    "contractor_name",
    "contractor_qualification",
    "planned_start",
    "planned_end",
    "waste_hauler",
    "waste_schedule",
    "waste_destination",
    "description",
)


def _check_dates(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed("planned_end is before planned_start", code="invalid_dates")


def file_renovation(
    session: Session, user: User, compound_id: int, fields: dict[str, Any], *, now: datetime
) -> RenovationFiling:
    """A property manager files a renovation of a flat of one of its compounds."""
    compound = get_compound(session, compound_id)
    if not manages_compound(user, manager_ids(compound)):
        raise Forbidden(f"{user.username} is not a property manager of compound {compound.id}")
    _check_active(compound)
    _check_dates(fields["planned_start"], fields["planned_end"])
    filing = RenovationFiling(
        number=f"tmp-{uuid4().hex[:16]}",  # the real number needs the row id (below)
        compound_id=compound.id,
        state="submitted",
        return_reasons=[],
        filed_by_id=user.id,
        created_at=now,
        updated_at=now,
        **{k: fields[k] for k in FILING_FIELDS if k in fields},
    )
    session.add(filing)
    session.flush()
    filing.number = f"{FILING_PREFIX}-{now.astimezone(SHANGHAI).year}-{filing.id:06d}"
    _event(session, filing, user, "submitted", from_state=None, now=now)
    session.flush()
    return filing


def get_filing(session: Session, filing_id: int, user: User) -> RenovationFiling:
    """A filing `user` may read, or 404 (403 for a filing the caller has no part in)."""
    filing = session.get(RenovationFiling, filing_id)
    if filing is None:
        raise NotFound(f"no renovation filing {filing_id}")
    if not can_read_filing(user, filing.compound, manager_ids(filing.compound)):
        raise Forbidden(f"{user.username} may not read renovation filing {filing.number}")
    return filing


def list_filings(
    session: Session, user: User, *, state: str | None = None, compound_id: int | None = None
) -> list[RenovationFiling]:
    """The filings of the compounds `user` may see, newest first."""
    compounds = {c.id for c in list_compounds(session, user)}
    if compound_id is not None:
        compounds &= {compound_id}
    if not compounds:
        return []
    stmt = select(RenovationFiling).where(RenovationFiling.compound_id.in_(compounds))
    if state is not None:
        stmt = stmt.where(RenovationFiling.state == state)
    return list(session.scalars(stmt.order_by(RenovationFiling.id.desc())))


def _actor_roles(user: User, filing: RenovationFiling) -> set[str]:
    compound = filing.compound
    roles = set()
    if manages_compound(user, manager_ids(compound)):
        roles.add("manager")
    if can_review_filing(user, compound):
        roles.add("reviewer")
    if can_inspect_filing(user, compound, manager_ids(compound), "completion"):
        roles.add("inspector")
    return roles


def allowed_filing_actions(user: User, filing: RenovationFiling) -> list[str]:
    """What `user` may do with the filing now (shown by the API)."""
    roles = _actor_roles(user, filing)
    return [
        t.action
        for t in FILING_TRANSITIONS
        if t.action != "inspected" and filing.state in t.sources and roles & set(t.actors)
    ]


def allowed_inspection_kinds(user: User, filing: RenovationFiling) -> list[str]:
    """The inspections `user` may record on the filing now (the rules of `inspect`)."""
    if filing.state not in INSPECTION_STATES:
        return []
    compound = filing.compound
    return [
        kind
        for kind in KIND_LABELS
        if can_inspect_filing(user, compound, manager_ids(compound), kind)
        and (kind != "completion" or filing.state == "in_works")
    ]


def _check(user: User, filing: RenovationFiling, action: str) -> FilingTransition:
    transition = BY_ACTION[action]
    if not _actor_roles(user, filing) & set(transition.actors):
        raise Forbidden(
            f"{user.username} may not {action} renovation filing {filing.number}",
            details={"filing": filing.number, "action": action, "who_may": list(transition.actors)},
        )
    if filing.state not in transition.sources:
        raise Conflict(
            f"cannot {action} renovation filing {filing.number} while it is {filing.state}",
            details={
                "filing": filing.number,
                "state": filing.state,
                "allowed": allowed_filing_actions(user, filing),
            },
        )
    return transition


def act(
    session: Session,
    filing_id: int,
    user: User,
    action: str,
    *,
    now: datetime,
    reason: str = "",
    reasons: Sequence[str] = (),
    changes: dict[str, Any] | None = None,
) -> RenovationFiling:
    """Take a filing action (accept, return with reasons, resubmit with changes, start, close)."""
    begin_write(session)
    filing = get_filing(session, filing_id, user)
    transition = _check(user, filing, action)
    if action == "resubmit":
        _check_active(session.get_one(Compound, filing.compound_id))
    payload: dict[str, Any] = {}
    if action == "return":
        cleaned = [r.strip() for r in reasons if r.strip()]
        if not cleaned:
            raise ValidationFailed("returning a filing needs at least one reason", code="reasons_required")
        filing.return_reasons = cleaned
        payload["reasons"] = cleaned
        reason = reason or "；".join(cleaned)
    if action == "resubmit" and changes:
        changed = {k: v for k, v in changes.items() if k in FILING_FIELDS and v is not None}
        start = changed.get("planned_start", filing.planned_start)
        end = changed.get("planned_end", filing.planned_end)
        _check_dates(start, end)
        for key, value in changed.items():
            setattr(filing, key, value)
        payload["changed"] = sorted(changed)
    seen = filing.state
    filing.state = transition.target
    filing.updated_at = now
    session.flush()
    _event(session, filing, user, action, from_state=seen, reason=reason, payload=payload, now=now)
    session.flush()
    return filing


# -- inspections ------------------------------------------------------------------------------------------


def inspect(
    session: Session,
    locator: Locator,
    calendar: WorkCalendar,
    filing_id: int,
    user: User,
    *,
    kind: str,
    result: str,
    notes: str,
    violation: str | None,
    now: datetime,
) -> Inspection:
    """Record an inspection. A passed completion inspection moves the filing to `inspected`; a failed
    inspection of any kind files a report (违法装修 / 违法搭建) through the normal intake."""
    begin_write(session)
    filing = get_filing(session, filing_id, user)
    compound = filing.compound
    if not can_inspect_filing(user, compound, manager_ids(compound), kind):
        raise Forbidden(
            f"{user.username} may not record a {kind} of renovation filing {filing.number}",
            details={"filing": filing.number, "kind": kind},
        )
    if filing.state not in INSPECTION_STATES or (kind == "completion" and filing.state != "in_works"):
        raise Conflict(
            f"cannot record a {kind} of renovation filing {filing.number} while it is {filing.state}",
            details={"filing": filing.number, "state": filing.state},
        )
    if result == "fail" and violation is None:
        raise ValidationFailed(
            "a failed inspection names the violation (illegal_renovation or illegal_construction)",
            code="violation_required",
        )
    inspection = Inspection(
        filing_id=filing.id,
        kind=kind,
        result=result,
        notes=notes,
        violation_category=VIOLATION_CATEGORIES[violation] if result == "fail" and violation else None,
        inspected_by_id=user.id,
        inspector=user.username,
        at=now,
    )
    session.add(inspection)
    session.flush()
    payload: dict[str, Any] = {"inspection_id": inspection.id, "kind": kind, "result": result}
    if result == "fail":
        assert inspection.violation_category is not None
        flat = {"building": filing.building, "unit": filing.unit, "room": filing.room}
        report = intake.ReportInput(
            category=inspection.violation_category,
            lon=compound.lon,
            lat=compound.lat,
            description=(
                f"{KIND_LABELS[kind]}未通过：{compound.name}（{compound.address}）"
                f"{flat_label(flat)}，装修申报 {filing.number}。{notes}"
            )[:4000],
            source="patrol",
            external_id=f"renovation-inspection-{inspection.id}",
            flat=flat,
        )
        outcome = intake.submit_report(session, locator, report, submitter=user, calendar=calendar, now=now)
        inspection.case_number = outcome.case_facts.number
        payload["case_number"] = inspection.case_number
    seen = filing.state
    if kind == "completion" and result == "pass":
        filing.state = BY_ACTION["inspected"].target
        filing.updated_at = now
    session.flush()
    _event(
        session,
        filing,
        user,
        f"inspection_{result}",
        from_state=seen,
        reason=notes,
        payload=payload,
        now=now,
    )
    session.flush()
    return inspection


def get_inspection(session: Session, inspection_id: int, user: User) -> Inspection:
    """An inspection of a filing `user` may read, or 404/403."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(f"no inspection {inspection_id}")
    get_filing(session, inspection.filing_id, user)
    return inspection
