"""The route × role table: which roles may call each endpoint (`RULES`), and which Open311 endpoints
authenticate by `api_key` (`API_KEY_RULES`). Data only — coordinator.policy applies it to every request
(fail closed: an endpoint without a rule answers 403), tests/test_policy.py checks every route × role
against its own expected table. Decisions that depend on the data (which case, which filing) are the
predicates of coordinator.permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from coordinator.auth.models import ROLES

Role = Literal[
    "squad_leader",
    "squad_member",
    "dispatcher",
    "committee",
    "admin",
    "reporter",
    "grid_worker",
    "volunteer",
    "property_manager",
]


@dataclass(frozen=True)
class Rule:
    """Access to one endpoint: public, or any of `roles` (authenticated). With `feed`, a request that
    brings no credentials may instead carry a calendar feed token in `?token=` (calendar apps send no
    bearer token; coordinator.feedtokens): an unknown or revoked one answers 403 `feed_token_invalid`,
    a live one lets the view answer for that token's feed (it refuses another feed's token alike)."""

    public: bool = False
    roles: frozenset[str] = frozenset()
    feed: bool = False

    def allows(self, role: str) -> bool:
        """Whether an authenticated user of `role` passes."""
        return self.public or role in self.roles


PUBLIC = Rule(public=True)


def allow(*roles: Role) -> Rule:
    """A rule for authenticated users of these roles."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")
    return Rule(roles=frozenset(roles))


ANY_ROLE = allow(*ROLES)  # type: ignore[arg-type]


def ogc_rules(collection: str, rule: Rule) -> dict[str, Rule]:
    """The rule of an OGC API – Features collection (coordinator/ogc): its description, items and item."""
    key = collection.replace("-", "_")
    return {f"ogc.{key}_{kind}": rule for kind in ("collection", "items", "item")}


STAFF = allow("squad_leader", "squad_member", "dispatcher", "committee", "admin")  # not reporters
DISPATCH = allow("dispatcher", "admin")
READ_MEETINGS = allow("dispatcher", "committee", "admin", "squad_leader", "squad_member")
CALENDAR_FEED = Rule(roles=READ_MEETINGS.roles, feed=True)
REPORTERS = allow("reporter", "squad_leader", "squad_member", "dispatcher", "admin")  # not the committee
PATROLLERS = allow("grid_worker", "volunteer")
# Devices (cameras, drones) are not users: their routes are public HERE because the view checks the
# device's HMAC signature itself (coordinator/field/devices.py), answering 401 without a valid one.
DEVICE_SIGNED = PUBLIC
# Compounds and renovation filings: property managers (their compounds), the town's squad, the
# district's dispatchers and admins — which filing a caller may read or act on is decided per filing by
# the predicates in coordinator.permissions.
RENOVATION = allow("property_manager", "squad_leader", "squad_member", "dispatcher", "admin")

# Endpoint → rule. Listed even when a route is added by another branch (geolocate, border zones):
# the table test only checks endpoints that exist, and a rule waiting for its route is harmless.
RULES: dict[str, Rule] = {
    # operations and documentation
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "health.livez": PUBLIC,  # liveness probe, added on main
    "health.readyz": PUBLIC,  # readiness probe (issue 19)
    "health.metrics_view": PUBLIC,  # Prometheus; METRICS_TOKEN guards it when set (issue 19)
    "openapi.openapi_json": PUBLIC,
    "openapi.docs": PUBLIC,
    # geography is public: maps of districts, borders, border zones; point lookups
    "boundaries.list_boundaries": PUBLIC,
    "boundaries.get_boundary": PUBLIC,
    "boundaries.list_borders": PUBLIC,
    "boundaries.list_border_zones": PUBLIC,
    "geolocate.geolocate_point": PUBLIC,
    "geolocate.geolocate_batch": PUBLIC,
    # people
    "auth.login": PUBLIC,
    "auth.logout": ANY_ROLE,
    "auth.me": ANY_ROLE,
    "auth.list_users": DISPATCH,
    "auth.list_contact_reads": allow("admin"),
    # squads
    "squads.list_squads": STAFF,
    "squads.get_squad": STAFF,
    "squads.update_squad": DISPATCH,
    "squads.list_dispatch_units": STAFF,
    # reports and cases: anyone allowed to report submits; staff read the shared caseload
    "cases.list_categories": PUBLIC,
    "cases.submit_report": REPORTERS,
    "cases.list_cases": STAFF,
    "cases.get_case": STAFF,
    # the map's case layer: the case list's data, so the case list's rule (the citizen page has no case map)
    "casemap.clusters": STAFF,
    "cases.inbox": allow("squad_leader", "squad_member", "dispatcher", "admin"),
    # case lifecycle: the role gate; which case a caller may act on is decided per case by the
    # predicates of coordinator/permissions.py (coordinator/cases/lifecycle.py applies them)
    "cases.claim_case": allow("squad_leader", "squad_member"),
    "cases.start_case": allow("squad_leader", "squad_member"),
    "cases.resolve_case": allow("squad_leader", "squad_member", "dispatcher", "admin"),
    "cases.verify_case": DISPATCH,
    "cases.close_case": DISPATCH,
    "cases.reopen_case": DISPATCH,
    "cases.void_case": DISPATCH,
    "cases.request_transfer": allow("squad_leader", "dispatcher", "admin"),
    "cases.accept_transfer": allow("squad_leader", "dispatcher", "admin"),
    "cases.decline_transfer": allow("squad_leader", "dispatcher", "admin"),
    # evidence: a file is fetched by any signed-in role, and who may see which file is decided per file
    # by its subject's rule (coordinator/evidence/access.py); a case's photos are listed by staff and
    # uploaded by the case's squads and dispatchers (checked per case: coordinator.permissions)
    "evidence.get_evidence": ANY_ROLE,
    "evidence.get_thumbnail": ANY_ROLE,
    "evidence.list_case_evidence": STAFF,
    "evidence.upload_case_evidence": allow("squad_leader", "squad_member", "dispatcher", "admin"),
    # citizens: anonymous reports (rate-limited per address and phone: coordinator.security, the view)
    # and the secret status link, which authenticates by the token in its URL (404 unless it is one)
    "citizen.submit_report": PUBLIC,
    "citizen.get_status": PUBLIC,
    "citizen.get_status_photo": PUBLIC,
    "citizen.get_status_thumbnail": PUBLIC,
    # hotspots: staff read them; dispatchers create, edit, retire and read proposals
    "hotspots.list_hotspots": STAFF,
    "hotspots.get_hotspot": STAFF,
    "hotspots.create_hotspot": DISPATCH,
    "hotspots.update_hotspot": DISPATCH,
    "hotspots.retire_hotspot": DISPATCH,
    "hotspots.list_proposals": DISPATCH,
    # joint night rosters: the alliance's, so any dispatcher (or admin) drafts, edits and publishes
    "rosters.create_roster": DISPATCH,
    "rosters.list_rosters": STAFF,
    "rosters.get_roster": STAFF,
    "rosters.update_shift": DISPATCH,
    "rosters.swap_shifts": DISPATCH,
    "rosters.cancel_shift": DISPATCH,
    "rosters.publish_roster": DISPATCH,
    "rosters.roster_calendar": STAFF,
    # a squad's feed is read by calendar apps, which send no bearer token: the secret token in its URL
    # opens it (coordinator.feedtokens; a bad one answers 403 feed_token_invalid), staff also by bearer
    "rosters.squad_calendar": Rule(roles=STAFF.roles, feed=True),
    # feed tokens, unavailability, preferences: the squad's leader, its district's dispatcher, admins
    # (checked per squad in the view); staff read
    "rosters.issue_feed_token": allow("squad_leader", "dispatcher", "admin"),
    "rosters.revoke_feed_token": allow("squad_leader", "dispatcher", "admin"),
    "rosters.list_unavailability": STAFF,
    "rosters.add_unavailability": allow("squad_leader", "dispatcher", "admin"),
    "rosters.remove_unavailability": allow("squad_leader", "dispatcher", "admin"),
    "rosters.get_preferences": STAFF,
    "rosters.set_preferences": allow("squad_leader", "dispatcher", "admin"),
    # patrol logs: the shift's two squads (checked per shift), dispatchers and admins record them
    "rosters.list_patrol_logs": STAFF,
    "rosters.record_patrol": allow("squad_leader", "squad_member", "dispatcher", "admin"),
    # the committee's review: every staff role reads it (aggregates and case lists without personal data)
    "review.review_summary": STAFF,
    "review.export_summary": STAFF,
    "review.export_cases": STAFF,
    "review.repeat_locations": STAFF,
    "review.hotspots": STAFF,
    "review.patrol_coverage": STAFF,
    "review.report": STAFF,
    "review.renovation_review": STAFF,  # counts of filings and spot checks, no people
    # liaison meetings: staff read them; dispatchers manage them, and which meeting a dispatcher may
    # change is decided per meeting by the predicates in coordinator.permissions
    "meetings.list_series": READ_MEETINGS,
    "meetings.get_series": READ_MEETINGS,
    "meetings.create_series": DISPATCH,
    "meetings.update_series": DISPATCH,
    "meetings.add_meeting": DISPATCH,
    "meetings.list_meetings": READ_MEETINGS,
    "meetings.get_meeting": READ_MEETINGS,
    "meetings.update_meeting": DISPATCH,
    "meetings.cancel_meeting": DISPATCH,
    "meetings.replace_agenda": DISPATCH,
    "meetings.build_agenda": DISPATCH,
    "meetings.record_minutes": DISPATCH,
    "meetings.record_attendance": DISPATCH,
    "meetings.add_action_item": DISPATCH,
    "meetings.list_action_items": READ_MEETINGS,
    "meetings.update_action_item": DISPATCH,
    "meetings.calendar_feed": CALENDAR_FEED,
    "meetings.create_feed_token": allow("committee", "dispatcher", "admin"),
    "meetings.list_feed_tokens": allow("committee", "dispatcher", "admin"),
    "meetings.revoke_feed_token": allow("committee", "dispatcher", "admin"),
    # reporters (coordinator/community): their own reports (progress, squad feedback, rating, dispute)
    # and reward points; which report is theirs is checked per report
    "community.my_reports": allow("reporter"),
    "community.rate_my_report": allow("reporter"),
    "community.dispute_my_report": allow("reporter"),
    "community.my_rewards": allow("reporter"),
    # rewards: admins keep the rules, redeem points, read the totals and the flagged earnings
    "community.list_reward_rules": allow("admin"),
    "community.put_reward_rule": allow("admin"),
    "community.redeem_points": allow("admin"),
    "community.reward_totals": allow("admin"),
    "community.flagged_rewards": allow("admin"),
    # compounds and renovation filings; the committee (and every staff role) sees counts only
    "community.list_compounds": RENOVATION,
    "community.create_compound": DISPATCH,
    "community.update_compound": DISPATCH,  # which compound: its district's dispatcher (permissions)
    "community.retire_compound": DISPATCH,
    "community.create_filing": allow("property_manager"),
    "community.list_filings": RENOVATION,
    "community.get_filing": RENOVATION,
    "community.accept_filing": DISPATCH,
    "community.return_filing": DISPATCH,
    "community.resubmit_filing": allow("property_manager"),
    "community.start_filing": allow("property_manager"),
    "community.close_filing": allow("property_manager", "dispatcher", "admin"),
    "community.record_inspection": RENOVATION,
    "community.renovation_stats": STAFF,
    "community.upload_filing_documents": RENOVATION,
    "community.list_filing_documents": RENOVATION,
    "community.upload_inspection_photos": RENOVATION,
    # the citizen's secret status link authenticates itself (its token; 404 for any other)
    "community.rate_by_status_link": PUBLIC,
    "community.dispute_by_status_link": PUBLIC,
    "community.rewards_by_status_link": PUBLIC,
    # Open311 GeoReport v2: discovery, services and requests are public (request answers carry no
    # personal data); POST requests.json is public HERE because it authenticates itself by its
    # `api_key` form field, as the spec says, answering 403 — see API_KEY_RULES. Each route also
    # answers in XML (`…_xml`, the spec's required format) under the same rule.
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
    "open311.post_request": PUBLIC,
    "open311.post_request_xml": PUBLIC,
    # OGC API – Features (coordinator/ogc): the geography is public like its /api/v1 routes; squads and
    # cases are staff's, as there (the case features carry no contact data). The collection list shows
    # each caller the collections it may read.
    "ogc.landing_page": PUBLIC,
    "ogc.conformance": PUBLIC,
    "ogc.collections": PUBLIC,
    **ogc_rules("districts", PUBLIC),
    **ogc_rules("towns", PUBLIC),
    **ogc_rules("border-zones", PUBLIC),
    **ogc_rules("squads", STAFF),
    **ogc_rules("hotspots", STAFF),
    **ogc_rules("cases", STAFF),
    # eyes on the border (coordinator/field): patrollers record checks and see only their own checks
    # and reported cases; staff read checks and hotspot coverage; dispatchers run devices, thresholds
    # and the alert review queue (which alert a district's dispatcher may review: per alert)
    "field.record_check": PATROLLERS,
    "field.list_checks": allow(
        "grid_worker", "volunteer", "squad_leader", "squad_member", "dispatcher", "committee", "admin"
    ),
    "field.my_reported_cases": PATROLLERS,
    "field.list_patrollers": allow("dispatcher", "committee", "admin"),
    "field.hotspot_checks": STAFF,
    "field.register_device": DISPATCH,
    "field.list_devices": DISPATCH,
    "field.get_device": DISPATCH,
    "field.update_device": DISPATCH,
    "field.rotate_device_secret": DISPATCH,
    "field.list_flights": DISPATCH,
    "field.upload_flight": DEVICE_SIGNED,
    "field.receive_alerts": DEVICE_SIGNED,
    "field.list_alerts": DISPATCH,
    "field.get_alert": DISPATCH,
    "field.confirm_alert": DISPATCH,
    "field.dismiss_alert": DISPATCH,
    "field.list_alert_classes": STAFF,
    "field.update_alert_class": DISPATCH,
    "field.list_realtime_warnings": STAFF,
    # the web app's pages (coordinator/web): the same rules as the API routes they show; the pages
    # change nothing themselves (their scripts call the API, under the API's rules)
    "web.static": PUBLIC,
    "web.index": PUBLIC,  # sends a logged-in user to the start page of its role, others to /login
    "web.login": PUBLIC,
    "web.set_language": PUBLIC,
    "web.inbox": allow("squad_leader", "squad_member", "dispatcher", "admin"),
    "web.case_page": STAFF,
    "web.map_page": STAFF,
    "web.desk_page": DISPATCH,
    "web.dashboard_page": allow("dispatcher", "committee", "admin"),  # aggregates, no personal data
    "web.meetings_page": READ_MEETINGS,
    "web.meeting_page": READ_MEETINGS,  # its edit forms call the meetings API (host's dispatcher)
    "web.rosters_page": DISPATCH,  # the dispatcher desk's rosters (changes through the rosters API)
    "web.roster_page": DISPATCH,
    "web.report_page": PUBLIC,  # citizens need no account (they submit through the citizen API)
    "web.rewards_page": allow("admin"),  # totals, flags, rules, redemption (the rewards API: admins)
    "web.patrol_page": PATROLLERS,  # grid workers and volunteers (their checks: the patrol-check API)
    "web.status_page": PUBLIC,  # authenticates by the secret token in its URL, like the status API
    # renovation filings (coordinator/web/filings.py): the filings API's readers; the form is the
    # property manager's (which filing a caller reads is checked per filing, as in the API)
    "web.filings_page": RENOVATION,
    "web.new_filing_page": allow("property_manager"),
    "web.compounds_page": DISPATCH,  # 小区登记: register and edit through the compounds API
    "web.filing_page": RENOVATION,
    "web.my_reports_page": allow("reporter"),  # 我的举报: own reports and points (the community API)
    "web.alerts_page": DISPATCH,  # the alert review queue (confirm/dismiss: the alerts API, per alert)
    "web.devices_page": DISPATCH,  # the device registry, read-only (as GET /api/v1/devices)
}

# Endpoints that authenticate by an `api_key` parameter (Open311) instead of the hook: who may, once
# the key (the same API token the Bearer header carries) is known.
API_KEY_RULES: dict[str, Rule] = {
    "open311.post_request": REPORTERS,
    "open311.post_request_xml": REPORTERS,
}


def is_protected(endpoint: str) -> bool:
    """Whether the endpoint needs credentials (endpoints without a rule are denied, so: yes)."""
    rule = RULES.get(endpoint)
    return rule is None or not rule.public
