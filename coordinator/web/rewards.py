"""The rewards page (admins): the month's points per district, the earnings the burst check flagged, the
reward rules with an edit form each, and the redemption form. It reads through the rewards services
(coordinator.community.rewards) with the API's presenters; every change goes through the rewards API
(static/web/rewards.js: `PUT /api/v1/rewards/rules/{name}`, `POST /api/v1/rewards/redemptions`), so its
rules and refusals are the API's."""

from __future__ import annotations

from datetime import date, datetime

from flask import render_template, request
from flask_babel import gettext as _

from coordinator.boundaries import services as boundaries
from coordinator.cases import queries
from coordinator.cases.models import REPORT_SOURCES
from coordinator.community import rewards
from coordinator.community.presenters import ledger_line, rule_out
from coordinator.errors import ValidationFailed
from coordinator.extensions import db_session
from coordinator.web import bp
from coordinator.web.dashboard import recent_months
from coordinator.web.views import source_labels
from coordinator.worktime import SHANGHAI


def chosen_month(value: str | None, today: date) -> date:
    """The first day of `?month=YYYY-MM` (this month when absent); 400 when malformed."""
    if not value:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise ValidationFailed("month must be YYYY-MM", code="bad_month") from exc


@bp.get("/rewards")
def rewards_page() -> str:
    """Totals per district for a month (a month picker), flagged bursts, the rules with their edit
    forms, and the redemption form."""
    session = db_session()
    today = datetime.now(SHANGHAI).date()
    month = chosen_month(request.args.get("month"), today)
    key = f"{month.year:04d}-{month.month:02d}"
    months = recent_months(today)
    if key not in months:
        months.append(key)
    return render_template(
        "web/rewards.html",
        month=key,
        months=months,
        totals=rewards.totals(session, month),
        flagged=[{**ledger_line(e), "district": e.district_code} for e in rewards.flagged(session, limit=50)],
        rules=[rule_out(r) for r in rewards.list_rules(session)],
        categories=queries.list_categories(session, active_only=False),
        sources=REPORT_SOURCES,
        source_labels=source_labels(),
        district_names={a.code: a.name_zh for a in boundaries.current_areas(session, level="district")},
        texts={
            "redeemed": _("Redeemed; balance now"),
            "saved": _("Rule saved"),
            "short": _("Refused: the balance is {balance} points, less than the {requested} to redeem"),
            "no_reporter": _("Refused: no reporter account of that name"),
            "burst_pair": _("Give both the burst count and its minutes, or neither"),
        },
    )
