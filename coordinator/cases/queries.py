"""Reading cases: one case with its trail, the filtered case list, a caller's inbox, the categories.

Plain reads for the views and Open311; nothing here writes. The case list's map-box filter lets the
spatial index help where the database has a use for it (coordinator.dialects.spatial_box_prefilter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session, selectinload

from coordinator.auth.models import User
from coordinator.cases.models import OPEN_STATUSES, Case, CasePartner, CaseTransfer, Category
from coordinator.dialects import plan_with_values, spatial_box_prefilter
from coordinator.errors import NotFound
from coordinator.geojson import Bbox
from coordinator.squads.models import DispatchUnit, Squad


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


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case list."""

    status: Sequence[str] = ()
    squad: str | None = None
    district: str | None = None
    category: str | None = None
    in_border_zone: bool | None = None
    bbox: Bbox | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # The two districts of a border pair, in ascending order (as stored on case_file.border_pair_a/_b).
    border_pair: tuple[str, str] | None = None


def case_conditions(session: Session, flt: CaseFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions on case_file of a case filter (the case list's, and the case map's:
    coordinator/casemap)."""
    out: list[ColumnElement[bool]] = []
    if flt.status:
        out.append(Case.status.in_(list(flt.status)))
    if flt.squad:
        squad_id = select(Squad.id).where(Squad.code == flt.squad).scalar_subquery()
        partner = select(CasePartner.case_id).where(CasePartner.squad_id == squad_id)
        out.append(or_(Case.lead_squad_id == squad_id, Case.id.in_(partner)))
    if flt.district:
        out.append(Case.district_code == flt.district)
    if flt.category:
        out.append(Case.category_code == flt.category)
    if flt.in_border_zone is not None:
        out.append(Case.in_border_zone.is_(flt.in_border_zone))
    if flt.border_pair is not None:
        out += [Case.border_pair_a == flt.border_pair[0], Case.border_pair_b == flt.border_pair[1]]
    if flt.bbox:
        plan_with_values(session)  # a cached generic plan cannot tell a street from the whole area
        out.append(bbox_condition(session, flt.bbox))
    if flt.created_from:
        out.append(Case.created_at >= flt.created_from)
    if flt.created_to:
        out.append(Case.created_at < flt.created_to)
    return out


def list_cases(session: Session, flt: CaseFilter, *, page: int, per_page: int) -> tuple[list[Case], int]:
    """A page of cases (newest first) and the total count."""
    stmt = select(Case).where(*case_conditions(session, flt))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Case.partners))
    ).all()
    return list(rows), total


def bbox_condition(session: Session, bbox: Bbox) -> ColumnElement[bool]:
    """Cases inside the WGS-84 box, edges included (two boxes where it crosses the antimeridian): the exact
    test on `lon`/`lat`, after whatever lets the database's spatial index find the rows first (on
    PostgreSQL `&&` against the GiST index of `case_file.geom`; docs/cases.md has the measurements)."""
    return or_(
        *(
            and_(
                *spatial_box_prefilter(session, Case.geom, box),
                Case.lon.between(box[0], box[2]),
                Case.lat.between(box[1], box[3]),
            )
            for box in bbox.boxes()
        )
    )


def squads_by_id(session: Session, ids: set[int]) -> dict[int, Squad]:
    """Squads by id (for serializing many cases with one query)."""
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Squad).where(Squad.id.in_(ids)))}


def inbox(session: Session, user: User, *, now: datetime, limit: int = 200) -> list[Case]:
    """The caller's first `limit` open cases: claimable and overdue (or escalated) first, then
    claimable, then overdue, then the rest; oldest first within each group.

    Ranked and cut in the database, so a caller with more open cases than the limit still sees the ones
    that need them most.
    """
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
    claimable = and_(Case.status == "routed", Case.claimed_by_id.is_(None))
    # `is_overdue` in SQL (the statuses are open already), or escalated by the SLA sweep.
    overdue = or_(
        and_(Case.claimed_by_id.is_(None), Case.claim_by < now),
        Case.resolve_by < now,
        Case.escalated_at.isnot(None),
    )
    rank = case_when((and_(claimable, overdue), 0), (claimable, 1), (overdue, 2), else_=3)
    stmt = stmt.order_by(rank, Case.created_at, Case.id).limit(limit)
    return list(session.scalars(stmt.options(selectinload(Case.partners))).all())


def is_overdue(case: Case, now: datetime) -> bool:
    """Past the claim deadline while unclaimed, or past the resolve deadline while unresolved (`inbox`
    ranks by the same rule in SQL)."""
    if case.status not in OPEN_STATUSES:
        return False
    if case.claimed_by_id is None and case.claim_by is not None and now > case.claim_by:
        return True
    return case.resolve_by is not None and now > case.resolve_by
