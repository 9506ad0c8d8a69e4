"""Roster API: rosters and shifts, patrol logs, squad availability and preferences, calendar feeds.
Thin views: parse, call a service, serialize through the documented models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, g, url_for

from coordinator.api import endpoint
from coordinator.cases.models import Case
from coordinator.cases.schemas import Routing
from coordinator.cases.views import current_calendar
from coordinator.extensions import db_session
from coordinator.feedtokens import services as feedtokens
from coordinator.feedtokens.models import FeedToken
from coordinator.geolocation.views import current_locator
from coordinator.permissions import require_plan_squad_nights
from coordinator.policy import current_caller, current_user
from coordinator.rosters import availability, patrols, services
from coordinator.rosters import calendar as ics
from coordinator.rosters.models import PatrolLog, SquadUnavailability
from coordinator.rosters.presenters import roster_json, roster_summary
from coordinator.rosters.schemas import (
    ChangeOut,
    FeedQuery,
    FindingOut,
    PatrolLogIn,
    PatrolLogList,
    PatrolLogOut,
    PreferencesIn,
    PreferencesOut,
    RosterIn,
    RosterList,
    RosterOut,
    RosterQuery,
    RosterSummary,
    ShiftPatch,
    SquadFeedRevokedOut,
    SquadFeedTokenOut,
    SwapIn,
    UnavailabilityIn,
    UnavailabilityList,
    UnavailabilityOut,
)
from coordinator.settings import get_settings
from coordinator.squads import services as squads
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI

bp = Blueprint("rosters", __name__)
ICS = "text/calendar"
ICS_HELP = (
    "RFC 5545: one VEVENT per shift with a stable UID, DTSTAMP, DTSTART/DTEND with TZID=Asia/Shanghai "
    "and its VTIMEZONE, SEQUENCE, STATUS (CANCELLED for removed shifts)"
)
FEED_DAYS_BACK = 60


def _roster_out(roster_id: int) -> RosterOut:
    session = db_session()
    return RosterOut.model_validate(roster_json(session, services.get_roster(session, roster_id)))


def _now() -> datetime:
    return datetime.now(UTC)


@bp.post("/rosters")
@endpoint(
    summary="Draft a joint night roster for 1–4 weeks (CP-SAT with a greedy warm start)",
    description="422 `roster_infeasible` names the rule, squads and nights when no roster can satisfy "
    "the hard rules; 422 `calendar_unconfirmed` when a year's holidays are not published yet.",
    tags=["rosters"],
    body=RosterIn,
    response=RosterOut,
    status=201,
)
def create_roster(body: RosterIn) -> RosterOut:
    session = db_session()
    settings = get_settings()
    opts = body.options
    roster = services.generate_roster(
        session,
        start=body.start,
        options=services.RosterOptions(
            weeks=body.weeks,
            solver=opts.solver,
            time_limit_s=opts.time_limit_s,
            seed=opts.seed,
            workers=settings.roster_workers,
            confirm_unpublished_year=opts.confirm_unpublished_year,
            eligible_m=opts.eligible_m,
        ),
        calendar=current_calendar(),
        now=_now(),
        created_by_id=current_caller().id,
    )
    return RosterOut.model_validate(roster_json(session, roster))


@bp.get("/rosters")
@endpoint(summary="Rosters, newest first", tags=["rosters"], query=RosterQuery, response=RosterList)
def list_rosters(query: RosterQuery) -> RosterList:
    rows = services.list_rosters(db_session(), status=query.status)
    return RosterList(rosters=[RosterSummary.model_validate(roster_summary(r)) for r in rows])


@bp.get("/rosters/<id:roster_id>")
@endpoint(
    summary="A roster: shifts, why each hotspot got its nights, each squad's nights against its capacity",
    tags=["rosters"],
    response=RosterOut,
    errors=(404,),
)
def get_roster(roster_id: int) -> RosterOut:
    return _roster_out(roster_id)


def _change(roster_id: int, edits: dict[int, services.ShiftChange], dry_run: bool) -> ChangeOut:
    session = db_session()
    roster = services.get_roster(session, roster_id)
    for shift_id in edits:
        services.get_shift(session, roster, shift_id)
    result = services.change_roster(
        session, roster, edits, calendar=current_calendar(), now=_now(), dry_run=dry_run
    )
    return ChangeOut(
        applied=result.applied,
        before=result.before,
        after=result.after,
        delta={k: result.after[k] - result.before[k] for k in result.after},
        roster=RosterOut.model_validate(roster_json(session, roster)),
    )


@bp.patch("/rosters/<id:roster_id>/shifts/<id:shift_id>")
@endpoint(
    summary="Move a shift (night, hotspot) or change its squads; hard rules re-checked, cost shown",
    description="422 `hard_rule_violated` names the rule, squads and nights; nothing is saved. "
    "`dry_run` only checks and shows the cost.",
    tags=["rosters"],
    body=ShiftPatch,
    response=ChangeOut,
    errors=(404,),
)
def update_shift(roster_id: int, shift_id: int, body: ShiftPatch) -> ChangeOut:
    edit = services.ShiftChange(body.night, body.hotspot_id, body.squad_a, body.squad_b)
    return _change(roster_id, {shift_id: edit}, body.dry_run)


@bp.post("/rosters/<id:roster_id>/swap")
@endpoint(
    summary="Swap the nights of two shifts; hard rules re-checked, cost shown",
    tags=["rosters"],
    body=SwapIn,
    response=ChangeOut,
    errors=(404,),
)
def swap_shifts(roster_id: int, body: SwapIn) -> ChangeOut:
    session = db_session()
    roster = services.get_roster(session, roster_id)
    first, second = (services.get_shift(session, roster, i) for i in body.shift_ids)
    edits = {
        first.id: services.ShiftChange(night=second.night),
        second.id: services.ShiftChange(night=first.night),
    }
    return _change(roster_id, edits, body.dry_run)


@bp.delete("/rosters/<id:roster_id>/shifts/<id:shift_id>")
@endpoint(
    summary="Remove a shift (deleted from a draft; STATUS:CANCELLED once published)",
    tags=["rosters"],
    response=RosterOut,
    errors=(404, 409),
)
def cancel_shift(roster_id: int, shift_id: int) -> RosterOut:
    session = db_session()
    roster = services.get_roster(session, roster_id)
    services.cancel_shift(session, roster, services.get_shift(session, roster, shift_id), now=_now())
    return RosterOut.model_validate(roster_json(session, roster))


@bp.post("/rosters/<id:roster_id>/publish")
@endpoint(
    summary="Publish a draft: re-check the hard rules, lock it, notify the squads (webhook outbox)",
    tags=["rosters"],
    response=RosterOut,
    errors=(404, 409),
)
def publish_roster(roster_id: int) -> RosterOut:
    session = db_session()
    roster = services.get_roster(session, roster_id)
    services.publish(
        session, roster, calendar=current_calendar(), now=_now(), published_by_id=current_caller().id
    )
    return RosterOut.model_validate(roster_json(session, roster))


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype=ICS)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/rosters/<id:roster_id>.ics")
@endpoint(
    summary="A roster as iCalendar (RFC 5545): one VEVENT per shift",
    tags=["rosters"],
    files={ICS: ICS_HELP},
    errors=(404,),
)
def roster_calendar(roster_id: int) -> Response:
    session = db_session()
    roster = services.get_roster(session, roster_id)
    shifts = list(roster.shifts)
    body = ics.calendar_of(
        f"联合夜间巡查排班 #{roster.id}", shifts, session, squads=services.squads_of(session, shifts)
    )
    return _ics(body, f"roster-{roster.id}.ics")


# ------------------------------------------------------------------------------------- squad feeds


def _squad(code: str) -> Squad:
    return squads.get_squad(db_session(), code)


def _plannable_squad(code: str) -> Squad:
    """The squad whose nights or feed the caller changes (403 unless they may)."""
    squad = _squad(code)
    require_plan_squad_nights(current_user(), squad)
    return squad


@bp.get("/squads/<code>/calendar.ics")
@endpoint(
    summary="A squad's joint night patrols as an iCalendar feed (secret token in the URL)",
    description="Calendar apps send no bearer token: subscribe to the URL with `?token=` from POST "
    "…/calendar-token (a new one or DELETE revokes it); an unknown, revoked or other feed's token "
    "answers 403 `feed_token_invalid`. With a bearer token or session (staff) it works as well. "
    "Published shifts of the last 60 days and ahead, cancelled ones as STATUS:CANCELLED.",
    tags=["rosters"],
    query=FeedQuery,
    files={ICS: ICS_HELP},
    errors=(403, 404),
)
def squad_calendar(code: str, query: FeedQuery) -> Response:
    session = db_session()
    squad = _squad(code)
    feed: FeedToken | None = g.get("feed_token")
    if feed is not None:
        feedtokens.require_feed(feed, "squad", squad_id=squad.id)
    since = datetime.now(SHANGHAI).date() - timedelta(days=FEED_DAYS_BACK)
    shifts = services.shifts_of_squad(session, squad, since=since)
    body = ics.calendar_of(
        f"{squad.name_zh} 联合夜间巡查", shifts, session, squads=services.squads_of(session, shifts)
    )
    return _ics(body, f"{squad.code}.ics")


@bp.post("/squads/<code>/calendar-token")
@endpoint(
    summary="Issue the squad's calendar feed URL (revokes the previous one)",
    tags=["rosters"],
    response=SquadFeedTokenOut,
    status=201,
    errors=(404,),
)
def issue_feed_token(code: str) -> SquadFeedTokenOut:
    squad = _plannable_squad(code)
    token = ics.issue_feed_token(db_session(), squad, now=_now(), created_by_id=current_caller().id)
    url = url_for("rosters.squad_calendar", code=squad.code, token=token, _external=True)
    return SquadFeedTokenOut(squad=squad.code, token=token, url=url)


@bp.delete("/squads/<code>/calendar-token")
@endpoint(
    summary="Revoke the squad's calendar feed URL",
    tags=["rosters"],
    response=SquadFeedRevokedOut,
    errors=(404,),
)
def revoke_feed_token(code: str) -> SquadFeedRevokedOut:
    squad = _plannable_squad(code)
    return SquadFeedRevokedOut(
        squad=squad.code, revoked=ics.revoke_feed_tokens(db_session(), squad, now=_now())
    )


# ------------------------------------------------------------------------------ availability, prefs


def _unavailability_out(row: SquadUnavailability, squad: Squad) -> UnavailabilityOut:
    return UnavailabilityOut(
        id=row.id, squad=squad.code, start_date=row.start_date, end_date=row.end_date, reason=row.reason
    )


@bp.get("/squads/<code>/unavailability")
@endpoint(
    summary="Nights a squad cannot patrol", tags=["rosters"], response=UnavailabilityList, errors=(404,)
)
def list_unavailability(code: str) -> UnavailabilityList:
    return _unavailability_list(_squad(code))


def _unavailability_list(squad: Squad) -> UnavailabilityList:
    rows = availability.unavailability_of(db_session(), squad)
    return UnavailabilityList(unavailability=[_unavailability_out(r, squad) for r in rows])


@bp.post("/squads/<code>/unavailability")
@endpoint(
    summary="Register nights a squad cannot patrol (leave, training …)",
    tags=["rosters"],
    body=UnavailabilityIn,
    response=UnavailabilityOut,
    status=201,
    errors=(404,),
)
def add_unavailability(code: str, body: UnavailabilityIn) -> UnavailabilityOut:
    squad = _plannable_squad(code)
    row = availability.add_unavailability(
        db_session(),
        squad,
        start_date=body.start_date,
        end_date=body.end_date,
        reason=body.reason,
        created_by_id=current_caller().id,
        now=_now(),
    )
    return _unavailability_out(row, squad)


@bp.delete("/squads/<code>/unavailability/<id:item_id>")
@endpoint(
    summary="Remove a squad's unavailability", tags=["rosters"], response=UnavailabilityList, errors=(404,)
)
def remove_unavailability(code: str, item_id: int) -> UnavailabilityList:
    squad = _plannable_squad(code)
    availability.remove_unavailability(db_session(), squad, item_id)
    return _unavailability_list(squad)


@bp.get("/squads/<code>/night-preferences")
@endpoint(
    summary="A squad's weekday preferences for nights",
    tags=["rosters"],
    response=PreferencesOut,
    errors=(404,),
)
def get_preferences(code: str) -> PreferencesOut:
    return _preferences(_squad(code))


def _preferences(squad: Squad) -> PreferencesOut:
    weekdays = availability.preferences_of(db_session(), squad)
    return PreferencesOut(squad=squad.code, weekdays={str(day): value for day, value in weekdays.items()})


@bp.put("/squads/<code>/night-preferences")
@endpoint(
    summary="Set a squad's weekday preferences for nights (−2 avoid … +2 prefer)",
    tags=["rosters"],
    body=PreferencesIn,
    response=PreferencesOut,
    errors=(404,),
)
def set_preferences(code: str, body: PreferencesIn) -> PreferencesOut:
    squad = _plannable_squad(code)
    availability.set_preferences(
        db_session(), squad, {int(day): value for day, value in body.weekdays.items()}
    )
    return _preferences(squad)


# ------------------------------------------------------------------------------------ patrol logs


def patrol_log_out(log: PatrolLog) -> PatrolLogOut:
    """A patrol log with the cases it found."""
    session = db_session()
    findings = []
    for f in log.findings:
        case = session.get_one(Case, f.case_id)
        findings.append(
            FindingOut(
                case_id=case.id,
                case_number=case.number,
                kind=f.kind,
                routing=Routing.model_validate(case.routing),
            )
        )
    return PatrolLogOut(
        id=log.id,
        shift_id=log.shift_id,
        started_at=log.started_at,
        ended_at=log.ended_at,
        members=list(log.members),
        outcome=log.outcome,
        note=log.note,
        findings=findings,
        created_at=log.created_at,
    )


@bp.get("/roster-shifts/<id:shift_id>/patrol-logs")
@endpoint(summary="A shift's patrol logs", tags=["rosters"], response=PatrolLogList, errors=(404,))
def list_patrol_logs(shift_id: int) -> PatrolLogList:
    session = db_session()
    shift = patrols.get_shift(session, shift_id)
    return PatrolLogList(patrol_logs=[patrol_log_out(log) for log in patrols.logs_of(session, shift)])


@bp.post("/roster-shifts/<id:shift_id>/patrol-logs")
@endpoint(
    summary="Record a patrol: who went, when, what was found (new reports go through the normal intake)",
    tags=["rosters"],
    body=PatrolLogIn,
    response=PatrolLogOut,
    status=201,
    errors=(404, 409),
)
def record_patrol(shift_id: int, body: PatrolLogIn) -> PatrolLogOut:
    session = db_session()
    shift = patrols.get_shift(session, shift_id)
    log = patrols.record_patrol(
        session,
        shift,
        patrols.PatrolInput(
            started_at=body.started_at,
            ended_at=body.ended_at,
            members=body.members,
            outcome=body.outcome,
            note=body.note,
            linked_cases=body.linked_cases,
            reports=[
                patrols.FoundReport(
                    r.category, r.lon, r.lat, r.crs, r.description, [str(u) for u in r.photos]
                )
                for r in body.reports
            ],
        ),
        user=current_user(),
        locator=current_locator(),
        calendar=current_calendar(),
        now=_now(),
    )
    return patrol_log_out(log)
