"""Action items of liaison meetings (督办事项): one owner (a squad or a member district), a due date and
the cases they concern. While open, an item shows on those cases (the case detail) and on every later
agenda of its series (coordinator.meetings.agenda)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordinator.auth.models import User
from coordinator.cases.models import Case
from coordinator.dialects import begin_write
from coordinator.errors import Forbidden, NotFound, ValidationFailed
from coordinator.meetings.models import ActionItem, ActionItemCase, Meeting
from coordinator.meetings.services import member_districts, require_record
from coordinator.permissions import can_update_action_item
from coordinator.squads.models import Squad


def _cases_by_number(session: Session, numbers: Sequence[str]) -> list[Case]:
    cases = list(session.scalars(select(Case).where(Case.number.in_(list(numbers)))))
    missing = sorted(set(numbers) - {c.number for c in cases})
    if missing:
        raise ValidationFailed("unknown case numbers", details={"unknown": missing})
    return cases


def add_action_item(
    session: Session,
    meeting: Meeting,
    user: User,
    *,
    title: str,
    detail: str,
    owner_squad: str | None,
    owner_district: str | None,
    due_date: date,
    case_numbers: Sequence[str],
    now: datetime,
) -> ActionItem:
    """Record an action item (owner: a squad or a district; due date; linked cases)."""
    begin_write(session)
    require_record(meeting, user)
    if (owner_squad is None) == (owner_district is None):
        raise ValidationFailed("name exactly one owner: owner_squad or owner_district")
    squad_id = None
    if owner_squad is not None:
        squad = session.scalars(select(Squad).where(Squad.code == owner_squad)).one_or_none()
        if squad is None:
            raise ValidationFailed(f"no squad {owner_squad}", details={"owner_squad": owner_squad})
        squad_id = squad.id
    elif owner_district not in member_districts(session):
        raise ValidationFailed(
            "the owner district is a member district", details={"owner_district": owner_district}
        )
    cases = _cases_by_number(session, case_numbers)
    item = ActionItem(
        meeting_id=meeting.id,
        series_id=meeting.series_id,
        title=title,
        detail=detail,
        owner_squad_id=squad_id,
        owner_district_code=owner_district,
        due_date=due_date,
        status="open",
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
        links=[ActionItemCase(case_id=c.id) for c in cases],
    )
    session.add(item)
    session.flush()
    return item


def get_action_item(session: Session, item_id: int) -> ActionItem:
    """An action item, or 404."""
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(f"no action item {item_id}", details={"id": item_id})
    return item


def owner_district(session: Session, item: ActionItem) -> str:
    """The district answerable for an action item (a squad owner's district)."""
    if item.owner_squad_id is not None:
        return session.get_one(Squad, item.owner_squad_id).district_code
    return item.owner_district_code or ""


def update_action_item(
    session: Session, item: ActionItem, user: User, changes: dict[str, Any], *, now: datetime
) -> ActionItem:
    """Mark done, drop, reopen, re-date or relink an action item."""
    begin_write(session)
    meeting = session.get_one(Meeting, item.meeting_id)
    if not can_update_action_item(
        user, owner_district=owner_district(session, item), host=meeting.host_district_code
    ):
        raise Forbidden(
            "the owner's district dispatcher or the meeting's host updates this action item",
            details={"action_item": item.id},
        )
    if "case_numbers" in changes:
        numbers = changes.pop("case_numbers")
        item.links = [ActionItemCase(case_id=c.id) for c in _cases_by_number(session, numbers)]
    status = changes.get("status")
    if status is not None and status != item.status:
        item.done_at = now if status == "done" else None
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at = now
    session.flush()
    return item


def list_action_items(
    session: Session,
    *,
    status: str | None = None,
    series_id: int | None = None,
    case_id: int | None = None,
    district: str | None = None,
) -> list[ActionItem]:
    """Action items by due date."""
    stmt = select(ActionItem).options(selectinload(ActionItem.links))
    if status is not None:
        stmt = stmt.where(ActionItem.status == status)
    if series_id is not None:
        stmt = stmt.where(ActionItem.series_id == series_id)
    if case_id is not None:
        stmt = stmt.where(
            ActionItem.id.in_(select(ActionItemCase.action_item_id).where(ActionItemCase.case_id == case_id))
        )
    if district is not None:
        squads = select(Squad.id).where(Squad.district_code == district)
        stmt = stmt.where(
            (ActionItem.owner_district_code == district) | ActionItem.owner_squad_id.in_(squads)
        )
    return list(session.scalars(stmt.order_by(ActionItem.due_date, ActionItem.id)))


def open_action_items_for_case(session: Session, case_id: int) -> list[ActionItem]:
    """The open action items linked to a case (shown on the case)."""
    return list_action_items(session, status="open", case_id=case_id)
