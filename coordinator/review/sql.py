"""The review's one SQL expression that differs between PostgreSQL and SQLite: the local week.

`local_week_start(ts)` is a SQLAlchemy construct compiled per dialect, so the services build one
statement for both databases and never look at the dialect themselves. It belongs with the other
dialect differences (coordinator/dialects.py once that module exists).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class local_week_start(FunctionElement[str]):
    """The Monday (Asia/Shanghai) of the week a stored timestamp falls in, as `YYYY-MM-DD` text.

    SQLite stores UTC without an offset and has no time zones: it adds 8 hours, which is Shanghai's
    offset for every date since 1991 (China has kept no daylight saving time since).
    """

    type = String()
    name = "local_week_start"
    inherit_cache = True


@compiles(local_week_start, "postgresql")
def _week_postgresql(element: local_week_start, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', ({column}) AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"


@compiles(local_week_start, "sqlite")
def _week_sqlite(element: local_week_start, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is its Monday.
    return f"date({column}, '+8 hours', 'weekday 0', '-6 days')"
