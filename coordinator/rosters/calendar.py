"""iCalendar (RFC 5545) feeds of shifts, with the `icalendar` package, and the squads' feed URLs.

One VEVENT per shift: UID stable for the shift's life (a moved night keeps it), DTSTAMP = the last change,
DTSTART/DTEND with TZID=Asia/Shanghai and the matching VTIMEZONE (`add_missing_timezones`), SEQUENCE
bumped on every change after publishing, STATUS:CONFIRMED (published), TENTATIVE (draft) or CANCELLED
(removed, or moved to other squads). Calendar clients send no bearer token, so a squad's feed URL
carries a secret token (coordinator.feedtokens, the one design of every calendar feed); a new token
revokes the squad's old one.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.feedtokens import services as feedtokens
from coordinator.hotspots.models import KIND_LABELS, Hotspot
from coordinator.rosters.models import Roster, RosterShift
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI

NIGHT_START = time(20, 0)
NIGHT_HOURS = 5
PRODID = "-//交界协同//联合夜间执法//ZH"


def shift_event(shift: RosterShift, roster: Roster, hotspot: Hotspot, squads: dict[int, Squad]) -> Event:
    """The VEVENT of one shift."""
    start = datetime.combine(shift.night, NIGHT_START, SHANGHAI)
    a, b = squads[shift.squad_a_id], squads[shift.squad_b_id]
    event = Event()
    event.add("uid", shift.uid)
    event.add("dtstamp", shift.updated_at.astimezone(UTC))  # RFC 5545: DTSTAMP in UTC
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=NIGHT_HOURS))
    event.add("sequence", shift.sequence)
    event.add("summary", f"联合夜间巡查：{hotspot.name}（{a.name_zh} + {b.name_zh}）")
    event.add("location", f"{hotspot.name}（{KIND_LABELS.get(hotspot.kind, hotspot.kind)}）")
    event.add("geo", (hotspot.lat, hotspot.lon))
    event.add(
        "description",
        f"{a.name_zh}（{a.code}）与 {b.name_zh}（{b.code}）联合巡查 {hotspot.name}，"
        f"坐标 {hotspot.lon:.5f}, {hotspot.lat:.5f}（WGS-84）。排班 #{roster.id}。",
    )
    if shift.status == "cancelled":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED" if roster.status == "published" else "TENTATIVE")
    return event


def calendar_of(name: str, shifts: list[RosterShift], session: Session, *, squads: dict[int, Squad]) -> bytes:
    """A VCALENDAR with one event per shift."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    hotspots = {
        h.id: h
        for h in session.scalars(select(Hotspot).where(Hotspot.id.in_({s.hotspot_id for s in shifts})))
    }
    rosters = {
        r.id: r for r in session.scalars(select(Roster).where(Roster.id.in_({s.roster_id for s in shifts})))
    }
    for shift in shifts:
        cal.add_component(shift_event(shift, rosters[shift.roster_id], hotspots[shift.hotspot_id], squads))
    cal.add_missing_timezones()
    body: bytes = cal.to_ical()
    return body


# ------------------------------------------------------------------------------------ feed tokens


def issue_feed_token(session: Session, squad: Squad, *, now: datetime, created_by_id: int | None) -> str:
    """A new secret for the squad's feed URL; the previous one stops working."""
    feedtokens.revoke_squad_tokens(session, squad.id, now=now)
    _, token = feedtokens.issue(
        session, feed="squad", now=now, created_by_id=created_by_id, squad_id=squad.id, label=squad.code
    )
    return token


def revoke_feed_tokens(session: Session, squad: Squad, *, now: datetime) -> int:
    """Revoke the squad's live feed tokens; how many there were."""
    return feedtokens.revoke_squad_tokens(session, squad.id, now=now)
