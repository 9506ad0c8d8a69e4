"""Permissions that depend on the data: pure functions of a user and the rows they act on.

Which squads a dispatcher may manage, how much of a reporter's contact data a role sees, who may plan
a liaison meeting series, change a meeting, keep its record, update an action item or make a meetings
calendar feed URL, who may claim, work, transfer or decide on a case, who plans a squad's nights and who
records a joint patrol. They look only at their arguments — never at the request — so services and the
case lifecycle call them inside or outside a request alike. Which roles may use an endpoint at all is
the web edge's table (coordinator.access_rules.RULES).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from coordinator.auth.models import SQUAD_ROLES, User
from coordinator.cases.models import Case, CaseTransfer
from coordinator.community.models import Compound
from coordinator.errors import Forbidden
from coordinator.rosters.models import RosterShift
from coordinator.squads.models import Squad

Visibility = Literal["full", "masked", "absent"]


# -- squads and contact data -------------------------------------------------------------------------


def can_manage_squad(user: User, squad: Squad) -> bool:
    """Admins manage every squad; a dispatcher those of their district (alliance dispatchers: all)."""
    if user.role == "admin":
        return True
    return user.role == "dispatcher" and user.district_code in (None, squad.district_code)


def require_manage_squad(user: User, squad: Squad) -> None:
    """403 unless `user` may change `squad`."""
    if not can_manage_squad(user, squad):
        raise Forbidden(
            f"squad {squad.code} belongs to district {squad.district_code}; "
            f"only its dispatcher or an admin may change it",
            details={"squad": squad.code, "district": squad.district_code},
        )


def can_plan_squad_nights(user: User, squad: Squad) -> bool:
    """The squad's leader (中队长), or whoever may manage the squad, sets its unavailable nights, night
    preferences and calendar feed URL."""
    if user.role == "squad_leader" and user.squad_id == squad.id:
        return True
    return can_manage_squad(user, squad)


def require_plan_squad_nights(user: User, squad: Squad) -> None:
    """403 unless `user` may plan `squad`'s nights."""
    if not can_plan_squad_nights(user, squad):
        raise Forbidden(
            f"only the leader of squad {squad.code}, its district's dispatcher or an admin may change "
            "its nights and calendar feed",
            details={"squad": squad.code, "district": squad.district_code},
        )


# -- report sources ----------------------------------------------------------------------------------
# Where a report came from is a fact about the credential that sent it, not something a client states:
# a reporter's app files citizens' reports, a squad's members file patrol reports. Hotline rows come
# only from the bulk import (`flask reports import`, source hotline_12345), devices (camera, drone) only
# through their own credentials, joint-patrol findings only through the patrol log.
CREDENTIAL_SOURCES = {
    "reporter": "citizen",
    "squad_leader": "patrol",
    "squad_member": "patrol",
    "grid_worker": "grid_worker",
    "volunteer": "volunteer",
}
# Staff who key in what reached them another way (a phone call to the desk, a volunteer's message) may
# say so; the default is a citizen's report.
STAFF_NAMED_SOURCES = ("citizen", "grid_worker", "volunteer", "patrol")
STAFF_SOURCE_ROLES = ("dispatcher", "admin")


def allowed_report_sources(role: str) -> tuple[str, ...]:
    """The sources a caller of `role` may file reports as through the API (first: the default)."""
    if role in STAFF_SOURCE_ROLES:
        return STAFF_NAMED_SOURCES
    source = CREDENTIAL_SOURCES.get(role)
    return (source,) if source else ()


def report_source(role: str, requested: str | None) -> str:
    """The source of a report filed through the API by a caller of `role`; `requested` (the body's
    `source`, if any) must be one the role may name (ValueError otherwise)."""
    allowed = allowed_report_sources(role)
    if not allowed:
        raise ValueError(f"a {role} files no reports")
    if requested is None:
        return allowed[0]
    if requested not in allowed:
        raise ValueError(f"a {role} files reports as {' or '.join(allowed)}, not {requested}")
    return requested


# The alliance's service area: its member districts and the border zones along their borders. Only the
# desk files reports outside it (a call about a spot just across the line, passed on by hand); the bulk
# import (the hotline's rows, no submitter) is the operator's and is taken as it comes.
OUTSIDE_AREA_ROLES = ("dispatcher", "admin")


def may_file_outside_service_area(role: str) -> bool:
    """Whether a caller of `role` may file a report at a point outside the service area."""
    return role in OUTSIDE_AREA_ROLES


def contact_visibility(role: str, *, export: bool = False) -> Visibility:
    """How much of a reporter's contact data (name, phone) a role sees.

    Dispatchers and admins see it in full (and every such read is audited); squads see it masked
    (138****1234); the committee and every export see none of it; reporters see none of others'. A
    property manager sees the owners' contacts of its own compounds' filings in full (it collected
    them; the reads are audited) and can read nothing else that carries contact data.
    """
    if export:
        return "absent"
    if role in ("dispatcher", "admin", "property_manager"):
        return "full"
    if role in ("squad_leader", "squad_member"):
        return "masked"
    return "absent"


def contact_visibility_for(user: User, districts: Collection[str | None]) -> Visibility:
    """How much of a case's reporter contact `user` sees, given the case's district(s) (its own and a
    border pair's): in full only for admins, the alliance desk (a dispatcher without a district) and a
    dispatcher of one of those districts; masked for other dispatchers and for squads; else absent."""
    visibility = contact_visibility(user.role)
    if visibility != "full" or user.role == "admin" or user.district_code is None:
        return visibility
    return "full" if user.district_code in set(districts) else "masked"


# -- liaison meetings --------------------------------------------------------------------------------
# A meeting belongs to the districts of its series: all members (alliance) or the two of a border pair.


def can_manage_series(user: User, *, scope: str, pair: tuple[str, str] | None) -> bool:
    """Admins and alliance dispatchers manage every series; a district's dispatcher manages the series
    of the border pairs its district is in (alliance-wide series are the alliance desk's)."""
    if user.role == "admin" or (user.role == "dispatcher" and user.district_code is None):
        return True
    return (
        user.role == "dispatcher"
        and scope == "border_pair"
        and pair is not None
        and user.district_code in pair
    )


def can_manage_meeting(user: User, *, scope: str, pair: tuple[str, str] | None, host: str) -> bool:
    """Who may move, re-host or cancel one meeting: whoever manages its series, and the dispatcher of
    the district hosting it."""
    if can_manage_series(user, scope=scope, pair=pair):
        return True
    return user.role == "dispatcher" and user.district_code == host


def can_keep_record(user: User, *, host: str) -> bool:
    """Who edits a meeting's agenda, minutes, attendance and action items: the host district's
    dispatcher (and admins and alliance dispatchers)."""
    if user.role == "admin" or (user.role == "dispatcher" and user.district_code is None):
        return True
    return user.role == "dispatcher" and user.district_code == host


def can_update_action_item(user: User, *, owner_district: str, host: str) -> bool:
    """Who may mark an action item done (or change it): the owner's district dispatcher (for a squad
    owner, its district's) and whoever keeps the record of the meeting that raised it."""
    if can_keep_record(user, host=host):
        return True
    return user.role == "dispatcher" and user.district_code == owner_district


def can_make_meetings_feed(user: User, district: str | None) -> bool:
    """Who may make a meetings calendar feed URL for `district` (None: every district's meetings): a
    district's dispatcher only for its own district; the committee, the alliance desk and admins for any."""
    return district is None or user.role != "dispatcher" or user.district_code in (None, district)


def can_revoke_meetings_feed(user: User, token_created_by_id: int | None) -> bool:
    """A meetings calendar feed URL is revoked by the user who made it, or by an admin."""
    return user.role == "admin" or token_created_by_id == user.id


# -- cases -------------------------------------------------------------------------------------------
# The case lifecycle (coordinator/cases/lifecycle.py) names who may take each action with these
# predicates.


def case_squad_ids(case: Case) -> set[int]:
    """The squads with a part in the case: its lead and its partners."""
    ids = {p.squad_id for p in case.partners}
    if case.lead_squad_id is not None:
        ids.add(case.lead_squad_id)
    return ids


def is_case_squad_member(user: User, case: Case) -> bool:
    """A leader or member of the case's lead or partner squad (who may claim and work it)."""
    return user.role in SQUAD_ROLES and user.squad_id is not None and user.squad_id in case_squad_ids(case)


def is_lead_leader(user: User, case: Case) -> bool:
    """The leader (中队长) of the case's lead squad."""
    return user.role == "squad_leader" and user.squad_id is not None and user.squad_id == case.lead_squad_id


def is_case_dispatcher(user: User, case: Case) -> bool:
    """An admin, an alliance dispatcher, or the dispatcher of the case's district."""
    if user.role == "admin":
        return True
    return user.role == "dispatcher" and (
        user.district_code is None or user.district_code == case.district_code
    )


STATUS_LINK_ACTOR = "status-link:"  # username prefix of the actor a citizen's secret status link stands for


def is_case_reporter(user: User, case: Case) -> bool:
    """A reporter of one of the case's reports: the account that submitted it, or — for a citizen who
    holds the report's secret status link — the unsaved actor `status_link_actor` made for that report."""
    if user.role != "reporter":
        return False
    if user.id is None:
        return any(user.username == f"{STATUS_LINK_ACTOR}{r.id}" for r in case.reports)
    return any(r.submitted_by_id == user.id for r in case.reports)


def is_transfer_receiver(user: User, transfer: CaseTransfer | None) -> bool:
    """The leader of the squad a pending transfer is addressed to."""
    return (
        transfer is not None
        and transfer.state == "pending"
        and user.role == "squad_leader"
        and user.squad_id == transfer.to_squad_id
    )


def is_receiving_dispatcher(user: User, transfer: CaseTransfer | None) -> bool:
    """Whoever manages the receiving squad (its district's dispatcher, an alliance dispatcher, an
    admin): they decide a pending transfer for the squad — the desk settles transfers at night when
    the squad's leader is out, and disputed ones."""
    return transfer is not None and transfer.state == "pending" and can_manage_squad(user, transfer.to_squad)


# -- joint night patrols -----------------------------------------------------------------------------


def may_record_patrol(user: User, shift: RosterShift) -> bool:
    """Members of the shift's two squads, dispatchers and admins record its patrol."""
    if user.role in ("dispatcher", "admin"):
        return True
    return user.squad_id is not None and user.squad_id in (shift.squad_a_id, shift.squad_b_id)


# -- compounds and renovation filings ----------------------------------------------------------------
# A filing belongs to a compound: its property managers, the dispatchers of its district and the squad
# whose jurisdiction is its town have a part in it (and see its documents); the committee sees counts.


def can_manage_compound(user: User, compound: Compound) -> bool:
    """Admins, alliance dispatchers and the dispatcher of the compound's district register compounds
    and name their property managers."""
    if user.role == "admin":
        return True
    return user.role == "dispatcher" and user.district_code in (None, compound.district_code)


def manages_compound(user: User, manager_ids: set[int]) -> bool:
    """A property manager of the compound."""
    return user.role == "property_manager" and user.id in manager_ids


def is_town_squad(user: User, compound: Compound) -> bool:
    """A leader or member of the squad whose jurisdiction is the compound's town."""
    return (
        user.role in SQUAD_ROLES
        and user.squad is not None
        and compound.town_code is not None
        and user.squad.jurisdiction_code == compound.town_code
    )


def can_review_filing(user: User, compound: Compound) -> bool:
    """Who accepts or returns a filing: the dispatcher of the compound's district (or an admin)."""
    return can_manage_compound(user, compound)


def can_read_filing(user: User, compound: Compound, manager_ids: set[int]) -> bool:
    """Who reads a filing with its owner's contact and documents: its compound's property managers,
    the district's dispatchers, the town's squad and admins."""
    return (
        manages_compound(user, manager_ids)
        or can_review_filing(user, compound)
        or is_town_squad(user, compound)
    )


def can_inspect_filing(user: User, compound: Compound, manager_ids: set[int], kind: str) -> bool:
    """Property inspections are the property manager's, spot checks 城管's (the town's squad, the
    district's dispatcher); the completion inspection may be either's."""
    manager = manages_compound(user, manager_ids)
    enforcement = is_town_squad(user, compound) or can_review_filing(user, compound)
    if kind == "property_patrol":
        return manager
    if kind == "spot_check":
        return enforcement
    return manager or enforcement


# -- evidence (photos and documents) -----------------------------------------------------------------
# Who may see a file depends on what it is attached to: coordinator/evidence/access.py asks these for
# cases and reports, and other domains register their own rule there.


def can_add_case_evidence(user: User, case: Case) -> bool:
    """The case's squads (lead and partners), its dispatchers and admins add before/after photos."""
    return is_case_squad_member(user, case) or is_case_dispatcher(user, case)


def can_view_case_evidence(user: User) -> bool:
    """Every staff role that reads cases sees their photos (reporters see only their own uploads)."""
    return user.role in ("squad_leader", "squad_member", "dispatcher", "committee", "admin")


def can_see_photo_location(role: str) -> bool:
    """Whether a role sees the GPS position a camera wrote into a photo (kept out of every file): those
    who see a reporter's contact data at all (squads, dispatchers, admins), not the committee."""
    return contact_visibility(role) != "absent"
