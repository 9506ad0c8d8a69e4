"""The meetings calendar (iCalendar, RFC 5545) and the secret tokens that open it to calendar apps.

One VEVENT per meeting (hosts rotate, so one RRULE cannot describe a series): UID
`meeting-<series code>-<occurrence>@jiaojie` never changes; DTSTAMP is when the meeting last changed;
DTSTART/DTEND carry TZID=Asia/Shanghai with the matching VTIMEZONE; SEQUENCE counts the changes;
a cancelled meeting stays in the feed with STATUS:CANCELLED so subscribed calendars remove it.

Calendar apps send no bearer token, so the committee's feed URL carries a secret token
(`?token=jjcal_…`): coordinator.feedtokens, the one design of every calendar feed (only its SHA-256
is stored, revoking it ends the URL, a bad token answers 403 `feed_token_invalid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.errors import Forbidden, NotFound
from coordinator.feedtokens import services as feedtokens
from coordinator.feedtokens.models import FeedToken
from coordinator.meetings.models import AgendaItem, Meeting, MeetingSeries
from coordinator.permissions import can_make_meetings_feed, can_revoke_meetings_feed
from coordinator.worktime import SHANGHAI

UID_DOMAIN = "jiaojie"


def create_feed_token(
    session: Session, user: User, *, label: str, district: str | None, now: datetime
) -> tuple[FeedToken, str]:
    """A new meetings feed token (the token itself is returned once); 403 for a district's dispatcher
    asking for another district's feed."""
    if not can_make_meetings_feed(user, district):
        raise Forbidden(
            "a district's dispatcher makes feeds of its own district",
            details={"district": district, "own_district": user.district_code},
        )
    return feedtokens.issue(
        session, feed="meetings", now=now, created_by_id=user.id, district_code=district, label=label
    )


def list_feed_tokens(session: Session, user: User) -> list[FeedToken]:
    """The caller's meetings feed tokens (admins: everyone's)."""
    stmt = select(FeedToken).where(FeedToken.feed == "meetings").order_by(FeedToken.id)
    if user.role != "admin":
        stmt = stmt.where(FeedToken.created_by_id == user.id)
    return list(session.scalars(stmt))


def revoke_feed_token(session: Session, user: User, token_id: int, *, now: datetime) -> FeedToken:
    """Revoke a meetings feed token (its creator or an admin)."""
    row = session.get(FeedToken, token_id)
    if row is None or row.feed != "meetings":
        raise NotFound(f"no feed token {token_id}", details={"id": token_id})
    if not can_revoke_meetings_feed(user, row.created_by_id):
        raise Forbidden("only its creator or an admin revokes a feed token")
    return feedtokens.revoke(session, row, now=now)


def meeting_uid(series: MeetingSeries, meeting: Meeting) -> str:
    """The meeting's stable iCalendar UID."""
    return f"meeting-{series.code}-{meeting.occurrence}@{UID_DOMAIN}"


def calendar_ics(
    meetings: Sequence[Meeting],
    series: dict[int, MeetingSeries],
    districts: dict[str, str],
    agenda: dict[int, list[AgendaItem]],
    *,
    name: str = "交界协同 · 联席会议",
) -> bytes:
    """The iCalendar document of these meetings."""
    cal = Calendar()
    cal.add("prodid", "-//jiaojie//liaison meetings//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for meeting in meetings:
        owner = series[meeting.series_id]
        host = districts.get(meeting.host_district_code, meeting.host_district_code)
        event = Event()
        event.add("uid", meeting_uid(owner, meeting))
        event.add("dtstamp", meeting.updated_at)
        event.add("last-modified", meeting.updated_at)
        event.add("created", meeting.created_at)
        event.add("dtstart", meeting.starts_at.astimezone(SHANGHAI))
        event.add("dtend", meeting.ends_at.astimezone(SHANGHAI))
        event.add("sequence", meeting.ical_sequence)
        event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
        event.add("summary", f"{meeting.title}（{host}主持）")
        if meeting.location:
            event.add("location", meeting.location)
        lines = [f"主持：{host}"]
        if meeting.status == "cancelled":
            lines.append(f"已取消：{meeting.cancel_reason}")
        lines += [f"{i}. {item.title}" for i, item in enumerate(agenda.get(meeting.id, []), start=1)]
        event.add("description", "\n".join(lines))
        event.add("categories", ["联席会议"])
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
