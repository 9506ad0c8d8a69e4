"""The liaison pages: the committee dashboard, the liaison meetings (联席会议) and the joint night rosters
(联合夜间执法排班). Like every page they read through the services and render a template; every change
is a fetch to the JSON API (meetings, rosters). Routes on the `web` blueprint (endpoint names
`web.dashboard_page`, `web.meetings_page`, …), access from coordinator.access_rules.RULES."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from coordinator.api import parse_query
from coordinator.extensions import db_session
from coordinator.meetings import services as meetings
from coordinator.meetings.presenters import Presenter
from coordinator.policy import current_user
from coordinator.review import renovation
from coordinator.review.schemas import PeriodQuery
from coordinator.review.services import border_pair_key, district_names
from coordinator.rosters import services as rosters
from coordinator.rosters.presenters import roster_json
from coordinator.web import bp, dashboard, desk
from coordinator.web.filings import state_labels
from coordinator.web.views import border_pairs, map_config
from coordinator.worktime import SHANGHAI


@bp.get("/dashboard")
def dashboard_page() -> str:
    """The committee dashboard: per border pair, weekly new/closed (an SVG chart drawn on the server),
    SLA compliance, time to close, hotspots with their trend (a table per pair, and one map of them all:
    the points ride in the page's JSON, static/web/map.js draws them), the renovation filings per district
    and month by state with the 城管 spot checks' outcomes (counts, coordinator.review.renovation), and
    links to the review's exports."""

    now = datetime.now(SHANGHAI)
    query = parse_query(PeriodQuery)
    assert isinstance(query, PeriodQuery)
    period = query.period(now)
    pair = border_pair_key(query.border_pair) if query.border_pair else None
    session = db_session()
    trends = dashboard.hotspot_trends(session, period, now=now, pair=pair)
    panels = dashboard.panels(session, period, now=now, pair=pair, trends=trends)
    export = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    trend_labels = {"rising": _("Rising"), "falling": _("Falling"), "flat": _("Flat")}
    pairs = border_pairs(session)
    config = map_config()
    config["pairs"] = {f"{a}-{b}": label for a, b, label in pairs}
    config["hotspots"] = dashboard.hotspot_points(trends)
    config["trends"] = trend_labels
    config["texts"] |= {
        "this_period": _("Cases this period"),
        "previous_period": _("Previous period"),
        "trend": _("Trend"),
        "retired": _("Retired"),
    }
    filings = renovation.renovation_review(session, period, districts=set(pair) if pair else None)
    return render_template(
        "web/dashboard.html",
        renovation=filings,
        filing_states=state_labels(),
        district_names=district_names(session),
        period=period,
        month=query.month or "",
        months=dashboard.recent_months(now.date()),
        pairs=pairs,
        border_pair=f"{pair[0]}-{pair[1]}" if pair else "",
        panels=panels,
        export=export,
        trend_labels=trend_labels,
        map_config=config,
    )


def meeting_status_labels() -> dict[str, str]:
    """Meeting statuses in the page's language."""
    return {"scheduled": _("Scheduled"), "held": _("Held"), "cancelled": _("Cancelled")}


@bp.get("/meetings")
def meetings_page() -> str:
    """The meetings of the series the user sees (a district's dispatcher: its pairs' and the alliance's),
    from three months back, by start time."""

    session = db_session()
    user = current_user()
    district = user.district_code if user.role == "dispatcher" else None
    rows = meetings.list_meetings(
        session, start=datetime.now(SHANGHAI) - timedelta(days=92), district=district, limit=200
    )
    presenter = Presenter(session, user)
    return render_template(
        "web/meetings.html",
        meetings=[presenter.meeting(m) for m in rows],
        meeting_status_labels=meeting_status_labels(),
    )


@bp.get("/meetings/<id:meeting_id>")
def meeting_page(meeting_id: int) -> str:
    """One meeting: agenda, minutes, decisions, attendance, action items; the host district's dispatcher
    gets the forms that edit them (through the meetings API)."""

    session = db_session()
    user = current_user()
    detail = Presenter(session, user).detail(
        meetings.get_meeting(session, meeting_id), datetime.now(SHANGHAI)
    )
    series = meetings.get_series(session, detail["series_id"])
    return render_template(
        "web/meeting.html",
        meeting=detail,
        series_name=series.name_zh,
        districts=meetings.districts_of(session, series),
        meeting_status_labels=meeting_status_labels(),
        item_status_labels={"open": _("Open"), "done": _("Done"), "dropped": _("Dropped")},
    )


def roster_status_labels() -> dict[str, str]:
    """Roster statuses in the page's language."""
    return {"draft": _("Draft"), "published": _("Published")}


@bp.get("/rosters")
def rosters_page() -> str:
    """The joint night rosters, newest period first."""

    return render_template(
        "web/rosters.html",
        rosters=rosters.list_rosters(db_session()),
        roster_status_labels=roster_status_labels(),
    )


@bp.get("/rosters/<id:roster_id>")
def roster_page(roster_id: int) -> str:
    """One roster as a calendar grid (nights × hotspots, the squads in the cells), the fairness table
    (each squad's nights per week against its capacity, burden), why each hotspot got its nights, and
    the form that moves a shift (PATCH /api/v1/rosters/<id>/shifts/<shift>: a hard-rule violation is
    refused with its reason)."""

    session = db_session()
    roster = roster_json(session, rosters.get_roster(session, roster_id))
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for shift in roster["shifts"]:
        cells.setdefault((shift["night"], shift["hotspot"]["id"]), []).append(shift)
    return render_template(
        "web/roster.html",
        roster=roster,
        cells=cells,
        squads=desk.transfer_targets(session),
        roster_status_labels=roster_status_labels(),
        nights=[
            (n["date"], weekdays[date.fromisoformat(n["date"]).weekday()], n["kind"])
            for n in roster["nights"]
        ],
    )
