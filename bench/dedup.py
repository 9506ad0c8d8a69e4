"""Dedup lookup at scale: `coordinator.cases.dedup.nearest_open_case`, the query by which intake finds the
open case a report joins, with a million cases in the table, on PostgreSQL and on a SpatiaLite file.

    .venv/bin/python bench/dedup.py --database-url postgresql+psycopg://…/DB [--sqlite FILE] [--skip-sqlite]
        [--cases 1000000] [--lookups 2000]

Each database gets `--cases` synthetic cases (bench/synthetic_cases.py, the table bench/case_list.py
uses; inserted once, re-runs reuse them): DB must be disposable, and the SpatiaLite file is a temporary
one unless --sqlite names a file (which is then kept and reused). After that nothing is written.

For `--lookups` random points inside the member districts, each with a random category, it times in
one session, alternating, the dedup lookup and a baseline: the primary-key lookup of a random case, the
same kind of row through the same connection — one index probe plus what every statement costs (the
round trip, the driver, SQLAlchemy) on this machine at this moment. Prints median and p99 of both, the
ratio of the medians, the target of issue 5 (< 5 ms with 1e6 cases), and the plan of one lookup:
EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic_cases import CATEGORIES, fill_cases, member_points  # noqa: E402

TARGET_MS = 5.0  # issue 5: the dedup lookup with 1e6 cases in the table


def p99(values: list[float]) -> float:
    """The nearest-rank 99th percentile."""
    ordered = sorted(values)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def dedup_bench(url: str, lookups: int) -> None:
    """Time nearest_open_case against the primary-key baseline; print both and the lookup's plan."""
    from sqlalchemy import Table, bindparam, event, func, select, text
    from sqlalchemy.orm import Session

    from coordinator.cases.dedup import OPEN_DUPLICATES, nearest_open_case
    from coordinator.cases.models import Case
    from coordinator.cases.reference import load_reference
    from coordinator.db import make_engine

    engine = make_engine(url)
    backend = engine.url.get_backend_name()
    cases = Case.__table__
    assert isinstance(cases, Table)
    # The baseline returns what the lookup returns (OPEN_DUPLICATES' case columns), found by primary key.
    by_id = select(*(cases.c[c.name] for c in OPEN_DUPLICATES.selected_columns if c.name in cases.c)).where(
        cases.c.id == bindparam("id")
    )
    rng = random.Random(5)
    points = member_points(lookups + 50, seed=17)
    now = datetime.now(UTC)
    dedup_ms: list[float] = []
    base_ms: list[float] = []
    hits = 0
    with Session(engine) as session:
        reference = load_reference(session)
        categories = [reference.category(code) for code in CATEGORIES]
        low, high = session.execute(select(func.min(cases.c.id), func.max(cases.c.id))).one()
        total = session.scalar(select(func.count()).select_from(cases))
        conn = session.connection()
        for i, (lon, lat) in enumerate(points):
            category, case_id = rng.choice(categories), rng.randint(low, high)
            started = time.perf_counter()
            found, _distance = nearest_open_case(session, category, lon, lat, now=now)
            middle = time.perf_counter()
            conn.execute(by_id, {"id": case_id}).all()
            ended = time.perf_counter()
            if i >= 50:  # the first 50 warm caches and the driver's prepared statements
                dedup_ms.append((middle - started) * 1000)
                base_ms.append((ended - middle) * 1000)
                hits += found is not None

        captured: list[tuple[str, Any]] = []

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        nearest_open_case(session, categories[0], 121.35, 30.85, now=now)
        event.remove(engine, "before_cursor_execute", capture)
        statement, parameters = captured[-1]
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
        plan = session.connection().exec_driver_sql(explain + statement, parameters).all()
        if backend == "postgresql":
            versions = session.execute(text("SELECT version(), postgis_lib_version()")).one()
            server = f"{versions[0].split(' on ')[0]}, PostGIS {versions[1]}"
        else:
            versions = session.execute(text("SELECT sqlite_version(), spatialite_version()")).one()
            server = f"SQLite {versions[0]}, SpatiaLite {versions[1]}"
    engine.dispose()
    dedup, base = statistics.median(dedup_ms), statistics.median(base_ms)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\n{server}: {total:,} cases; {len(dedup_ms):,} lookups at random member-district points "
          f"(load average {load})")  # fmt: skip
    for label, values, note in (
        ("nearest_open_case", dedup_ms, f"{hits} found a case"),
        ("primary-key lookup", base_ms, "baseline"),
    ):
        print(
            f"  {label:<20} median {statistics.median(values):7.3f} ms   p99 {p99(values):7.3f} ms   ({note})"
        )
    verdicts = ", ".join(
        f"{name} {'met' if value < TARGET_MS else 'NOT met'}"
        for name, value in (("median", dedup), ("p99", p99(dedup_ms)))
    )
    print(f"  dedup/baseline (medians) {dedup / base:.2f}; target < {TARGET_MS:g} ms: {verdicts}")
    print(f"  plan ({explain.strip()}):")
    for row in plan:
        print("    " + str(row[-1]))  # PostgreSQL: the plan's line; SQLite: the `detail` column


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="a disposable PostgreSQL database (postgresql+psycopg://…)")
    parser.add_argument("--sqlite", type=Path, help="SpatiaLite file to fill and keep (default: temporary)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--cases", type=int, default=1_000_000, help="synthetic cases to have in the table")
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the SpatiaLite file is --sqlite)")
    if not args.database_url and args.skip_sqlite:
        parser.error("nothing to measure: give --database-url or drop --skip-sqlite")
    print(f"machine: {os.cpu_count()} CPUs; Python {platform.python_version()}", flush=True)
    if args.database_url:
        fill_cases(args.database_url, args.cases)
        dedup_bench(args.database_url, args.lookups)
    if args.skip_sqlite:
        return
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        url = f"sqlite:///{(args.sqlite or Path(tmp) / 'dedup.db').resolve()}"
        fill_cases(url, args.cases)
        dedup_bench(url, args.lookups)


if __name__ == "__main__":
    main()
