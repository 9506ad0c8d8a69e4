"""Alembic migrations and the models agree, on the backend under test; data migrations do what they say."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from config import PROJECT_ROOT
from coordinator import migrate
from coordinator.db import make_engine, utcnow
from coordinator.worktime import SHANGHAI
from coordinator.worktime.services import set_override
from tests.factories import make_case


def test_models_and_migrations_agree(connection: Connection) -> None:
    assert migrate.schema_diff(connection) == []


def test_fresh_sqlite_database_migrates_down_and_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert "admin_area" not in inspect(conn).get_table_names()
    migrate.upgrade(url)
    with engine.connect() as conn:
        assert {"admin_area", "boundary_generation", "shared_border"} <= set(inspect(conn).get_table_names())
    engine.dispose()


def _migration(name: str) -> ModuleType:
    """A migration file as a module (they are not an importable package)."""
    path = PROJECT_ROOT / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_0014_backfills_working_hours_on_the_sla_clock(session: Session) -> None:
    """0014 stamps the cases claimed or closed before it with its own copy of the SLA clock (09:00–17:00
    Asia/Shanghai on working days: an override first, then 调休 make-up days, then public holidays);
    the figures are counted by hand."""

    def at(day: str, hhmm: str) -> datetime:
        return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SHANGHAI)

    set_override(session, date(2025, 11, 3), working=False, note="test: a Monday off", now=utcnow())
    over_makeup_day = make_case(session, lead=None, now=at("2025-10-10", "16:00"))  # Fri; Sat 10-11 调休
    over_makeup_day.claimed_at = at("2025-10-13", "10:00")
    over_holiday = make_case(session, lead=None, now=at("2025-09-30", "16:30"))  # National Day week
    over_holiday.closed_at = at("2025-10-09", "09:30")
    over_override = make_case(session, lead=None, now=at("2025-10-31", "16:00"))
    over_override.claimed_at, over_override.closed_at = at("2025-11-04", "09:15"), at("2025-11-04", "13:00")
    untouched = make_case(session, lead=None, now=at("2025-10-31", "16:00"))
    session.flush()

    with Operations.context(MigrationContext.configure(session.connection())):
        _migration("0014_meetings")._backfill_work_hours()
    for case in (over_makeup_day, over_holiday, over_override, untouched):
        session.refresh(case)
    assert (over_makeup_day.claim_work_h, over_makeup_day.close_work_h) == (1 + 8 + 1, None)
    assert (over_holiday.claim_work_h, over_holiday.close_work_h) == (None, 0.5 + 0.5)
    assert (over_override.claim_work_h, over_override.close_work_h) == (1 + 0.25, 1 + 4)
    assert (untouched.claim_work_h, untouched.close_work_h) == (None, None)
