"""Alembic migrations and the models agree, on the backend under test; data migrations do what they say."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from config import PROJECT_ROOT
from coordinator import migrate
from coordinator.db import make_engine, utcnow
from coordinator.errors import Forbidden
from coordinator.feedtokens import services as feedtokens
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


def test_0018_moves_both_kinds_of_feed_tokens_into_one_table_and_back(tmp_path: Path) -> None:
    """Feed URLs handed out before 0018 keep working after it (the hashes are copied), revoked ones
    stay revoked, and a downgrade puts each token back in its old table."""
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    migrate.upgrade(url, "0014")
    engine = make_engine(url)
    meetings_token, squad_token, revoked_token = "jjcal_meetings-old", "jjcal_squad-old", "jjcal_revoked"
    now = "2026-11-01 08:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dispatch_unit (id, code, name_zh, level, district_code, contact_channel,"
                " created_at)"
                " VALUES (1, 'DU-T', '测试调度', 'district', '310120', 'wecom:t', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO squad (id, code, name_zh, district_code, dispatch_unit_id, categories,"
                " night_capacity, contact_channel, active, created_at, updated_at)"
                " VALUES (7, 'SQ-OLD', '旧中队', '310120', 1, '[]', 2, 'wecom:t', 1, :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO calendar_feed_token (token_hash, prefix, label, district_code, created_at,"
                " revoked_at) VALUES (:h1, 'jjcal_meet', '委员会', '310120', :now, NULL),"
                " (:h2, 'jjcal_revo', '旧的', NULL, :now, :now)"
            ),
            {
                "h1": feedtokens.hash_token(meetings_token),
                "h2": feedtokens.hash_token(revoked_token),
                "now": now,
            },
        )
        conn.execute(
            text(
                "INSERT INTO squad_feed_token (squad_id, token_hash, prefix, created_at)"
                " VALUES (7, :h, 'jjcal_squa', :now)"
            ),
            {"h": feedtokens.hash_token(squad_token), "now": now},
        )
    migrate.upgrade(url)
    with Session(engine) as session:
        meetings = feedtokens.check(session, meetings_token)
        assert (meetings.feed, meetings.district_code, meetings.label) == ("meetings", "310120", "委员会")
        squad = feedtokens.check(session, squad_token)
        assert (squad.feed, squad.squad_id, squad.label) == ("squad", 7, "SQ-OLD")
        with pytest.raises(Forbidden):
            feedtokens.check(session, revoked_token)
        assert {t for t in inspect(session.connection()).get_table_names() if "feed_token" in t} == {
            "feed_token"
        }
    migrate.downgrade(url, "0014")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM calendar_feed_token")).scalar() == 2
        assert conn.execute(text("SELECT squad_id FROM squad_feed_token")).scalar() == 7
        assert "feed_token" not in inspect(conn).get_table_names()
    engine.dispose()
