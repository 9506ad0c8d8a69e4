"""Meetings API: series, meetings, agendas, minutes, attendance, action items, the calendar feed.
Thin views over coordinator.meetings.services, .agenda and .feeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec

from flask import Blueprint, Response, g, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.api import endpoint
from coordinator.auth.models import User
from coordinator.cases.models import Case
from coordinator.cases.views import current_calendar
from coordinator.extensions import db_session
from coordinator.feedtokens import services as feedtokens
from coordinator.feedtokens.models import FeedToken
from coordinator.meetings import actions, feeds, planning, services
from coordinator.meetings.models import AgendaItem, Meeting, MeetingSeries
from coordinator.meetings.presenters import Presenter
from coordinator.meetings.schemas import (
    ActionItemIn,
    ActionItemList,
    ActionItemOut,
    ActionItemPatch,
    ActionItemQuery,
    AgendaIn,
    AttendanceIn,
    CalendarQuery,
    CancelIn,
    FeedTokenIn,
    FeedTokenList,
    FeedTokenOut,
    MeetingDetail,
    MeetingIn,
    MeetingList,
    MeetingPatch,
    MeetingQuery,
    MinutesIn,
    SeriesDetail,
    SeriesIn,
    SeriesList,
    SeriesPatch,
)
from coordinator.policy import current_user
from coordinator.review.services import district_names
from coordinator.worktime import SHANGHAI

bp = Blueprint("meetings", __name__)

ERRORS = (401, 403, 404, 409)
FEED_PAST_DAYS = 90

P = ParamSpec("P")


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def _plan_payload(plan: planning.PlanResult | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    message = None
    if plan.blocked_year is not None:
        message = (
            f"{plan.blocked_year} 年节假日安排尚未发布：该年会议暂不排期（操作员确认后执行 "
            f"`flask --app wsgi calendar confirm {plan.blocked_year}`）"
        )
    return {
        "created": len(plan.created),
        "changed": len(plan.changed),
        "blocked_year": plan.blocked_year,
        "message": message,
    }


def _series_detail(series: MeetingSeries, plan: planning.PlanResult | None) -> dict[str, Any]:
    session = db_session()
    presenter = Presenter(session, current_user())
    upcoming = services.list_meetings(session, start=_now(), series_id=series.id, limit=24)
    return {
        **presenter.series(series),
        "plan": _plan_payload(plan),
        "upcoming": [presenter.meeting(m) for m in upcoming],
    }


@bp.get("/meetings/series")
@endpoint(summary="Meeting series (alliance-wide, per border pair)", tags=["meetings"], response=SeriesList)
def list_series() -> dict[str, Any]:
    presenter = Presenter(db_session(), current_user())
    return {"series": [presenter.series(s) for s in services.list_series(db_session())]}


@bp.post("/meetings/series")
@endpoint(
    summary="Create a series; a monthly one plans its next meetings on working days with rotating hosts",
    description="Alliance-wide series: the alliance desk (a dispatcher without district) or an admin; a "
    "border pair's: also the dispatchers of its two districts. Planning stops before a year whose holiday "
    "schedule is not published (`plan.blocked_year`).",
    tags=["meetings"],
    body=SeriesIn,
    response=SeriesDetail,
    status=201,
    errors=ERRORS,
)
def create_series(body: SeriesIn) -> tuple[dict[str, Any], int]:
    pair = tuple(sorted(body.border_pair)) if body.border_pair else None
    data = services.SeriesInput(
        code=body.code,
        name_zh=body.name,
        scope=body.scope,
        frequency=body.frequency,
        start_time=body.start_time,
        border_pair=pair,  # type: ignore[arg-type]
        first_month=body.first_month,
        day_of_month=body.day_of_month,
        duration_min=body.duration_min,
        location=body.location,
        host_rotation=body.host_rotation,
        agenda_lead_h=body.agenda_lead_h,
        reminder_lead_h=body.reminder_lead_h,
    )
    series, plan = services.create_series(db_session(), data, current_user(), current_calendar(), now=_now())
    return _series_detail(series, plan), 201


@bp.get("/meetings/series/<id:series_id>")
@endpoint(
    summary="One series with its upcoming meetings", tags=["meetings"], response=SeriesDetail, errors=ERRORS
)
def get_series(series_id: int) -> dict[str, Any]:
    return _series_detail(services.get_series(db_session(), series_id), None)


@bp.patch("/meetings/series/<id:series_id>")
@endpoint(
    summary="Change a series' rule (future meetings follow; deactivating cancels them)",
    tags=["meetings"],
    body=SeriesPatch,
    response=SeriesDetail,
    errors=ERRORS,
)
def update_series(series_id: int, body: SeriesPatch) -> dict[str, Any]:
    session = db_session()
    series = services.get_series(session, series_id)
    changes = body.changes()
    if "name" in changes:
        changes["name_zh"] = changes.pop("name")
    plan = services.update_series(session, series, changes, current_user(), current_calendar(), now=_now())
    return _series_detail(series, plan)


@bp.post("/meetings/series/<id:series_id>/meetings")
@endpoint(
    summary="Add a meeting to a series (a border pair's meeting on demand), on a working day",
    tags=["meetings"],
    body=MeetingIn,
    response=MeetingDetail,
    status=201,
    errors=ERRORS,
)
def add_meeting(series_id: int, body: MeetingIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    series = services.get_series(session, series_id)
    meeting = services.add_meeting(
        session,
        series,
        current_user(),
        current_calendar(),
        starts_at=body.starts_at,
        host=body.host,
        location=body.location,
        now=_now(),
    )
    return _meeting_detail(meeting.id), 201


@bp.get("/meetings")
@endpoint(summary="Meetings by start time", tags=["meetings"], query=MeetingQuery, response=MeetingList)
def list_meetings(query: MeetingQuery) -> dict[str, Any]:
    session = db_session()
    start = query.start or (_now() - timedelta(days=31))
    meetings = services.list_meetings(
        session,
        start=start,
        end=query.end,
        series_id=query.series,
        district=query.district,
        status=query.status,
    )
    presenter = Presenter(session, current_user())
    return {"meetings": [presenter.meeting(m) for m in meetings]}


@bp.get("/meetings/<id:meeting_id>")
@endpoint(
    summary="One meeting: agenda, minutes, decisions, attendance, action items",
    tags=["meetings"],
    response=MeetingDetail,
    errors=ERRORS,
)
def get_meeting(meeting_id: int) -> dict[str, Any]:
    return _meeting_detail(meeting_id)


def _meeting_detail(meeting_id: int) -> dict[str, Any]:
    """One meeting as the caller sees it."""
    session = db_session()
    return Presenter(session, current_user()).detail(services.get_meeting(session, meeting_id), _now())


def _change(
    meeting_id: int,
    change: Callable[Concatenate[Session, Meeting, User, P], object],
    *args: P.args,
    **kwargs: P.kwargs,
) -> dict[str, Any]:
    """Apply one service change to the meeting as the caller; answer its detail, read afresh."""
    session = db_session()
    change(session, services.get_meeting(session, meeting_id), current_user(), *args, **kwargs)
    session.expire_all()
    return _meeting_detail(meeting_id)


@bp.patch("/meetings/<id:meeting_id>")
@endpoint(
    summary="Move, re-host or relocate a meeting (host's dispatcher or the series' managers)",
    tags=["meetings"],
    body=MeetingPatch,
    response=MeetingDetail,
    errors=ERRORS,
)
def update_meeting(meeting_id: int, body: MeetingPatch) -> dict[str, Any]:
    return _change(
        meeting_id,
        services.update_meeting,
        current_calendar(),
        starts_at=body.starts_at,
        host=body.host,
        location=body.location,
        now=_now(),
    )


@bp.post("/meetings/<id:meeting_id>/cancel")
@endpoint(
    summary="Cancel a meeting (stays in the calendar with STATUS:CANCELLED)",
    tags=["meetings"],
    body=CancelIn,
    response=MeetingDetail,
    errors=ERRORS,
)
def cancel_meeting(meeting_id: int, body: CancelIn) -> dict[str, Any]:
    return _change(meeting_id, services.cancel_meeting, reason=body.reason, now=_now())


@bp.put("/meetings/<id:meeting_id>/agenda")
@endpoint(
    summary="The host sets the agenda (order, titles, own items; items left out are removed)",
    tags=["meetings"],
    body=AgendaIn,
    response=MeetingDetail,
    errors=ERRORS,
)
def replace_agenda(meeting_id: int, body: AgendaIn) -> dict[str, Any]:
    edits = [services.AgendaEdit(title=i.title, detail=i.detail, id=i.id) for i in body.items]
    return _change(meeting_id, services.replace_agenda, edits, now=_now())


@bp.post("/meetings/<id:meeting_id>/agenda/build")
@endpoint(
    summary="Build the automatic agenda items now from the caseload (the host's items stay)",
    tags=["meetings"],
    response=MeetingDetail,
    errors=ERRORS,
)
def build_agenda(meeting_id: int) -> dict[str, Any]:
    return _change(meeting_id, services.rebuild_agenda, now=_now())


@bp.put("/meetings/<id:meeting_id>/minutes")
@endpoint(
    summary="Minutes and decisions (the host's dispatcher); a meeting that has begun becomes `held`",
    tags=["meetings"],
    body=MinutesIn,
    response=MeetingDetail,
    errors=ERRORS,
)
def record_minutes(meeting_id: int, body: MinutesIn) -> dict[str, Any]:
    return _change(
        meeting_id, services.record_minutes, minutes=body.minutes, decisions=body.decisions, now=_now()
    )


@bp.put("/meetings/<id:meeting_id>/attendance")
@endpoint(
    summary="Attendance per district (how many came; no names)",
    tags=["meetings"],
    body=AttendanceIn,
    response=MeetingDetail,
    errors=ERRORS,
)
def record_attendance(meeting_id: int, body: AttendanceIn) -> dict[str, Any]:
    rows = [services.AttendanceInput(r.district, r.status, r.attendees, r.note) for r in body.districts]
    return _change(meeting_id, services.record_attendance, rows, now=_now())


@bp.post("/meetings/<id:meeting_id>/action-items")
@endpoint(
    summary="Record an action item (owner squad or district, due date, linked cases)",
    description="While open it shows on its cases (`action_items` of GET /cases/{id}) and on every later "
    "agenda of the series.",
    tags=["meetings"],
    body=ActionItemIn,
    response=ActionItemOut,
    status=201,
    errors=ERRORS,
)
def add_action_item(meeting_id: int, body: ActionItemIn) -> tuple[dict[str, Any], int]:
    session = db_session()
    item = actions.add_action_item(
        session,
        services.get_meeting(session, meeting_id),
        current_user(),
        title=body.title,
        detail=body.detail,
        owner_squad=body.owner_squad,
        owner_district=body.owner_district,
        due_date=body.due_date,
        case_numbers=body.case_numbers,
        now=_now(),
    )
    return Presenter(session, current_user()).action_item(item, _now().date()), 201


@bp.get("/action-items")
@endpoint(
    summary="Action items of liaison meetings",
    tags=["meetings"],
    query=ActionItemQuery,
    response=ActionItemList,
)
def list_action_items(query: ActionItemQuery) -> dict[str, Any]:
    session = db_session()
    case_id = None
    if query.case is not None:
        case_id = session.scalar(select(Case.id).where(Case.number == query.case)) or -1
    items = actions.list_action_items(
        session, status=query.status, series_id=query.series, case_id=case_id, district=query.district
    )
    presenter = Presenter(session, current_user())
    return {"action_items": [presenter.action_item(i, _now().date()) for i in items]}


@bp.patch("/action-items/<id:item_id>")
@endpoint(
    summary="Mark an action item done, dropped or open again; re-date or relink it",
    tags=["meetings"],
    body=ActionItemPatch,
    response=ActionItemOut,
    errors=ERRORS,
)
def update_action_item(item_id: int, body: ActionItemPatch) -> dict[str, Any]:
    session = db_session()
    item = actions.get_action_item(session, item_id)
    actions.update_action_item(session, item, current_user(), body.changes(), now=_now())
    return Presenter(session, current_user()).action_item(item, _now().date())


@bp.get("/meetings/calendar.ics")
@endpoint(
    summary="The meetings as an iCalendar feed (one VEVENT per meeting; cancelled ones included)",
    description="Calendar apps send no bearer token: subscribe to the URL with `?token=` from POST "
    "/meetings/feed-tokens (revocable); an unknown, revoked or other feed's token answers 403 "
    "`feed_token_invalid`. With a bearer token or session it works as well. Meetings from "
    f"{FEED_PAST_DAYS} days back on.",
    tags=["meetings"],
    query=CalendarQuery,
    files={
        "text/calendar": "RFC 5545: VEVENTs with stable UID, DTSTAMP, TZID=Asia/Shanghai + VTIMEZONE, "
        "SEQUENCE, STATUS"
    },
)
def calendar_feed(query: CalendarQuery) -> Response:
    session = db_session()
    feed: FeedToken | None = g.get("feed_token")
    if feed is not None:
        feedtokens.require_feed(feed, "meetings")
    district = feed.district_code if feed is not None and feed.district_code else query.district
    meetings = services.list_meetings(
        session, start=_now() - timedelta(days=FEED_PAST_DAYS), district=district, limit=5000
    )
    series = {s.id: s for s in services.list_series(session)}
    agenda: dict[int, list[AgendaItem]] = {}
    ids = [m.id for m in meetings]
    if ids:
        for item in session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id.in_(ids)).order_by(AgendaItem.position)
        ):
            agenda.setdefault(item.meeting_id, []).append(item)
    body = feeds.calendar_ics(meetings, series, district_names(session), agenda)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _token_payload(row: FeedToken, token: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "label": row.label,
        "district": row.district_code,
        "created_at": row.created_at.astimezone(SHANGHAI),
        "revoked_at": row.revoked_at.astimezone(SHANGHAI) if row.revoked_at else None,
        "token": token,
        "url": None if token is None else url_for("meetings.calendar_feed", token=token, _external=True),
    }


@bp.post("/meetings/feed-tokens")
@endpoint(
    summary="A secret calendar feed URL (shown once; revocable)",
    tags=["meetings"],
    body=FeedTokenIn,
    response=FeedTokenOut,
    status=201,
    errors=ERRORS,
)
def create_feed_token(body: FeedTokenIn) -> tuple[dict[str, Any], int]:
    row, token = feeds.create_feed_token(
        db_session(), current_user(), label=body.label, district=body.district, now=_now()
    )
    return _token_payload(row, token), 201


@bp.get("/meetings/feed-tokens")
@endpoint(
    summary="The caller's calendar feed tokens (admins: all)", tags=["meetings"], response=FeedTokenList
)
def list_feed_tokens() -> dict[str, Any]:
    return {"tokens": [_token_payload(t) for t in feeds.list_feed_tokens(db_session(), current_user())]}


@bp.post("/meetings/feed-tokens/<id:token_id>/revoke")
@endpoint(
    summary="Revoke a calendar feed token: its URL stops working",
    tags=["meetings"],
    response=FeedTokenOut,
    errors=ERRORS,
)
def revoke_feed_token(token_id: int) -> dict[str, Any]:
    row = feeds.revoke_feed_token(db_session(), current_user(), token_id, now=_now())
    return _token_payload(row)
