"""The case map's count table (case_map_cell): cases per zoom-13 grid cell × status, kept by triggers on
case_file in the writing transaction, and filled from the cases already there.

Why triggers and not the intake path: cases change cell, status, category or pair in many places (intake,
the lifecycle's conditional UPDATEs, reopen and void, the bulk import, retention deletes, scripts); a
trigger sees every one of them in the same transaction, so the table equals a recount by construction.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# coordinator.casemap.models.FINE_CELL_DEG: 360 / 2^15, exact in binary.
CELL = "0.010986328125"
KEY = ("cell_y", "cell_x", "status")
WATCHED = ("status", "lon", "lat")


def _values(row: str, dialect: str) -> dict[str, str]:
    """The table's key and sums for the case `row` (NEW, OLD or case_file) as SQL expressions.

    The cell index is floor((lon + 180) / CELL): PostgreSQL's cast to integer rounds, so floor first;
    SQLite's truncates, which is floor for the non-negative values here.
    """

    def index(column: str, offset: str) -> str:
        if dialect == "postgresql":
            return f"CAST(floor(({row}.{column} + {offset}) / {CELL}) AS integer)"
        return f"CAST(({row}.{column} + {offset}) / {CELL} AS INTEGER)"

    return {
        "cell_y": index("lat", "90.0"),
        "cell_x": index("lon", "180.0"),
        "status": f"{row}.status",
    }


# The SQL below is put together from this module's constants only (S608 does not apply).


def _add(row: str, dialect: str) -> str:
    values = _values(row, dialect)
    return (
        f"INSERT INTO case_map_cell ({', '.join(KEY)}, count, lon_sum, lat_sum) "  # noqa: S608
        f"VALUES ({', '.join(values[k] for k in KEY)}, 1, {row}.lon, {row}.lat) "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET count = case_map_cell.count + 1, "
        "lon_sum = case_map_cell.lon_sum + excluded.lon_sum, "
        "lat_sum = case_map_cell.lat_sum + excluded.lat_sum;"
    )


def _remove(row: str, dialect: str) -> str:
    values = _values(row, dialect)
    where = " AND ".join(f"{k} = {values[k]}" for k in KEY)
    return (
        f"UPDATE case_map_cell SET count = count - 1, lon_sum = lon_sum - {row}.lon, "  # noqa: S608
        f"lat_sum = lat_sum - {row}.lat WHERE {where}; "
        f"DELETE FROM case_map_cell WHERE {where} AND count = 0;"
    )


def _changed() -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)


def _triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION case_map_cell_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove('OLD', dialect)} END IF; "
            f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('NEW', dialect)} END IF; "
            "RETURN NULL; END $$"
        )
        for name, when in (
            ("insert", "AFTER INSERT"),
            ("delete", "AFTER DELETE"),
            ("update", f"AFTER UPDATE OF {', '.join(WATCHED)}"),
        ):
            condition = f" WHEN ({_changed()})" if name == "update" else ""
            op.execute(
                f"CREATE TRIGGER case_map_cell_{name} {when} ON case_file FOR EACH ROW{condition} "
                "EXECUTE FUNCTION case_map_cell_count()"
            )
        return
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    op.execute(
        f"CREATE TRIGGER case_map_cell_insert AFTER INSERT ON case_file BEGIN {_add('NEW', dialect)} END"
    )
    op.execute(
        f"CREATE TRIGGER case_map_cell_delete AFTER DELETE ON case_file BEGIN {_remove('OLD', dialect)} END"
    )
    op.execute(
        f"CREATE TRIGGER case_map_cell_update AFTER UPDATE OF {', '.join(WATCHED)} ON case_file "
        f"WHEN {changed} BEGIN {_remove('OLD', dialect)} {_add('NEW', dialect)} END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "case_map_cell",
        sa.Column("cell_y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("lon_sum", sa.Float(), nullable=False),
        sa.Column("lat_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_case_map_cell")),
    )
    values = _values("case_file", dialect)
    op.execute(
        f"INSERT INTO case_map_cell ({', '.join(KEY)}, count, lon_sum, lat_sum) "  # noqa: S608
        f"SELECT {', '.join(KEY)}, count(*), sum(lon), sum(lat) FROM "
        f"(SELECT {', '.join(f'{values[k]} AS {k}' for k in KEY)}, lon, lat FROM case_file) AS cells "
        f"GROUP BY {', '.join(KEY)}"
    )
    _triggers(dialect)
    op.execute("ANALYZE case_map_cell")  # planner statistics now, not at autovacuum's next visit


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in ("insert", "delete", "update"):
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS case_map_cell_{name} ON case_file")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS case_map_cell_{name}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS case_map_cell_count()")
    op.drop_table("case_map_cell")
