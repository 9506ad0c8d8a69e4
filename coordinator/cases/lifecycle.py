"""The case lifecycle as data: which action moves a case from which states to which, and who may take it.

    reported → routed → claimed → in_progress → resolved → verified → closed
    transfer: request → accept (lead moves, case back to routed) / decline (nothing moves)
    reopen: resolved/verified/closed → in_progress      void: any open state → void (with a reason)
    dispute (the reporter, within the feedback window): resolved/verified/closed → resolved, i.e. back
    on the dispatcher's desk for 核查, who then verifies (dispute rejected) or reopens (upheld)

`TRANSITIONS` is the one table; `allowed_actions` derives what a caller may do next (shown by the API)
and `check` turns a refused action into 403 (the caller has no part in this action on this case) or 409
(right caller, wrong moment: the details list what is allowed now).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect

from coordinator.auth.models import User
from coordinator.cases.models import Case, CaseTransfer
from coordinator.errors import Conflict, Forbidden
from coordinator.permissions import (
    is_case_dispatcher,
    is_case_reporter,
    is_case_squad_member,
    is_lead_leader,
    is_receiving_dispatcher,
    is_transfer_receiver,
)

OPEN_WORK = frozenset({"reported", "routed", "claimed", "in_progress"})
TRANSFERABLE = frozenset({"routed", "claimed", "in_progress"})

ActorPredicate = Callable[[User, Case, CaseTransfer | None], bool]

# Who, by name (the table reads better with names than with lambdas).
ACTORS: dict[str, ActorPredicate] = {
    "case_squad": lambda user, case, _t: is_case_squad_member(user, case),
    "lead_leader": lambda user, case, _t: is_lead_leader(user, case),
    "dispatcher": lambda user, case, _t: is_case_dispatcher(user, case),
    "receiver": lambda user, _case, transfer: is_transfer_receiver(user, transfer),
    "receiving_dispatcher": lambda user, _case, transfer: is_receiving_dispatcher(user, transfer),
    "reporter": lambda user, case, _t: is_case_reporter(user, case),
}


@dataclass(frozen=True)
class Transition:
    """One action: the states it applies in, the state it leads to (None: unchanged), who may take it,
    and whether it needs a pending transfer (True), needs none (False) or does not care (None)."""

    action: str
    sources: frozenset[str]
    target: str | None
    actors: tuple[str, ...]
    event: str
    pending_transfer: bool | None = None
    summary: str = ""


TRANSITIONS: tuple[Transition, ...] = (
    Transition("claim", frozenset({"routed"}), "claimed", ("case_squad",), "claimed", summary="认领"),
    Transition(
        "start", frozenset({"claimed"}), "in_progress", ("case_squad",), "started", summary="开始处置"
    ),
    Transition(
        "resolve",
        frozenset({"in_progress"}),
        "resolved",
        ("case_squad", "dispatcher"),
        "resolved",
        summary="处置完毕（反馈），附证据",
    ),
    Transition("verify", frozenset({"resolved"}), "verified", ("dispatcher",), "verified", summary="核查"),
    Transition("close", frozenset({"verified"}), "closed", ("dispatcher",), "closed", summary="结案"),
    Transition(
        "reopen",
        frozenset({"resolved", "verified", "closed"}),
        "in_progress",
        ("dispatcher",),
        "reopened",
        summary="核查不通过或复发：重新处置",
    ),
    Transition(
        "dispute",
        frozenset({"resolved", "verified", "closed"}),
        "resolved",
        ("reporter",),
        "disputed",
        summary="举报人对处置结果有异议：退回调度员核查（核查通过或重新处置）",
    ),
    Transition(
        "void", OPEN_WORK, "void", ("dispatcher",), "voided", summary="作废（重复件/无法处置/虚假举报）"
    ),
    Transition(
        "transfer",
        TRANSFERABLE,
        None,
        ("lead_leader", "dispatcher"),
        "transfer_requested",
        pending_transfer=False,
        summary="申请移交（退单）：接收中队同意前主办不变",
    ),
    Transition(
        "accept_transfer",
        TRANSFERABLE,
        "routed",
        ("receiver", "receiving_dispatcher"),
        "transfer_accepted",
        pending_transfer=True,
        summary="接收移交：成为主办中队，原主办转为协办并知会",
    ),
    Transition(
        "decline_transfer",
        TRANSFERABLE,
        None,
        ("receiver", "receiving_dispatcher"),
        "transfer_declined",
        pending_transfer=True,
        summary="拒绝移交：主办不变",
    ),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def _may(transition: Transition, user: User, case: Case, pending: CaseTransfer | None) -> bool:
    return any(ACTORS[name](user, case, pending) for name in transition.actors)


def _applies(transition: Transition, case: Case, pending: CaseTransfer | None) -> bool:
    if case.status not in transition.sources:
        return False
    if transition.action == "claim" and case.claimed_by_id is not None:
        return False
    if transition.action == "claim" and case.lead_squad_id is None:
        return False  # a queue-owned case must first be transferred to a squad
    if transition.pending_transfer is True:
        return pending is not None
    if transition.pending_transfer is False:
        return pending is None
    return True


def allowed_actions(case: Case, user: User, pending: CaseTransfer | None) -> list[str]:
    """The actions `user` may take on `case` now, in table order."""
    return [t.action for t in TRANSITIONS if _applies(t, case, pending) and _may(t, user, case, pending)]


def check(case: Case, action: str, user: User, pending: CaseTransfer | None) -> Transition:
    """The transition for `action`, or 403 (not this caller's to take) / 409 (not now; lists allowed)."""
    transition = BY_ACTION[action]
    if not _may(transition, user, case, pending):
        raise Forbidden(
            f"{user.username} may not {action} case {case.number}",
            details={"case": case.number, "action": action, "who_may": list(transition.actors)},
        )
    if not _applies(transition, case, pending):
        raise conflict(case, action, user, pending)
    return transition


def conflict(case: Case, action: str, user: User, pending: CaseTransfer | None) -> Conflict:
    """409 for `action` on `case` in its current state, naming the holder and what is allowed now."""
    holder = case_holder(case)
    details = {
        "case": case.number,
        "action": action,
        "status": case.status,
        "claimed_by": holder,
        "pending_transfer": pending.id if pending else None,
        "allowed": allowed_actions(case, user, pending),
    }
    if action == "claim" and holder is not None:
        message = f"case {case.number} is already claimed by {holder}"
        return Conflict(message, code="already_claimed", details=details)
    return Conflict(f"cannot {action} case {case.number} while it is {case.status}", details=details)


def case_holder(case: Case) -> str | None:
    """Username of the claimant, if the case is claimed (the relationship is loaded lazily)."""
    if case.claimed_by_id is None:
        return None
    session = inspect(case).session
    user = session.get(User, case.claimed_by_id) if session is not None else None
    return user.username if user else str(case.claimed_by_id)
