"""Community API: reporters' reports, ratings, disputes and rewards (through their account or the secret
status link) and reward administration; the compounds, renovation filings and inspections are in
filing_views.py (registered on this blueprint). Thin views: parse, call a service, serialize."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint

from coordinator.api import endpoint
from coordinator.auth.models import User
from coordinator.cases.models import Report
from coordinator.citizen import services as citizen
from coordinator.community import feedback, rewards
from coordinator.community.presenters import feedback_out, ledger_line, my_report, rule_out
from coordinator.community.schemas import (
    DisputeIn,
    DisputeOut,
    FeedbackOut,
    FlaggedList,
    MyReports,
    RatingIn,
    RedemptionIn,
    RedemptionOut,
    RewardAccount,
    RewardRuleIn,
    RewardRuleList,
    RewardRuleOut,
    RewardTotals,
    StatusRewards,
    TotalsQuery,
)
from coordinator.errors import NotFound, ValidationFailed
from coordinator.extensions import db_session
from coordinator.policy import current_user
from coordinator.settings import get_settings
from coordinator.worktime import SHANGHAI

bp = Blueprint("community", __name__)


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def _window() -> int:
    return get_settings().feedback_window_days


# -- reporters: one rating, dispute and points account, reached two ways -----------------------------------
# Through the caller's account (/my/…) or, with no account, the secret status link (/status/<token>/…: the
# token is the credential). Both ways resolve the report and its reporter, then share one helper each.


def _rate(report: Report, body: RatingIn, *, via: str) -> tuple[dict[str, Any] | None, int]:
    """Rate the resolution of `report` (once, within the feedback window)."""
    row = feedback.rate(
        db_session(),
        report,
        stars=body.stars,
        comment=body.comment,
        via=via,
        now=_now(),
        window_days=_window(),
    )
    return feedback_out(row), 201


def _dispute(report: Report, actor: User, body: DisputeIn, *, via: str) -> tuple[dict[str, Any], int]:
    """Dispute the resolution of `report` as `actor` (its reporter): the case goes back to its dispatcher."""
    session = db_session()
    case = feedback.dispute(
        session, report, actor, reason=body.reason, via=via, now=_now(), window_days=_window()
    )
    row = feedback.existing_feedback(session, report.id)["dispute"]
    return {"case_number": case.number, "status": case.status, "dispute": feedback_out(row)}, 201


def _reward_account(who: rewards.Reporter) -> dict[str, Any]:
    """A reporter's points: balance and history."""
    session = db_session()
    return {
        "balance": rewards.balance(session, who),
        "history": [ledger_line(e) for e in rewards.history(session, who)],
    }


def _my_report(report_id: int) -> Report:
    report = db_session().get(Report, report_id)
    if report is None or report.submitted_by_id != current_user().id:
        raise NotFound(f"no report {report_id} of yours")
    return report


def _linked_report(token: str) -> Report:
    session = db_session()
    report, _case = citizen.status_subjects(session, citizen.resolve_token(session, token))
    return report


@bp.get("/my/reports")
@endpoint(
    summary="The caller's reports: case progress, the squad's feedback, rating and dispute",
    tags=["reporters"],
    response=MyReports,
)
def my_reports() -> dict[str, Any]:
    session = db_session()
    rows = feedback.my_reports(session, current_user())
    return {"reports": [my_report(session, r, window_days=_window()) for r in rows]}


@bp.post("/my/reports/<id:report_id>/rating")
@endpoint(
    summary="Rate the resolution of one's report (1–5), within the feedback window, once",
    tags=["reporters"],
    body=RatingIn,
    response=FeedbackOut,
    status=201,
    errors=(404, 409),
)
def rate_my_report(report_id: int, body: RatingIn) -> tuple[dict[str, Any] | None, int]:
    return _rate(_my_report(report_id), body, via="account")


@bp.post("/my/reports/<id:report_id>/dispute")
@endpoint(
    summary="Dispute the resolution of one's report: the case goes back to its dispatcher",
    tags=["reporters"],
    body=DisputeIn,
    response=DisputeOut,
    status=201,
    errors=(404, 409),
)
def dispute_my_report(report_id: int, body: DisputeIn) -> tuple[dict[str, Any], int]:
    return _dispute(_my_report(report_id), current_user(), body, via="account")


@bp.get("/my/rewards")
@endpoint(
    summary="The caller's reward points: balance and history", tags=["reporters"], response=RewardAccount
)
def my_rewards() -> dict[str, Any]:
    return _reward_account(rewards.Reporter(user_id=current_user().id))


@bp.post("/status/<token>/rating")
@endpoint(
    summary="Rate the resolution through the secret status link (1–5), within the window, once",
    tags=["reporters"],
    body=RatingIn,
    response=FeedbackOut,
    status=201,
    errors=(404, 409),
)
def rate_by_status_link(token: str, body: RatingIn) -> tuple[dict[str, Any] | None, int]:
    return _rate(_linked_report(token), body, via="status_link")


@bp.post("/status/<token>/dispute")
@endpoint(
    summary="Dispute the resolution through the secret status link: the case goes back to its dispatcher",
    tags=["reporters"],
    body=DisputeIn,
    response=DisputeOut,
    status=201,
    errors=(404, 409),
)
def dispute_by_status_link(token: str, body: DisputeIn) -> tuple[dict[str, Any], int]:
    report = _linked_report(token)
    return _dispute(report, feedback.status_link_actor(report), body, via="status_link")


@bp.get("/status/<token>/rewards")
@endpoint(
    summary="The reward points of the phone the status link's report left (no account)",
    tags=["reporters"],
    response=StatusRewards,
    errors=(404,),
)
def rewards_by_status_link(token: str) -> dict[str, Any]:
    report = _linked_report(token)
    if not report.reporter_phone:
        raise ValidationFailed("this report left no phone number: it earns no points", code="no_phone")
    return _reward_account(rewards.Reporter(phone_hash=rewards.phone_hash(report.reporter_phone)))


# -- reward administration ---------------------------------------------------------------------------------


@bp.get("/rewards/rules")
@endpoint(
    summary="Reward rules (which categories and sources earn, how much, caps)",
    tags=["rewards"],
    response=RewardRuleList,
)
def list_reward_rules() -> dict[str, Any]:
    return {"rules": [rule_out(r) for r in rewards.list_rules(db_session())]}


@bp.put("/rewards/rules/<name>")
@endpoint(
    summary="Create or replace a reward rule by name",
    tags=["rewards"],
    body=RewardRuleIn,
    response=RewardRuleOut,
    errors=(409,),
)
def put_reward_rule(name: str, body: RewardRuleIn) -> dict[str, Any]:
    values = body.model_dump()
    values["category_code"] = values.pop("category")
    if (values["burst_count"] is None) != (values["burst_minutes"] is None):
        raise ValidationFailed("burst_count and burst_minutes go together")
    return rule_out(rewards.put_rule(db_session(), name[:64], values))


@bp.post("/rewards/redemptions")
@endpoint(
    summary="Redeem a reporter's points against a reference (never below zero)",
    tags=["rewards"],
    body=RedemptionIn,
    response=RedemptionOut,
    status=201,
    errors=(404, 409),
)
def redeem_points(body: RedemptionIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    who = rewards.reporter_for(session, username=body.username, phone=body.phone)
    entry = rewards.redeem(
        session,
        who,
        points=body.points,
        reference=body.reference,
        actor=current_user(),
        note=body.note,
        now=_now(),
    )
    return {"entry": ledger_line(entry), "balance": rewards.balance(session, who)}, 201


@bp.get("/rewards/totals")
@endpoint(
    summary="Points earned, revoked and redeemed per district in a month",
    tags=["rewards"],
    query=TotalsQuery,
    response=RewardTotals,
)
def reward_totals(query: TotalsQuery) -> dict[str, Any]:
    year, month = (int(p) for p in query.month.split("-"))
    rows = rewards.totals(db_session(), date(year, month, 1))
    return {"month": query.month, "districts": [vars(r) for r in rows]}


@bp.get("/rewards/flagged")
@endpoint(summary="Earnings flagged by the abuse checks (bursts)", tags=["rewards"], response=FlaggedList)
def flagged_rewards() -> dict[str, Any]:
    return {
        "entries": [{**ledger_line(e), "district": e.district_code} for e in rewards.flagged(db_session())]
    }


# The compounds, renovation filings and inspections live in their own module on the same blueprint
# (registered by importing it).
from coordinator.community import filing_views  # noqa: E402, F401
