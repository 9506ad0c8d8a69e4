"""The pages. Each reads through the services and renders a template; access is the policy table's
(coordinator.access_rules.RULES, like every API route), and every change is a fetch to the JSON API from
static/web/app.js, carrying the session's CSRF token — so the API's allowed actions are the only rules."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import current_app, g, make_response, redirect, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from coordinator.boundaries import services as boundaries
from coordinator.cases import queries
from coordinator.cases.models import CASE_STATUSES
from coordinator.cases.presenters import CasePresenter
from coordinator.errors import Unauthorized
from coordinator.extensions import commit_request_session, db_session, writes_on_read
from coordinator.permissions import can_add_case_evidence
from coordinator.policy import SESSION_CSRF, SESSION_USER, authenticate, current_user
from coordinator.settings import get_settings
from coordinator.web import bp, desk, i18n
from coordinator.web.basemap import Basemap
from coordinator.worktime import SHANGHAI

# The start page of each role (`/` sends a logged-in user there).
START_PAGES = {
    "squad_leader": "/inbox",
    "squad_member": "/inbox",
    "dispatcher": "/desk",
    "admin": "/desk",
    "committee": "/map",
    "reporter": "/report",
    "grid_worker": "/patrol",
    "volunteer": "/patrol",
    "property_manager": "/filings",
}
# The pages each role sees in the navigation (the policy table decides access; this only hides links
# a role could not open).
NAV = (
    ("/inbox", "Inbox", {"squad_leader", "squad_member", "dispatcher", "admin"}),
    ("/desk", "Dispatcher desk", {"dispatcher", "admin"}),
    ("/alerts", "Alert review", {"dispatcher", "admin"}),
    ("/map", "Map", {"squad_leader", "squad_member", "dispatcher", "committee", "admin"}),
    ("/dashboard", "Committee dashboard", {"dispatcher", "committee", "admin"}),
    ("/meetings", "Meetings", {"dispatcher", "committee", "admin"}),
    ("/rosters", "Night rosters", {"dispatcher", "admin"}),
    ("/rewards", "Rewards", {"admin"}),
    ("/devices", "Devices", {"dispatcher", "admin"}),
    ("/patrol", "Patrol", {"grid_worker", "volunteer"}),
    (
        "/filings",
        "Renovation filings",
        {"property_manager", "squad_leader", "squad_member", "dispatcher", "admin"},
    ),
    ("/compounds", "Compounds", {"dispatcher", "admin"}),
    ("/report", "Report a problem", None),
    ("/my-reports", "My reports", {"reporter"}),
)


def status_labels() -> dict[str, str]:
    """Case statuses in the page's language."""
    return {
        "reported": _("Reported"),
        "routed": _("Routed"),
        "claimed": _("Claimed"),
        "in_progress": _("In progress"),
        "resolved": _("Resolved"),
        "verified": _("Verified"),
        "closed": _("Closed"),
        "void": _("Void"),
    }


def action_labels() -> dict[str, str]:
    """Lifecycle actions (coordinator.cases.lifecycle) in the page's language."""
    return {
        "claim": _("Claim"),
        "start": _("Start"),
        "resolve": _("Resolve"),
        "verify": _("Verify"),
        "close": _("Close case"),
        "reopen": _("Reopen"),
        "void": _("Void"),
        "transfer": _("Request transfer"),
        "accept_transfer": _("Accept transfer"),
        "decline_transfer": _("Decline transfer"),
    }


def local_time(value: str | datetime | None) -> str:
    """A time as Shanghai wall-clock time, `YYYY-MM-DD HH:MM` (the API's ISO strings are +08:00)."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def page_context() -> dict[str, Any]:
    """What every template may use."""
    principal = g.get("principal")
    role = principal.caller.role if principal else None
    return {
        "caller": principal.caller if principal else None,
        "csrf_token": session.get(SESSION_CSRF, "") if principal else "",
        "nav": [(href, _(label)) for href, label, roles in NAV if roles is None or role in roles],
        "locales": i18n.LOCALES,
        "locale": str(get_locale() or i18n.DEFAULT_LOCALE),
        "status_labels": status_labels(),
        "local_time": local_time,
    }


def _safe_next(target: str | None) -> str:
    """A same-site path to go to after login (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def render_error_page(status: int, code: str, message: str, details: Any) -> flask.Response:
    """The HTML answer of a page's error: the login form for 401, an error page otherwise."""
    if status == 401:
        body = render_template("web/login.html", next=_safe_next(request.full_path.rstrip("?")))
    else:
        titles = {403: _("Not allowed"), 404: _("Not found")}
        body = render_template(
            "web/error.html", status=status, title=titles.get(status, _("Something went wrong")), code=code
        )
    return make_response(body, status)


# -- pages --------------------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    """The start page of the logged-in user's role; the login page otherwise."""
    try:
        principal = authenticate(db_session())
    except Unauthorized:
        principal = None
    if principal is None:
        return redirect("/login")
    return redirect(START_PAGES.get(principal.caller.role, "/map"))


@bp.get("/login")
def login() -> str:
    """The login form (it posts to /api/v1/auth/login)."""
    return render_template("web/login.html", next=_safe_next(request.args.get("next")))


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Switch the pages' language (a cookie) and go back."""
    response = redirect(_safe_next(request.args.get("next")))
    if code in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/inbox")
def inbox() -> str:
    """The squad's inbox: claimable first, overdue highlighted, one-tap actions."""
    session = db_session()
    now = datetime.now(SHANGHAI)
    user = current_user()
    cases = queries.inbox(session, user, now=now)
    presenter = CasePresenter(session, cases, now=now, viewer=user)
    return render_template(
        "web/inbox.html",
        cases=[presenter.summary(c) for c in cases],
        action_labels=action_labels(),
    )


@bp.get("/cases/<id:case_id>")
@writes_on_read  # the audit row of an unmasked contact read, as in the API
def case_page(case_id: int) -> str:
    """One case: summary, map, routing in words, reports, timeline, evidence, allowed actions."""
    session = db_session()
    user = current_user()
    case = queries.get_case(session, case_id)
    detail = CasePresenter(session, [case], now=datetime.now(SHANGHAI), viewer=user).detail(case, user)
    page = render_template(
        "web/case.html",
        case=detail,
        action_labels=action_labels(),
        upload_allowed=can_add_case_evidence(user, case) and case.status not in ("closed", "void"),
        purpose_labels=purpose_labels(),
        squads=desk.transfer_targets(session, case.district_code),
        event_labels=event_labels(),
        source_labels=source_labels(),
        district_names={a.code: a.name_zh for a in boundaries.current_areas(session, level="district")},
    )
    commit_request_session()  # the contact-read audit rows
    return page


def purpose_labels() -> dict[str, str]:
    """What a photo shows, in the page's language."""
    return {
        "before": _("Before"),
        "after": _("After"),
        "other": _("Other"),
        "report": _("From the report"),
    }


def source_labels() -> dict[str, str]:
    """Report sources in the page's language."""
    return {
        "citizen": _("Citizen"),
        "grid_worker": _("Grid worker"),
        "volunteer": _("Volunteer"),
        "camera": _("Camera"),
        "drone": _("Drone"),
        "hotline_12345": _("12345 hotline"),
        "patrol": _("Patrol"),
        "joint_patrol": _("Joint patrol"),
    }


def event_labels() -> dict[str, str]:
    """Audit event kinds in the page's language."""
    return {
        "created": _("Case opened"),
        "reported": _("Reported"),
        "routed": _("Routed"),
        "report_merged": _("Report merged"),
        "claimed": _("Claimed"),
        "started": _("Started"),
        "resolved": _("Resolved"),
        "verified": _("Verified"),
        "closed": _("Closed"),
        "reopened": _("Reopened"),
        "voided": _("Voided"),
        "transfer_requested": _("Transfer requested"),
        "transfer_accepted": _("Transfer accepted"),
        "transfer_declined": _("Transfer declined"),
        "escalated": _("Escalated"),
        "evidence_added": _("Photo added"),
    }


@bp.get("/map")
def map_page() -> str:
    """The border map: districts, border zones, cases by status (clustered), filters."""
    session = db_session()
    return render_template(
        "web/map.html",
        categories=queries.list_categories(session),
        statuses=CASE_STATUSES,
        pairs=border_pairs(session),
        map_config=map_config(),
    )


def border_pairs(session: Any) -> list[tuple[str, str, str]]:
    """The member districts' border pairs as (code_a, code_b, "奉贤区–金山区"), for a pair filter."""
    borders = boundaries.list_shared_borders(session, members_only=True)
    names = {a.code: a.name_zh for a in boundaries.current_areas(session, level="district")}
    return sorted(
        {
            (b.code_a, b.code_b, f"{names.get(b.code_a, b.code_a)}–{names.get(b.code_b, b.code_b)}")
            for b in borders
        }
    )


def map_config() -> dict[str, Any]:
    """What the map script needs: the basemap layers (or none), the status labels, the API routes."""
    basemap: Basemap | None = current_app.extensions.get("coordinator.basemap")
    return {
        "basemap": None
        if basemap is None
        else {"layers": [layer.url for layer in basemap.layers], "attribution": basemap.attribution},
        "statuses": status_labels(),
        "texts": {
            "cases": _("cases"),
            "open_case": _("Open case page"),
            "lead": _("Lead squad"),
            "deadline": _("Resolve by"),
            "border_zone": _("Border zone"),
        },
    }


@bp.get("/desk")
def desk_page() -> str:
    """The dispatcher desk: queue, pending transfers, overdue per squad, alerts awaiting review;
    reassign and void."""
    from coordinator.field.alerts import count_by_status

    session = db_session()
    now = datetime.now(SHANGHAI)
    user = current_user()
    queue = desk.dispatcher_queue(session, user, now=now)
    transfers = desk.pending_transfer_cases(session, user)
    presenter = CasePresenter(session, [*queue, *transfers], now=now, viewer=user)
    return render_template(
        "web/desk.html",
        queue=[presenter.summary(c) for c in queue],
        transfers=[presenter.summary(c) for c in transfers],
        overdue=desk.overdue_per_squad(session, user, now=now),
        squads=desk.transfer_targets(session, user.district_code),
        action_labels=action_labels(),
        alerts_pending=count_by_status(session, user)["pending_review"],
    )


CITIZEN_SUBMIT_URL = "/api/v1/citizen/reports"
ACCOUNT_SUBMIT_URL = "/api/v1/reports"  # a reporter account's report: its own, on 我的举报 with its points


def _public_page_viewer() -> None:
    """On a public page, the logged-in user if there is one (the policy hook authenticates protected
    routes only), so that the header shows the role's navigation and the logout button — the reporter's
    start page is the public report form."""
    if g.get("principal") is None and session.get(SESSION_USER) is not None:
        with suppress(Unauthorized):  # the session has ended: the page as anyone sees it
            g.principal = authenticate(db_session())


def report_submission() -> tuple[str, bool]:
    """Where the report form sends its report, and whether as the logged-in account: a reporter account
    files through the reports API (the report is the account's — 我的举报, its points, its feedback),
    anyone else through the anonymous citizen API (a secret status link)."""
    principal = g.get("principal")
    if principal is not None and principal.caller.role == "reporter":
        return ACCOUNT_SUBMIT_URL, True
    return CITIZEN_SUBMIT_URL, False


@bp.get("/report")
def report_page() -> str:
    """The report form (public): category, description, GPS or a pin, photos; a reporter account's
    report is filed as the account's, anyone else's anonymously with a status link."""
    _public_page_viewer()
    submit_url, as_account = report_submission()
    return render_template(
        "web/report.html",
        categories=queries.list_categories(db_session()),
        submit_url=submit_url,
        as_account=as_account,
    )


@bp.get("/s/<token>")
def status_page(token: str) -> flask.Response:
    """A citizen's status page, found by the secret token of its link (404 for any other token). The
    token is the page's secret: never sent on as a referrer, never cached by others."""
    from coordinator.citizen import services as citizen
    from coordinator.citizen.views import STATUS_API
    from coordinator.web import citizen_pages

    session = db_session()
    link = citizen.resolve_token(session, token)
    status = citizen.public_status(session, link, base=f"{STATUS_API}{token}")
    report, case = citizen.status_subjects(session, link)
    window = get_settings().feedback_window_days
    response = make_response(
        render_template(
            "web/status.html",
            status=status,
            step_labels=public_step_labels(),
            feedback=citizen_pages.feedback_state(
                session, report, case, now=datetime.now(SHANGHAI), window_days=window
            ),
            points=citizen_pages.status_link_points(session, report),
            feedback_urls={k: f"{STATUS_API}{token}/{k}" for k in ("rating", "dispute")},
            **feedback_texts(),
        )
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def public_step_labels() -> dict[str, str]:
    """The steps a citizen sees, in the page's language."""
    return {
        "received": _("Your report was received"),
        "routed": _("Sent to the squad in charge"),
        "claimed": _("The squad took it on"),
        "started": _("Being dealt with"),
        "resolved": _("Dealt with"),
        "verified": _("Checked"),
        "closed": _("Closed"),
        "reopened": _("Being dealt with again"),
        "disputed": _("The result was disputed; the dispatcher is checking it"),
        "voided": _("Closed without action"),
    }


def feedback_texts() -> dict[str, Any]:
    """The reporters' pages' words for ratings, disputes and points (the script's error texts by the
    API's error codes)."""
    return {
        "ledger_labels": {"earned": _("Earned"), "revoked": _("Revoked"), "redeemed": _("Redeemed")},
        "feedback_errors": {
            "feedback_window_closed": _("The time to rate or dispute this result is over."),
            "already_rated": _("You have already rated this result."),
            "already_disputed": _("You have already disputed this result."),
            "not_resolved": _("The case has not been dealt with yet; you can rate it once it is."),
            "not_found": _("This link is not valid (any more)."),
            "validation_failed": _("Please check your input."),
            "reason_required": _("Please say what is wrong with the result."),
            "stars_required": _("Please choose 1 to 5 stars."),
            "rated": _("Thank you for your rating."),
            "disputed": _("Your dispute was sent: the dispatcher will check the case again."),
        },
    }


MY_REPORTS_API = "/api/v1/my/reports/"


@bp.get("/my-reports")
def my_reports_page() -> str:
    """A reporter account's reports (我的举报): each case's status, the squad's feedback, rating and
    dispute (forms calling /api/v1/my/reports/<id>/rating|dispute while the window is open), and the
    account's reward points."""
    from coordinator.web import citizen_pages

    page = citizen_pages.my_reports(
        db_session(),
        current_user(),
        now=datetime.now(SHANGHAI),
        window_days=get_settings().feedback_window_days,
    )
    return render_template("web/my_reports.html", api=MY_REPORTS_API, **page, **feedback_texts())


PATROL_CHECKS_URL = "/api/v1/patrol-checks"


@bp.get("/patrol")
def patrol_page() -> str:
    """A patroller's page (phone first): the hotspots they may check with when each was last checked,
    the check form (a hotspot or the current GPS point; clean or a finding; a photo), their own recent
    checks with the case a finding opened or joined. The form posts to the patrol-check API."""
    from coordinator.field import patrols

    session = db_session()
    user = current_user()
    checks = patrols.list_checks(session, user, limit=20)
    cases = patrols.case_summaries(session, [c.case_id for c in checks if c.case_id is not None])
    hotspots = patrols.patroller_hotspots(session, user)
    names = {h.id: h.name for h, _last in hotspots}
    return render_template(
        "web/patrol.html",
        hotspots=hotspots,
        categories=queries.list_categories(session),
        checks=[
            {
                "check": c,
                "hotspot": names.get(c.hotspot_id, "") if c.hotspot_id else "",
                "case": cases.get(c.case_id) if c.case_id else None,
            }
            for c in checks
        ],
        submit_url=PATROL_CHECKS_URL,
        texts={
            "clean": _("No problem"),
            "found": _("Problem found"),
            "case": _("Case"),
            "here": _("Current position"),
            "no_position": _("Your location is not available; choose a hotspot"),
            "recorded": _("Check recorded"),
        },
    )
