"""Rewards for reporters: rules as data (`reward_rule`), an append-only ledger (`reward_entry`), the
balance and history of a reporter, and the admins' totals.

- Credit: when a case is verified, each of its first K reporters (K per rule) whose report's category
  and source match an active rule earns the rule's points, up to the rule's daily cap per reporter.
  A reporter is an account of role `reporter` and/or a phone number; a later report of someone already
  counted earns nothing, and the ledger's unique constraints make "one account or one phone earns once
  per case" hold in the database whatever the code does. Reports sent in a burst are flagged.
- Revoke: when a case is voided (a false report, a duplicate, not actionable), what it earned is taken
  back by a `revoked` line per earning.
- Redeem: an admin books points out against a reference (a voucher number); never below zero.
- Balance: points belong to the account when the report came from one (the phone it left is recorded
  for the abuse checks), otherwise to the phone.

Phones are kept in the ledger as a SHA-256 of the normalised number — pseudonymous, not secret (a phone
number is guessable); the ledger never stores the number itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.cases.models import Case, Report
from coordinator.community.models import RewardEntry, RewardRule
from coordinator.dialects import begin_write
from coordinator.errors import Conflict, NotFound, ValidationFailed
from coordinator.worktime import SHANGHAI

_DIGITS = re.compile(r"\d")
PHONE_SALT = "jiaojie-reporter-phone:"


def normalise_phone(phone: str) -> str:
    """Digits only, without a +86 before a mobile number: '+86 138-1234-1234' → '13812341234'."""
    digits = "".join(_DIGITS.findall(phone))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def phone_hash(phone: str) -> str:
    """The ledger's key of a phone number."""
    return hashlib.sha256((PHONE_SALT + normalise_phone(phone)).encode()).hexdigest()


@dataclass(frozen=True)
class Reporter:
    """Whose points: an account, a phone, or both (a report from an account that left a phone)."""

    user_id: int | None = None
    phone_hash: str | None = None

    def owns(self) -> ColumnElement[bool]:
        """The ledger lines of this reporter's balance: an account's lines, or — for a reporter without
        an account — the lines of the phone that no account holds."""
        if self.user_id is not None:
            return RewardEntry.user_id == self.user_id
        return and_(RewardEntry.phone_hash == self.phone_hash, RewardEntry.user_id.is_(None))

    def touches(self) -> ColumnElement[bool]:
        """Every line of this account or this phone (the daily cap counts both)."""
        clauses = []
        if self.user_id is not None:
            clauses.append(RewardEntry.user_id == self.user_id)
        if self.phone_hash is not None:
            clauses.append(RewardEntry.phone_hash == self.phone_hash)
        return or_(*clauses)


def reporter_of(report: Report, submitter_role: str | None) -> Reporter | None:
    """The reporter who may earn for `report`: its submitting account if that is a citizen's account
    (role `reporter`; staff and device accounts do not earn), and its phone; None if neither."""
    user_id = report.submitted_by_id if submitter_role == "reporter" else None
    ph = phone_hash(report.reporter_phone) if report.reporter_phone else None
    if user_id is None and ph is None:
        return None
    return Reporter(user_id, ph)


# -- rules ---------------------------------------------------------------------------------------------


def active_rules(session: Session) -> list[RewardRule]:
    """Active rules, first-match order."""
    return list(
        session.scalars(select(RewardRule).where(RewardRule.active.is_(True)).order_by(RewardRule.priority))
    )


def matching_rule(rules: Sequence[RewardRule], category: str, source: str) -> RewardRule | None:
    """The first rule whose category and source (None: any) match."""
    for rule in rules:
        if rule.category_code in (None, category) and rule.source in (None, source):
            return rule
    return None


def list_rules(session: Session) -> list[RewardRule]:
    """Every rule, by priority."""
    return list(session.scalars(select(RewardRule).order_by(RewardRule.priority)))


def put_rule(session: Session, name: str, values: dict[str, Any]) -> RewardRule:
    """Create or replace the rule called `name` (admins change rules as data)."""
    if values.get("category_code") is not None:
        from coordinator.cases.models import Category

        if session.get(Category, values["category_code"]) is None:
            raise ValidationFailed(f"unknown category {values['category_code']!r}", code="unknown_category")
    rule = session.scalars(select(RewardRule).where(RewardRule.name == name)).one_or_none()
    clash = session.scalars(
        select(RewardRule).where(RewardRule.priority == values["priority"], RewardRule.name != name)
    ).first()
    if clash is not None:
        raise Conflict(
            f"rule {clash.name!r} already has priority {values['priority']}", code="priority_taken"
        )
    if rule is None:
        rule = RewardRule(name=name, **values)
        session.add(rule)
    else:
        for key, value in values.items():
            setattr(rule, key, value)
    session.flush()
    return rule


# -- credit and revoke -----------------------------------------------------------------------------------


def _local_day(at: datetime) -> tuple[datetime, datetime]:
    day = at.astimezone(SHANGHAI).date()
    start = datetime.combine(day, time(0), SHANGHAI)
    return start, start + timedelta(days=1)


def earned_between(session: Session, who: Reporter, start: datetime, end: datetime) -> int:
    """Points `who` earned in [start, end)."""
    total = session.scalar(
        select(func.coalesce(func.sum(RewardEntry.points), 0)).where(
            who.touches(), RewardEntry.kind == "earned", RewardEntry.at >= start, RewardEntry.at < end
        )
    )
    return int(total or 0)


def _earned_on_case(session: Session, case_id: int) -> list[RewardEntry]:
    return list(
        session.scalars(
            select(RewardEntry).where(RewardEntry.case_id == case_id, RewardEntry.kind == "earned")
        )
    )


def is_burst(session: Session, report: Report, who: Reporter, rule: RewardRule) -> bool:
    """Whether the reporter sent at least `rule.burst_count` reports in the `burst_minutes` up to this
    one (this one included)."""
    if rule.burst_count is None or rule.burst_minutes is None:
        return False
    clauses = []
    if who.user_id is not None:
        clauses.append(Report.submitted_by_id == who.user_id)
    if report.reporter_phone:
        clauses.append(Report.reporter_phone == report.reporter_phone)
    since = report.received_at - timedelta(minutes=rule.burst_minutes)
    count = session.scalar(
        select(func.count(Report.id)).where(
            or_(*clauses), Report.received_at >= since, Report.received_at <= report.received_at
        )
    )
    return int(count or 0) >= rule.burst_count


def credit_case(session: Session, case: Case, *, now: datetime) -> list[RewardEntry]:
    """Credit the reporters of a verified case by the rules (idempotent: a re-verified case credits
    nobody twice). Returns the new ledger lines."""
    rules = active_rules(session)
    if not rules:
        return []
    reports = sorted(case.reports, key=lambda r: (r.received_at, r.id))
    submitter_ids = {r.submitted_by_id for r in reports if r.submitted_by_id is not None}
    roles = dict(session.execute(select(User.id, User.role).where(User.id.in_(submitter_ids))).all())
    done = _earned_on_case(session, case.id)
    paid_users = {e.user_id for e in done if e.user_id is not None}
    paid_phones = {e.phone_hash for e in done if e.phone_hash is not None}
    seen_users: set[int] = set()
    seen_phones: set[str] = set()
    day_start, day_end = _local_day(now)
    rank = 0
    new: list[RewardEntry] = []
    for report in reports:
        who = reporter_of(report, roles.get(report.submitted_by_id or -1))
        if who is None:
            continue
        if who.user_id in seen_users or who.phone_hash in seen_phones:
            continue  # a later report of a reporter already counted: a duplicate, earns nothing
        rank += 1
        if who.user_id is not None:
            seen_users.add(who.user_id)
        if who.phone_hash is not None:
            seen_phones.add(who.phone_hash)
        rule = matching_rule(rules, report.category_code, report.source)
        if rule is None or (rule.first_k is not None and rank > rule.first_k):
            continue
        if who.user_id in paid_users or who.phone_hash in paid_phones:
            continue
        points = rule.points
        if rule.daily_cap is not None:
            points = min(points, rule.daily_cap - earned_between(session, who, day_start, day_end))
        if points <= 0:
            continue
        entry = RewardEntry(
            kind="earned",
            points=points,
            user_id=who.user_id,
            phone_hash=who.phone_hash,
            case_id=case.id,
            case_number=case.number,
            report_id=report.id,
            district_code=case.district_code,
            category_code=report.category_code,
            rule_name=rule.name,
            flag="burst" if is_burst(session, report, who, rule) else None,
            note=f"第 {rank} 位举报人，案件核查通过",
            at=now,
        )
        session.add(entry)
        session.flush()  # the unique constraints refuse a second earning here
        new.append(entry)
    return new


def revoke_case(session: Session, case: Case, *, now: datetime) -> list[RewardEntry]:
    """Take back what a voided case earned: one `revoked` line per earning not yet revoked."""
    revoked = {
        e.report_id
        for e in session.scalars(
            select(RewardEntry).where(RewardEntry.case_id == case.id, RewardEntry.kind == "revoked")
        )
    }
    new = []
    for earned in _earned_on_case(session, case.id):
        if earned.report_id in revoked:
            continue
        entry = RewardEntry(
            kind="revoked",
            points=-earned.points,
            user_id=earned.user_id,
            phone_hash=earned.phone_hash,
            case_id=case.id,
            case_number=case.number,
            report_id=earned.report_id,
            district_code=earned.district_code,
            category_code=earned.category_code,
            rule_name=earned.rule_name,
            note="案件作废，积分收回",
            at=now,
        )
        session.add(entry)
        new.append(entry)
    session.flush()
    return new


# -- balance, history, redemption, totals ----------------------------------------------------------------


def balance(session: Session, who: Reporter) -> int:
    """The reporter's points now."""
    return int(session.scalar(select(func.coalesce(func.sum(RewardEntry.points), 0)).where(who.owns())) or 0)


def history(session: Session, who: Reporter, *, limit: int = 200) -> list[RewardEntry]:
    """The reporter's ledger lines, newest first."""
    return list(
        session.scalars(
            select(RewardEntry)
            .where(who.owns())
            .order_by(RewardEntry.at.desc(), RewardEntry.id.desc())
            .limit(limit)
        )
    )


def redeem(
    session: Session,
    who: Reporter,
    *,
    points: int,
    reference: str,
    actor: User,
    note: str,
    now: datetime,
) -> RewardEntry:
    """Book `points` out of the reporter's balance against `reference`; 409 if the balance is short."""
    if points <= 0:
        raise ValidationFailed("points to redeem must be positive")
    begin_write(session)  # balances are read and written under the write lock: no double spend
    have = balance(session, who)
    if have < points:
        raise Conflict(
            f"the balance is {have} points, less than {points}",
            code="insufficient_points",
            details={"balance": have, "requested": points},
        )
    entry = RewardEntry(
        kind="redeemed",
        points=-points,
        user_id=who.user_id,
        phone_hash=who.phone_hash,
        reference=reference,
        actor=actor.username,
        note=note,
        at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def reporter_for(session: Session, *, username: str | None, phone: str | None) -> Reporter:
    """The reporter an admin names by account or phone (exactly one of them)."""
    if (username is None) == (phone is None):
        raise ValidationFailed("name the reporter by username or by phone (one of them)")
    if username is not None:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or user.role != "reporter":
            raise NotFound(f"no reporter account {username!r}")
        return Reporter(user_id=user.id)
    assert phone is not None
    return Reporter(phone_hash=phone_hash(phone))


@dataclass(frozen=True)
class DistrictTotal:
    """One district's ledger in a month."""

    district: str | None
    earned: int
    revoked: int
    redeemed: int
    reporters: int
    flagged: int


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in Asia/Shanghai."""
    start = datetime.combine(month.replace(day=1), time(0), SHANGHAI)
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(nxt, time(0), SHANGHAI)


def totals(session: Session, month: date) -> list[DistrictTotal]:
    """Points earned, revoked and redeemed per district (redemptions have none) in a month."""
    start, end = month_bounds(month)
    in_month = (RewardEntry.at >= start, RewardEntry.at < end)
    rows = session.execute(
        select(
            RewardEntry.district_code,
            RewardEntry.kind,
            func.sum(RewardEntry.points),
            func.count(
                func.distinct(func.coalesce(cast(RewardEntry.user_id, String), RewardEntry.phone_hash))
            ),
            func.count(RewardEntry.flag),
        )
        .where(*in_month)
        .group_by(RewardEntry.district_code, RewardEntry.kind)
    ).all()
    out: dict[str | None, dict[str, int]] = {}
    for district, kind, points, reporters, flagged in rows:
        d = out.setdefault(district, {"earned": 0, "revoked": 0, "redeemed": 0, "reporters": 0, "flagged": 0})
        d[kind] = abs(int(points or 0))
        if kind == "earned":
            d["reporters"] = int(reporters or 0)
            d["flagged"] = int(flagged or 0)
    return [
        DistrictTotal(district, v["earned"], v["revoked"], v["redeemed"], v["reporters"], v["flagged"])
        for district, v in sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]


def flagged(session: Session, *, limit: int = 200) -> list[RewardEntry]:
    """Earnings flagged by the abuse checks, newest first (for an admin to look at)."""
    return list(
        session.scalars(
            select(RewardEntry)
            .where(RewardEntry.flag.is_not(None))
            .order_by(RewardEntry.at.desc(), RewardEntry.id.desc())
            .limit(limit)
        )
    )
