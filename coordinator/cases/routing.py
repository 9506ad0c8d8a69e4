"""首接负责 routing: which squad leads a new case, who partners it, which desk's queue owns it otherwise,
and the case row that results (`plan_case`).

Routing rules are data (`routing_rule`, first active match by priority); this module applies them to
a located point with the reference snapshots of coordinator.cases.reference and needs no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coordinator.cases.events import EventDraft
from coordinator.cases.reference import CategoryRef, ReferenceData, RoutingSquad, RuleRef, UnitRef
from coordinator.errors import ValidationFailed
from coordinator.geolocation.services import location_payload
from coordinator.worktime import WorkCalendar
from geo.locator import Location, Locator


@dataclass
class RoutingDecision:
    """Who owns a new case and why."""

    rule: str
    reason: str
    lead: RoutingSquad | None
    queue: UnitRef | None
    partners: list[tuple[RoutingSquad, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CasePlan:
    """A routed case about to be inserted: its row (without number and id), partners and routing."""

    row: dict[str, Any]
    partners: list[dict[str, Any]]
    routed: EventDraft


def _rule_matches(rule: RuleRef, category: CategoryRef, location: Location) -> bool:
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


def _squad_for_area(reference: ReferenceData, area_code: str, category: CategoryRef) -> RoutingSquad | None:
    squads = reference.squads_by_area.get(area_code, ())
    return next((s for s in squads if s.handles(category.code)), None)


def route(
    reference: ReferenceData, locator: Locator, category: CategoryRef, location: Location
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


def _squad_record(squad: RoutingSquad) -> dict[str, Any]:
    return {"id": squad.id, "code": squad.code, "name": squad.name_zh, "district": squad.district_code}


def routing_record(
    decision: RoutingDecision, category: CategoryRef, location: Location, locator: Locator
) -> dict[str, Any]:
    """The routing decision and its inputs, as stored on the case and shown by the API."""
    return {
        "rule": decision.rule,
        "reason": decision.reason,
        "lead": _squad_record(decision.lead) if decision.lead else None,
        "queue": None
        if decision.queue is None
        else {"id": decision.queue.id, "code": decision.queue.code, "name": decision.queue.name_zh},
        "partners": [{**_squad_record(s), "reason": why} for s, why in decision.partners],
        "notes": decision.notes,
        "inputs": {
            "category": category.code,
            "location": location_payload(location, generation=locator.generation),
        },
    }


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
