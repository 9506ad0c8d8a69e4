"""Alembic migrations and the models agree, on the backend under test."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from coordinator import migrate
from coordinator.db import make_engine


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
