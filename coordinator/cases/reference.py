"""Reference snapshots: what intake and routing read besides the cases themselves.

Active categories, routing rules, the active squads of each jurisdiction and the dispatch desks change a
few times a year and are read by every report, so they are loaded into frozen dataclasses and shared
between requests through the per-process cache of coordinator.refcache (never ORM objects: snapshots
are safe to share between threads and sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.cases.models import RoutingRule
from coordinator.cases.queries import list_categories
from coordinator.errors import ValidationFailed
from coordinator.refcache import cached
from coordinator.squads.models import DispatchUnit, Squad


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
class RoutingSquad:
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
    squads_by_area: dict[str, tuple[RoutingSquad, ...]]  # active squads by jurisdiction, by code
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
    squads: dict[str, list[RoutingSquad]] = {}
    for sq in session.scalars(
        select(Squad).where(Squad.active.is_(True), Squad.jurisdiction_code.isnot(None)).order_by(Squad.code)
    ):
        ref = RoutingSquad(sq.id, sq.code, sq.name_zh, sq.district_code, tuple(sq.categories or ()))
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
