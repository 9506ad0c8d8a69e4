"""Agendas built from the caseload, and the reminders, at set times before each meeting.

`build_due_agendas` and `send_due_reminders` are what the scheduler runs. Each claims its meeting with
a conditional UPDATE (`… WHERE agenda_built_at IS NULL`, `… WHERE reminder_sent_at IS NULL`): a second
run, or two runs at once, change nothing more. The built agenda is a snapshot: the cases it lists are
the ones that matched when it was built (with their state then), not a live query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordinator.cases.models import Case
from coordinator.cases.queries import is_overdue
from coordinator.dialects import begin_write
from coordinator.meetings.models import ActionItem, AgendaItem, Meeting, MeetingSeries
from coordinator.notifications.services import enqueue
from coordinator.review import caseload
from coordinator.review import services as review
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI

LISTED_CASES = 50  # cases an agenda item lists by number (the count covers all)
DISPUTE_PENDING_H = 24.0  # a transfer request pending longer than this counts as disputed


def scope_of(series: MeetingSeries) -> review.Scope:
    """The cases a meeting of this series discusses: its border pair's, or every joint case."""
    pair = (series.border_pair_a, series.border_pair_b) if series.scope == "border_pair" else None
    return review.Scope(border_pair=pair)  # type: ignore[arg-type]


def case_snapshot(case: Case, now: datetime) -> dict[str, Any]:
    """What an agenda keeps of a case (no personal data)."""
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status,
        "category": case.category_code,
        "district": case.district_code,
        "border_pair": f"{case.border_pair_a}-{case.border_pair_b}" if case.border_pair_a else None,
        "created_at": case.created_at.astimezone(SHANGHAI).isoformat(),
        "overdue": is_overdue(case, now),
        "escalated": case.escalated_at is not None,
    }


def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """The series' last meeting before this one that was not cancelled."""
    return session.scalars(
        select(Meeting)
        .where(
            Meeting.series_id == meeting.series_id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status != "cancelled",
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    ).first()


def carried_action_items(session: Session, meeting: Meeting) -> list[ActionItem]:
    """Open action items raised at earlier meetings of the series: they stay on every agenda until done."""
    return list(
        session.scalars(
            select(ActionItem)
            .join(Meeting, Meeting.id == ActionItem.meeting_id)
            .where(
                ActionItem.series_id == meeting.series_id,
                ActionItem.status == "open",
                Meeting.starts_at < meeting.starts_at,
            )
            .order_by(ActionItem.due_date, ActionItem.id)
        )
    )


def owner_label(session: Session, item: ActionItem, districts: dict[str, str]) -> str:
    """责任单位: the squad's name or the district's."""
    if item.owner_squad_id is not None:
        squad = session.get(Squad, item.owner_squad_id)
        return squad.name_zh if squad else str(item.owner_squad_id)
    return districts.get(item.owner_district_code or "", item.owner_district_code or "")


def compose(session: Session, meeting: Meeting, now: datetime) -> list[AgendaItem]:
    """The automatic agenda items of a meeting, from the caseload as it stands at `now`."""
    series = session.get_one(MeetingSeries, meeting.series_id)
    scope = scope_of(series)
    joint = review.Scope(border_pair=scope.border_pair, joint_only=True)
    districts = review.district_names(session)
    previous = previous_meeting(session, meeting)
    since = previous.starts_at if previous else meeting.starts_at - timedelta(days=31)
    items: list[AgendaItem] = []

    def item(kind: str, title: str, detail: str = "", **extra: Any) -> None:
        items.append(AgendaItem(kind=kind, title=title, detail=detail, source="auto", **extra))

    first = since.astimezone(SHANGHAI).date()
    last = (now - timedelta(days=1)).astimezone(SHANGHAI).date()
    # Built before the previous meeting has happened (a rebuild well ahead): the day of that meeting.
    period = review.Period(first, max(first, last))
    figures = review.review(session, period, "border_pair", now=now, scope=scope)
    total = figures.total
    compliance = "—" if total.sla_compliance is None else f"{total.sla_compliance * 100:.1f}%"
    item(
        "review",
        f"上次会议以来的案件概况（{period.label()}）",
        f"新立 {total.new} 件，其中交界地带 {total.in_border_zone} 件；已结案 {total.closed} 件，"
        f"未办结 {total.open} 件，当前超期 {total.overdue} 件；按时率 {compliance}。",
        data={
            "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
            "rows": [
                {"key": r.key, "label": r.label, "new": r.figures.new, "overdue": r.figures.overdue}
                for r in figures.rows
            ],
            "total": {name: getattr(total, name) for name in review.COUNTS},
        },
    )
    for action in carried_action_items(session, meeting):
        state = "已逾期" if action.due_date < now.astimezone(SHANGHAI).date() else "未完成"
        item(
            "action_item",
            f"督办事项（{state}）：{action.title}",
            f"责任单位：{owner_label(session, action, districts)}；期限：{action.due_date.isoformat()}",
            action_item_id=action.id,
            cases=[{"id": link.case_id} for link in action.links],
            data={"due_date": action.due_date.isoformat(), "status": action.status},
        )
    overdue, overdue_n = caseload.current_cases(
        session, joint, review.overdue_condition(now), limit=LISTED_CASES
    )
    item(
        "overdue_cases",
        f"超期未办结的交界案件（{overdue_n} 件）",
        cases=[case_snapshot(c, now) for c in overdue],
        data={"count": overdue_n},
    )
    escalated, escalated_n = caseload.current_cases(
        session, joint, Case.escalated_at.isnot(None), limit=LISTED_CASES
    )
    item(
        "escalated_cases",
        f"已升级至调度员的交界案件（{escalated_n} 件）",
        cases=[case_snapshot(c, now) for c in escalated],
        data={"count": escalated_n},
    )
    disputes = caseload.transfer_disputes(session, scope, since=since, now=now, pending_h=DISPUTE_PENDING_H)
    item(
        "transfer_disputes",
        f"被拒或久拖未决的移交（{len(disputes)} 件）",
        "；".join(
            f"{c.number}：{'被拒' if t.state == 'declined' else '待接收'}（{t.decision_reason or t.reason}）"
            for t, c in disputes
        ),
        cases=[case_snapshot(c, now) for _, c in disputes],
        data={"count": len(disputes)},
    )
    open_joint, open_n = caseload.current_cases(session, joint, Case.id.isnot(None), limit=LISTED_CASES)
    item(
        "open_joint_cases",
        f"在办的交界地带案件（{open_n} 件，列出最早的 {min(open_n, LISTED_CASES)} 件）",
        cases=[case_snapshot(c, now) for c in open_joint],
        data={"count": open_n},
    )
    trends = caseload.hotspots_with_trend(session, period, scope=scope, now=now)
    rising = trends.rising
    item(
        "hotspots",
        f"上升中的热点（{len(rising)} 个）",
        "；".join(f"{h.name}：本期 {h.cases} 起，上期 {h.previous} 起" for h in rising[:LISTED_CASES])
        or "本期没有上升的热点。",
        data={
            "available": True,
            "count": len(rising),
            "hotspots": [
                {
                    "id": h.id,
                    "name": h.name,
                    "border_pair": h.border_pair,
                    "cases": h.cases,
                    "previous": h.previous,
                    "trend": h.trend,
                }
                for h in rising[:LISTED_CASES]
            ],
        },
    )
    coverage = caseload.patrol_coverage(session, period, scope=scope, now=now)
    done, rate = coverage.total, coverage.total.rate
    item(
        "roster_coverage",
        "联合巡查覆盖情况（计划 / 完成）",
        (
            f"计划 {done.planned} 次，已到期 {done.due} 次，已完成 {done.done} 次，未巡查 {done.missed} 次；"
            f"完成率 {'—' if rate is None else f'{rate * 100:.1f}%'}；巡查发现案件 {done.cases_found} 件。"
        )
        if coverage.items
        else coverage.reason + "。",
        data={
            "available": True,
            "coverage": [
                {
                    "border_pair": pair.border_pair,
                    "label": review.pair_label(review.border_pair_key(pair.border_pair), districts),
                    "planned": pair.coverage.planned,
                    "due": pair.coverage.due,
                    "done": pair.coverage.done,
                    "missed": pair.coverage.missed,
                    "rate": pair.coverage.rate,
                    "cases_found": pair.coverage.cases_found,
                }
                for pair in coverage.pairs
            ],
        },
    )
    return items


def build(session: Session, meeting: Meeting, now: datetime, *, rebuild: bool = False) -> bool:
    """Build the meeting's agenda once (False if it was already built and `rebuild` is not asked).

    The host's own items stay, after the automatic ones; a rebuild replaces only automatic items.
    """
    begin_write(session)
    claim = update(Meeting).where(Meeting.id == meeting.id, Meeting.status == "scheduled")
    if not rebuild:
        claim = claim.where(Meeting.agenda_built_at.is_(None))
    moved = session.execute(claim.values(agenda_built_at=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(
        delete(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.source == "auto")
    )
    session.refresh(meeting)
    host_items = list(meeting.agenda)
    auto = compose(session, meeting, now)
    for position, agenda_item in enumerate([*auto, *host_items], start=1):
        agenda_item.position = position
        if agenda_item.meeting_id is None:
            agenda_item.meeting_id = meeting.id
            session.add(agenda_item)
    session.flush()
    session.refresh(meeting)
    enqueue(session, "meeting_agenda", None, notice(session, meeting, now), now=now)
    return True


def notice(session: Session, meeting: Meeting, now: datetime) -> dict[str, Any]:
    """The outbox payload about a meeting (no personal data)."""
    districts = review.district_names(session)
    return {
        "meeting_id": meeting.id,
        "title": meeting.title,
        "status": meeting.status,
        "starts_at": meeting.starts_at.astimezone(SHANGHAI).isoformat(),
        "host": {"code": meeting.host_district_code, "name": districts.get(meeting.host_district_code)},
        "location": meeting.location,
        "agenda": [a.title for a in meeting.agenda],
        "at": now.astimezone(SHANGHAI).isoformat(),
    }


@dataclass
class DueResult:
    """Meetings a scheduler run acted on."""

    meeting_ids: list[int] = field(default_factory=list)


def build_due_agendas(session: Session, *, now: datetime) -> DueResult:
    """Build every agenda that fell due (its time before the meeting has come, the meeting not yet begun)."""
    result = DueResult()
    due = session.scalars(
        select(Meeting)
        .where(
            Meeting.status == "scheduled",
            Meeting.agenda_built_at.is_(None),
            Meeting.agenda_due_at <= now,
            Meeting.starts_at > now,
        )
        .order_by(Meeting.starts_at)
    ).all()
    for meeting in due:
        if build(session, meeting, now):
            result.meeting_ids.append(meeting.id)
    return result


def send_due_reminders(session: Session, *, now: datetime) -> DueResult:
    """Queue one reminder (outbox → webhooks) per meeting whose reminder time has come."""
    begin_write(session)
    result = DueResult()
    due = session.scalars(
        select(Meeting).where(
            Meeting.status == "scheduled",
            Meeting.reminder_sent_at.is_(None),
            Meeting.reminder_due_at <= now,
            Meeting.starts_at > now,
        )
    ).all()
    for meeting in due:
        moved = session.execute(
            update(Meeting)
            .where(Meeting.id == meeting.id, Meeting.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue
        enqueue(session, "meeting_reminder", None, notice(session, meeting, now), now=now)
        result.meeting_ids.append(meeting.id)
    return result
