"""What a squad tells the roster about its nights: when it cannot patrol (leave, training …) and which
weekdays it prefers or avoids. The roster problem (coordinator.rosters.context) reads both; plain
functions taking a Session, they never commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coordinator.errors import NotFound
from coordinator.rosters.models import SquadNightPreference, SquadUnavailability
from coordinator.squads.models import Squad


def unavailability_of(session: Session, squad: Squad) -> list[SquadUnavailability]:
    """The squad's unavailable periods, earliest first."""
    return list(
        session.scalars(
            select(SquadUnavailability)
            .where(SquadUnavailability.squad_id == squad.id)
            .order_by(SquadUnavailability.start_date, SquadUnavailability.id)
        )
    )


def add_unavailability(
    session: Session,
    squad: Squad,
    *,
    start_date: date,
    end_date: date,
    reason: str,
    created_by_id: int | None,
    now: datetime,
) -> SquadUnavailability:
    """Register nights `start_date` … `end_date` (inclusive) on which the squad cannot patrol."""
    row = SquadUnavailability(
        squad_id=squad.id,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def remove_unavailability(session: Session, squad: Squad, item_id: int) -> None:
    """Delete one of the squad's unavailable periods (404 if the squad has no such period)."""
    row = session.get(SquadUnavailability, item_id)
    if row is None or row.squad_id != squad.id:
        raise NotFound(f"squad {squad.code} has no unavailability {item_id}", details={"id": item_id})
    session.delete(row)
    session.flush()


def preferences_of(session: Session, squad: Squad) -> dict[int, int]:
    """The squad's night preference per weekday (0 = Monday; −2 avoid … +2 prefer); absent = 0."""
    rows = session.scalars(select(SquadNightPreference).where(SquadNightPreference.squad_id == squad.id))
    return {r.weekday: r.preference for r in rows}


def set_preferences(session: Session, squad: Squad, weekdays: Mapping[int, int]) -> None:
    """Replace the squad's weekday preferences (zeros are not stored)."""
    session.execute(delete(SquadNightPreference).where(SquadNightPreference.squad_id == squad.id))
    for weekday, value in sorted(weekdays.items()):
        if value:
            session.add(SquadNightPreference(squad_id=squad.id, weekday=weekday, preference=value))
    session.flush()
