"""The route × role table: every route of the app, called by every role, anonymously and with a bad
token, answers as this table says. A new route without a line here fails the build (and one without a
policy rule is denied), so nobody ships an endpoint whose access nobody decided."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator import api
from coordinator.access_rules import API_KEY_RULES, RULES
from coordinator.auth.models import ROLES
from tests.factories import bearer, make_squad, make_token, make_user

PUBLIC = "public"
OGC_KINDS = ("collection", "items", "item")  # the endpoints of each OGC API – Features collection
# Public for the policy hook, but the view authenticates the `api_key` form field itself (Open311):
# these roles get through with their token as api_key, everyone else gets 403 (the spec's status).
REPORTERS = {"reporter", "squad_leader", "squad_member", "dispatcher", "admin"}
STAFF = {"squad_leader", "squad_member", "dispatcher", "committee", "admin"}
RENOVATION = {"property_manager", "squad_leader", "squad_member", "dispatcher", "admin"}
ALL = set(ROLES)
# The calendar feeds: staff routes that, without other credentials, also take a secret feed token in
# `?token=` (coordinator.feedtokens; calendar apps send no bearer token).
CALENDAR_FEEDS = {"meetings.calendar_feed", "rosters.squad_calendar"}
# Public for the hook, but called by devices, not people: the view checks the device's HMAC signature
# (tests/field/test_alerts.py), so without one every caller, with or without a bearer token, gets 401.
DEVICE = "device_signed"
PATROLLERS = {"grid_worker", "volunteer"}

# endpoint → "public" or the roles that get through. Written out by hand on purpose: it is the
# reviewed statement of who may do what, checked against what the app actually does.
EXPECTED: dict[str, str | set[str] | tuple[str, set[str]]] = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "health.livez": PUBLIC,
    "health.readyz": PUBLIC,
    "health.metrics_view": PUBLIC,
    "openapi.openapi_json": PUBLIC,
    "openapi.docs": PUBLIC,
    "boundaries.list_boundaries": PUBLIC,
    "boundaries.get_boundary": PUBLIC,
    "boundaries.list_borders": PUBLIC,
    "boundaries.list_border_zones": PUBLIC,
    "geolocate.geolocate_point": PUBLIC,
    "geolocate.geolocate_batch": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ALL,
    "auth.me": ALL,
    "auth.list_users": {"dispatcher", "admin"},
    "auth.list_contact_reads": {"admin"},
    "squads.list_squads": STAFF,
    "squads.get_squad": STAFF,
    "squads.update_squad": {"dispatcher", "admin"},
    "squads.list_dispatch_units": STAFF,
    "cases.list_categories": PUBLIC,
    "cases.submit_report": REPORTERS,  # patrollers file findings through their checks
    "cases.list_cases": STAFF,
    "cases.get_case": STAFF,
    "casemap.clusters": STAFF,
    "cases.inbox": {"squad_leader", "squad_member", "dispatcher", "admin"},
    "cases.claim_case": {"squad_leader", "squad_member"},
    "cases.start_case": {"squad_leader", "squad_member"},
    "cases.resolve_case": {"squad_leader", "squad_member", "dispatcher", "admin"},
    "cases.verify_case": {"dispatcher", "admin"},
    "cases.close_case": {"dispatcher", "admin"},
    "cases.reopen_case": {"dispatcher", "admin"},
    "cases.void_case": {"dispatcher", "admin"},
    "cases.request_transfer": {"squad_leader", "dispatcher", "admin"},
    "cases.accept_transfer": {"squad_leader", "dispatcher", "admin"},
    "cases.decline_transfer": {"squad_leader", "dispatcher", "admin"},
    # any signed-in role reaches a file; whether it sees it is its subject's rule (404 here: no such file)
    "evidence.get_evidence": ALL,
    "evidence.get_thumbnail": ALL,
    "evidence.list_case_evidence": STAFF,
    "evidence.upload_case_evidence": {"squad_leader", "squad_member", "dispatcher", "admin"},
    "citizen.submit_report": PUBLIC,
    "citizen.get_status": PUBLIC,
    "citizen.get_status_photo": PUBLIC,
    "citizen.get_status_thumbnail": PUBLIC,
    "hotspots.list_hotspots": STAFF,
    "hotspots.get_hotspot": STAFF,
    "hotspots.create_hotspot": {"dispatcher", "admin"},
    "hotspots.update_hotspot": {"dispatcher", "admin"},
    "hotspots.retire_hotspot": {"dispatcher", "admin"},
    "hotspots.list_proposals": {"dispatcher", "admin"},
    "rosters.create_roster": {"dispatcher", "admin"},
    "rosters.list_rosters": STAFF,
    "rosters.get_roster": STAFF,
    "rosters.update_shift": {"dispatcher", "admin"},
    "rosters.swap_shifts": {"dispatcher", "admin"},
    "rosters.cancel_shift": {"dispatcher", "admin"},
    "rosters.publish_roster": {"dispatcher", "admin"},
    "rosters.roster_calendar": STAFF,
    # calendar apps may instead bring a feed token in ?token= (tests/feedtokens)
    "rosters.squad_calendar": STAFF,
    "rosters.issue_feed_token": {"squad_leader", "dispatcher", "admin"},
    "rosters.revoke_feed_token": {"squad_leader", "dispatcher", "admin"},
    "rosters.list_unavailability": STAFF,
    "rosters.add_unavailability": {"squad_leader", "dispatcher", "admin"},
    "rosters.remove_unavailability": {"squad_leader", "dispatcher", "admin"},
    "rosters.get_preferences": STAFF,
    "rosters.set_preferences": {"squad_leader", "dispatcher", "admin"},
    "rosters.list_patrol_logs": STAFF,
    "rosters.record_patrol": {"squad_leader", "squad_member", "dispatcher", "admin"},
    "review.review_summary": STAFF,
    "review.export_summary": STAFF,
    "review.export_cases": STAFF,
    "review.repeat_locations": STAFF,
    "review.renovation_review": STAFF,
    "review.hotspots": STAFF,
    "review.patrol_coverage": STAFF,
    "review.report": STAFF,
    "meetings.list_series": STAFF,
    "meetings.get_series": STAFF,
    "meetings.create_series": {"dispatcher", "admin"},
    "meetings.update_series": {"dispatcher", "admin"},
    "meetings.add_meeting": {"dispatcher", "admin"},
    "meetings.list_meetings": STAFF,
    "meetings.get_meeting": STAFF,
    "meetings.update_meeting": {"dispatcher", "admin"},
    "meetings.cancel_meeting": {"dispatcher", "admin"},
    "meetings.replace_agenda": {"dispatcher", "admin"},
    "meetings.build_agenda": {"dispatcher", "admin"},
    "meetings.record_minutes": {"dispatcher", "admin"},
    "meetings.record_attendance": {"dispatcher", "admin"},
    "meetings.add_action_item": {"dispatcher", "admin"},
    "meetings.list_action_items": STAFF,
    "meetings.update_action_item": {"dispatcher", "admin"},
    # calendar apps may instead bring a feed token in ?token= (tests/feedtokens)
    "meetings.calendar_feed": STAFF,
    "meetings.create_feed_token": {"committee", "dispatcher", "admin"},
    "meetings.list_feed_tokens": {"committee", "dispatcher", "admin"},
    "meetings.revoke_feed_token": {"committee", "dispatcher", "admin"},
    "community.my_reports": {"reporter"},
    "community.rate_my_report": {"reporter"},
    "community.dispute_my_report": {"reporter"},
    "community.my_rewards": {"reporter"},
    "community.list_reward_rules": {"admin"},
    "community.put_reward_rule": {"admin"},
    "community.redeem_points": {"admin"},
    "community.reward_totals": {"admin"},
    "community.flagged_rewards": {"admin"},
    "community.list_compounds": RENOVATION,
    "community.create_compound": {"dispatcher", "admin"},
    "community.update_compound": {"dispatcher", "admin"},
    "community.retire_compound": {"dispatcher", "admin"},
    "community.create_filing": {"property_manager"},
    "community.list_filings": RENOVATION,
    "community.get_filing": RENOVATION,
    "community.accept_filing": {"dispatcher", "admin"},
    "community.return_filing": {"dispatcher", "admin"},
    "community.resubmit_filing": {"property_manager"},
    "community.start_filing": {"property_manager"},
    "community.close_filing": {"property_manager", "dispatcher", "admin"},
    "community.record_inspection": RENOVATION,
    "community.renovation_stats": STAFF,
    "community.upload_filing_documents": RENOVATION,
    "community.list_filing_documents": RENOVATION,
    "community.upload_inspection_photos": RENOVATION,
    "community.rate_by_status_link": PUBLIC,
    "community.dispute_by_status_link": PUBLIC,
    "community.rewards_by_status_link": PUBLIC,
    "open311.discovery": PUBLIC,
    "open311.discovery_xml": PUBLIC,
    "open311.list_services": PUBLIC,
    "open311.list_services_xml": PUBLIC,
    "open311.get_service": PUBLIC,
    "open311.get_service_xml": PUBLIC,
    "open311.list_requests": PUBLIC,
    "open311.list_requests_xml": PUBLIC,
    "open311.get_request": PUBLIC,
    "open311.get_request_xml": PUBLIC,
    "open311.post_request": ("api_key", REPORTERS),
    "open311.post_request_xml": ("api_key", REPORTERS),
    "ogc.landing_page": PUBLIC,
    "ogc.conformance": PUBLIC,
    "ogc.collections": PUBLIC,
    **{f"ogc.{c}_{kind}": PUBLIC for c in ("districts", "towns", "border_zones") for kind in OGC_KINDS},
    **{f"ogc.{c}_{kind}": STAFF for c in ("squads", "hotspots", "cases") for kind in OGC_KINDS},
    "field.record_check": PATROLLERS,
    "field.list_checks": STAFF | PATROLLERS,
    "field.my_reported_cases": PATROLLERS,
    "field.list_patrollers": {"dispatcher", "committee", "admin"},
    "field.hotspot_checks": STAFF,
    "field.register_device": {"dispatcher", "admin"},
    "field.list_devices": {"dispatcher", "admin"},
    "field.get_device": {"dispatcher", "admin"},
    "field.update_device": {"dispatcher", "admin"},
    "field.rotate_device_secret": {"dispatcher", "admin"},
    "field.list_flights": {"dispatcher", "admin"},
    "field.upload_flight": DEVICE,
    "field.receive_alerts": DEVICE,
    "field.list_alerts": {"dispatcher", "admin"},
    "field.get_alert": {"dispatcher", "admin"},
    "field.confirm_alert": {"dispatcher", "admin"},
    "field.dismiss_alert": {"dispatcher", "admin"},
    "field.list_alert_classes": STAFF,
    "field.update_alert_class": {"dispatcher", "admin"},
    "field.list_realtime_warnings": STAFF,
    "web.static": PUBLIC,
    "web.index": PUBLIC,
    "web.login": PUBLIC,
    "web.set_language": PUBLIC,
    "web.inbox": {"squad_leader", "squad_member", "dispatcher", "admin"},
    "web.case_page": STAFF,
    "web.map_page": STAFF,
    "web.desk_page": {"dispatcher", "admin"},
    "web.dashboard_page": {"dispatcher", "committee", "admin"},
    "web.meetings_page": {"dispatcher", "committee", "admin", "squad_leader", "squad_member"},
    "web.meeting_page": {"dispatcher", "committee", "admin", "squad_leader", "squad_member"},
    "web.rosters_page": {"dispatcher", "admin"},
    "web.roster_page": {"dispatcher", "admin"},
    "web.report_page": PUBLIC,
    "web.status_page": PUBLIC,
    "web.my_reports_page": {"reporter"},
    "web.patrol_page": {"grid_worker", "volunteer"},
    "web.rewards_page": {"admin"},
    "web.filings_page": RENOVATION,
    "web.compounds_page": {"dispatcher", "admin"},
    "web.new_filing_page": {"property_manager"},
    "web.filing_page": RENOVATION,
    "web.alerts_page": {"dispatcher", "admin"},
    "web.devices_page": {"dispatcher", "admin"},
}

SQUAD_CODE = "SQ-POLICY"
# A case id no test creates: role-permitted callers get 404, never the per-case 403 of a real case.
PATH_VALUES = {
    "code": SQUAD_CODE,
    "filename": "api-docs.html",
    "case_id": 2_000_000_000,
    "transfer_id": 1,
    "request_id": 1,
    "roster_id": 2_000_000_000,
    "shift_id": 2_000_000_000,
    "hotspot_id": 2_000_000_000,
    "item_id": 2_000_000_000,
    "series_id": 2_000_000_000,
    "meeting_id": 2_000_000_000,
    "token_id": 2_000_000_000,
    "report_id": 2_000_000_000,
    "filing_id": 2_000_000_000,
    "compound_id": 2_000_000_000,
    "inspection_id": 2_000_000_000,
    "token": "no-such-token",
    "name": "rule-x",
    "evidence_id": 2_000_000_000,
    "feature_id": "1",
    "alert_id": 2_000_000_000,
}
PATH_VALUES_BY_ENDPOINT = {"boundaries.get_boundary": {"code": "310120"}}


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, concrete URL) for every rule of the app."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {**PATH_VALUES, **PATH_VALUES_BY_ENDPOINT.get(rule.endpoint, {})}
        args = {name: values[name] for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def call(
    client: FlaskClient, method: str, url: str, headers: dict[str, str], api_key: str | None = None
) -> int:
    kwargs: dict[str, Any] = {"headers": headers}
    if api_key is not None:
        kwargs["data"] = {"api_key": api_key}  # form-encoded, as Open311 clients send it
    elif method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = {}
    response = client.open(url, method=method, **kwargs)
    response.close()  # static files are streamed from an open file
    return response.status_code


def test_every_route_has_an_expectation_and_a_policy_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "add the new route to EXPECTED (and to access_rules.RULES)"
    assert endpoints - set(RULES) == set(), "add the new route to coordinator.access_rules.RULES"
    # The table and the policy agree, also for routes another branch adds.
    for name, expected in EXPECTED.items():
        rule = RULES[name]
        if isinstance(expected, tuple):  # api_key routes: public for the hook, the roles in API_KEY_RULES
            assert rule.public, name
            assert set(API_KEY_RULES[name].roles) == expected[1], name
            continue
        assert name not in API_KEY_RULES, name
        assert rule.public == (expected in (PUBLIC, DEVICE)), name
        assert rule.feed == (name in CALENDAR_FEEDS), name
        if expected not in (PUBLIC, DEVICE):
            assert set(rule.roles) == expected, name


def test_route_by_role_table(app: Flask, client: FlaskClient, session: Session) -> None:
    squad = make_squad(session, code=SQUAD_CODE, district="310120")
    tokens: dict[str, str] = {}
    for role in ROLES:
        user = make_user(
            session,
            role,
            squad=squad if role in ("squad_leader", "squad_member") else None,
            district="310120" if role == "dispatcher" else None,
        )
        tokens[role] = make_token(session, user)
    session.commit()

    failures = []
    checked = 0
    for endpoint, method, url in routes(app):
        expected = EXPECTED[endpoint]
        callers: dict[str, dict[str, str]] = {
            "anonymous": {},
            "bad token": bearer("jj_not-a-real-token"),
            **{role: bearer(token) for role, token in tokens.items()},
        }
        for caller, headers in callers.items():
            if isinstance(expected, tuple):
                # The credential travels as the api_key form field, not as a header.
                key = tokens.get(caller, "jj_not-a-real-token" if caller == "bad token" else "")
                status = call(client, method, url, {}, api_key=key)
                checked += 1
                allowed = caller in expected[1]
                if (status not in (401, 403)) != allowed or (not allowed and status != 403):
                    failures.append(f"{method} {url} as {caller}: {status}, expected api_key rule")
                continue
            status = call(client, method, url, headers)
            checked += 1
            if expected == PUBLIC:
                ok = status not in (401, 403)
                want = "not 401/403"
            elif expected == DEVICE:
                ok, want = status == 401, "401 (no device signature)"
            elif caller in ("anonymous", "bad token"):
                ok, want = status == 401, "401"
            elif caller in expected:
                ok, want = status not in (401, 403), "not 401/403"
            else:
                ok, want = status == 403, "403"
            if not ok:
                failures.append(f"{method} {url} as {caller}: {status}, expected {want}")
    assert not failures, "\n".join(failures)
    assert checked >= (len(EXPECTED) - 4) * 8  # every route × 8 callers (4 announced routes may be absent)


def test_a_route_without_a_rule_is_denied(app: Flask, client: FlaskClient, session: Session) -> None:
    forgotten = api.endpoint(summary="A route nobody wrote a rule for", tags=["test"])(
        lambda: {"secret": True}
    )
    app.add_url_rule("/api/v1/forgotten", "forgotten", forgotten)
    token = make_token(session, make_user(session, "admin"))
    session.commit()
    response = client.get("/api/v1/forgotten", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/forgotten").status_code == 403


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer jj_nope"}, {"Authorization": "Basic eDp5"}]
)
def test_401_has_the_error_shape_and_a_challenge(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/squads", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_403_names_the_role_and_has_the_error_shape(client: FlaskClient, session: Session) -> None:
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    response = client.get("/api/v1/squads", headers=bearer(token))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "forbidden"
    assert error["details"]["role"] == "reporter"
