"""`seed demo`: boundaries, approximate demo jurisdictions, dispatch units, one squad per jurisdiction,
demo hotspots on the member borders, one user per role, a demo camera with alerts awaiting review and a
demo drone. Idempotent: a second run adds nothing and
shows no password again."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from coordinator.auth import services as auth
from coordinator.boundaries import services as boundaries
from coordinator.cases.seed import seed_categories_and_rules
from coordinator.community.seed import seed_demo_compound, seed_reward_rules
from coordinator.evidence.files import Limits
from coordinator.field.seed import seed_alert_classes
from coordinator.hotspots.demo import seed_demo_hotspots
from coordinator.squads import services as squads
from coordinator.squads.models import Squad

DEMO_SQUAD = "SQ-310120118"  # 柘林中队 (Fengxian), on the Fengxian–Jinshan border, across from 漕泾
DEMO_DISTRICT = "310120"
# username, role, squad, district, display name
DEMO_USERS: tuple[tuple[str, str, str | None, str | None, str], ...] = (
    ("demo_leader", "squad_leader", DEMO_SQUAD, None, "演示中队长"),
    ("demo_member", "squad_member", DEMO_SQUAD, None, "演示队员"),
    ("demo_dispatcher", "dispatcher", None, DEMO_DISTRICT, "演示调度员（奉贤）"),
    ("demo_committee", "committee", None, None, "演示联席会议成员"),
    ("demo_admin", "admin", None, None, "演示管理员"),
    ("demo_reporter", "reporter", None, None, "演示网格员"),
    ("demo_property", "property_manager", None, None, "演示物业"),
)


@dataclass
class NewCredentials:
    """Credentials of a user created by this run (shown once)."""

    username: str
    role: str
    password: str
    token: str


@dataclass
class DemoReport:
    """What `seed demo` did."""

    lines: list[str] = field(default_factory=list)
    credentials: list[NewCredentials] = field(default_factory=list)
    existing_users: list[str] = field(default_factory=list)


def seed_reference(session: Session, *, snap_m: float, zone_width_m: float = 500.0) -> list[str]:
    """Reference data every installation needs: districts, dispatch desks, categories, routing rules,
    detection classes."""
    _, generation = boundaries.seed_shipped_boundaries(session, snap_m=snap_m, zone_width_m=zone_width_m)
    squads.ensure_dispatch_units(session)
    new_categories, new_rules = seed_categories_and_rules(session)
    new_classes = seed_alert_classes(session)
    new_reward_rules = seed_reward_rules(session)
    return [
        "districts: " + ("already up to date" if generation is None else f"generation {generation.id}"),
        f"categories: {new_categories} new; routing rules: {new_rules} new; "
        f"reward rules: {new_reward_rules} new",
        f"detection classes: {new_classes} new",
    ]


def seed_demo(
    session: Session, *, snap_m: float, token_ttl_days: int, zone_width_m: float = 500.0
) -> DemoReport:
    """Seed everything the demo needs (the caller commits)."""
    report = DemoReport()
    report.lines.extend(seed_reference(session, snap_m=snap_m, zone_width_m=zone_width_m))
    area_plan, squad_plan = squads.seed_demo_territory(session, snap_m=snap_m)
    report.lines.append(
        f"demo jurisdictions (近似 approximate): {len(area_plan.of_kind('new'))} new, "
        f"{len(area_plan.of_kind('changed'))} changed, {len(area_plan.of_kind('unchanged'))} unchanged"
    )
    report.lines.append(f"demo squads: {len(squad_plan.of_kind('new'))} new")
    report.lines.append(f"demo hotspots (【演示】): {seed_demo_hotspots(session)} new")
    for username, role, squad_code, district, name in DEMO_USERS:
        existing = auth.find_user(session, username)
        if existing is not None:
            report.existing_users.append(username)
            if squad_code is not None and existing.squad_id is not None:
                # A demo database from before the current territory: follow the demo squad.
                current = squads.get_squad(session, squad_code)
                if existing.squad_id != current.id and not session.get_one(Squad, existing.squad_id).active:
                    existing.squad_id = current.id
            continue
        password = auth.generate_password()
        user = auth.create_user(
            session,
            username=username,
            role=role,
            squad_code=squad_code,
            district=district,
            display_name=name,
            password=password,
        )
        _, token = auth.issue_token(session, user, ttl_days=token_ttl_days, label="seed demo")
        report.credentials.append(NewCredentials(username, role, password, token))
    report.lines.append(seed_demo_meetings(session))
    admin = auth.find_user(session, "demo_admin")
    if admin is not None:
        report.lines.append(seed_demo_compound(session, admin))
    report.lines.append(seed_demo_field_devices(session))
    return report


def seed_demo_field_devices(session: Session) -> str:
    """The demo camera (with alerts of last night awaiting review) and drone (coordinator/field/demo.py),
    under the running app's settings."""
    from datetime import UTC, datetime

    from coordinator.field.alerts import AlertPolicy
    from coordinator.field.demo import seed_demo_devices
    from coordinator.field.warnings import NightHours
    from coordinator.geolocation.services import load_locator_input, locator_key
    from coordinator.settings import evidence_limits, get_settings
    from geo.locator import Locator

    s = get_settings()
    limits = evidence_limits()
    return seed_demo_devices(
        session,
        Locator(load_locator_input(session, locator_key(session))),
        key_material=s.device_secret_key or s.secret_key,
        limits=Limits(
            max_bytes=s.alert_frame_max_bytes, max_pixels=limits.max_pixels, thumbnail_px=limits.thumbnail_px
        ),
        policy=AlertPolicy(
            storm_window_s=s.alert_storm_window_s,
            storm_radius_m=s.alert_storm_radius_m,
            night=NightHours(s.night_start_hour, s.night_end_hour),
            base_url=s.public_base_url,
        ),
        now=datetime.now(UTC),
    )


DEMO_SERIES = "ALLIANCE"


def seed_demo_meetings(session: Session) -> str:
    """The alliance-wide monthly liaison meeting (first working day of the month, 14:30, hosts
    rotating 奉贤 → 金山 → 松江 → 浦东), planned by the demo admin; once."""
    from datetime import datetime, time

    from sqlalchemy import select

    from coordinator.meetings import services as meetings
    from coordinator.meetings.models import MeetingSeries
    from coordinator.worktime import SHANGHAI
    from coordinator.worktime.services import load_calendar

    if session.scalar(select(MeetingSeries.id).where(MeetingSeries.code == DEMO_SERIES)) is not None:
        return "demo meeting series: already there"
    admin = auth.find_user(session, "demo_admin")
    if admin is None:
        return "demo meeting series: no demo_admin"
    _, plan = meetings.create_series(
        session,
        meetings.SeriesInput(
            code=DEMO_SERIES,
            name_zh="交界地带联席会议",
            scope="alliance",
            frequency="monthly",
            start_time=time(14, 30),
            day_of_month=1,
            host_rotation=["310120", "310116", "310117", "310115"],
            location="轮值主持区城管执法局会议室",
        ),
        admin,
        load_calendar(session),
        now=datetime.now(SHANGHAI),
    )
    blocked = f"; {plan.blocked_year} not published yet, not planned" if plan.blocked_year else ""
    return f"demo meeting series {DEMO_SERIES}: {len(plan.created)} meetings planned{blocked}"
