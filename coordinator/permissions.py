"""Permissions that depend on the data: pure functions of a user and the rows they act on.

Which squads a dispatcher may manage, how much of a reporter's contact data a role sees, who may plan
a liaison meeting series, change a meeting, keep its record, update an action item or make a meetings
calendar feed URL, who may claim, work, transfer or decide on a case, who plans a squad's nights and who
records a joint patrol. They look only at their arguments — never at the request — so services and the
case lifecycle call them inside or outside a request alike. Which roles may use an endpoint at all is
the web edge's table (coordinator.policy.RULES).
"""

from __future__ import annotations

from typing import Literal

from coordinator.auth.models import SQUAD_ROLES, User
from coordinator.cases.models import Case, CaseTransfer
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


def contact_visibility(role: str, *, export: bool = False) -> Visibility:
    """How much of a reporter's contact data (name, phone) a role sees.

    Dispatchers and admins see it in full (and every such read is audited); squads see it masked
    (138****1234); the committee and every export see none of it; reporters see none of others'.
    """
    if export:
        return "absent"
    if role in ("dispatcher", "admin"):
        return "full"
    if role in ("squad_leader", "squad_member"):
        return "masked"
    return "absent"


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


def is_transfer_receiver(user: User, transfer: CaseTransfer | None) -> bool:
    """The leader of the squad a pending transfer is addressed to (only they accept or decline)."""
    return (
        transfer is not None
        and transfer.state == "pending"
        and user.role == "squad_leader"
        and user.squad_id == transfer.to_squad_id
    )


# -- joint night patrols -----------------------------------------------------------------------------


def may_record_patrol(user: User, shift: RosterShift) -> bool:
    """Members of the shift's two squads, dispatchers and admins record its patrol."""
    if user.role in ("dispatcher", "admin"):
        return True
    return user.squad_id is not None and user.squad_id in (shift.squad_a_id, shift.squad_b_id)


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
