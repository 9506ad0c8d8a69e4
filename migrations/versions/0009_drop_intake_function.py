"""PostgreSQL: drop the `intake_report` function; intake is one transaction of Core statements on both
databases (coordinator.cases.intake), so the function has no caller.

Downgrading recreates the function exactly as migration 0006 defined it. Nothing on SQLite.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "intake_report(jsonb, json, json, json, json, json, json)"


def _function_of_0006() -> str:
    # Migration files are not an importable package: load 0006 by its path, beside this file.
    path = Path(__file__).with_name("0006_intake_function.py")
    spec = importlib.util.spec_from_file_location("migration_0006_intake_function", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: str = module.FUNCTION
    return function


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function_of_0006())
