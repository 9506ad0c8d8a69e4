"""Case list by map box: `GET /api/v1/cases?bbox=…`'s query with a million cases as the service runs it
(on PostgreSQL through the GiST index, `coordinator.cases.queries.bbox_condition`) and, as the baseline
in the same run, as the plain `lon`/`lat` range test it was before (still SQLite's: there both are the
same query).

    .venv/bin/python bench/case_list.py --database-url URL [--boxes 20] [--cases 1000000]

URL names a disposable database: it is migrated and seeded through the service's CLI (`flask --app wsgi
db upgrade`, `seed reference`) and gets `--cases` synthetic cases (bench/synthetic_cases.py, the same
table bench/dedup.py uses) unless they are there already; re-runs reuse them. After that nothing is
written. For each box size — about 1 km, about 10 km (a stretch of border), the whole member area — it times
`coordinator.cases.queries.list_cases` (count + first page of 50, newest first) over `--boxes` random
boxes, with and without a status filter, and the baseline query; medians, and the ratio baseline/service.
Then the plan of the count for one 10 km box.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic_cases import MEMBER_BBOX, fill_cases  # noqa: E402

SIZES = (("~1 km", 0.01), ("~10 km", 0.1), ("whole area", None))


def main() -> None:
    """Time the box queries and print medians, ratios and a plan."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--boxes", type=int, default=20)
    parser.add_argument("--cases", type=int, default=1_000_000, help="synthetic cases to have in the table")
    args = parser.parse_args()
    fill_cases(args.database_url, args.cases)

    from sqlalchemy import func, select, text
    from sqlalchemy.orm import sessionmaker

    from coordinator.cases import queries
    from coordinator.cases.models import Case
    from coordinator.db import make_engine
    from coordinator.geojson import Bbox

    engine = make_engine(args.database_url)
    factory = sessionmaker(engine)
    rng = random.Random(5)
    x0, y0, x1, y1 = MEMBER_BBOX

    def boxes(size: float | None) -> list[tuple[float, float, float, float]]:
        if size is None:
            return [MEMBER_BBOX] * args.boxes
        out = []
        for _ in range(args.boxes):
            x, y = rng.uniform(x0, x1 - size), rng.uniform(y0, y1 - size)
            out.append((x, y, x + size, y + size))
        return out

    def with_index(box: tuple[float, float, float, float], status: list[str]) -> int:
        with factory() as session:
            flt = queries.CaseFilter(bbox=Bbox(*box), status=status)
            return queries.list_cases(session, flt, page=1, per_page=50)[1]

    def baseline(box: tuple[float, float, float, float], status: list[str]) -> int:
        # The filter before the spatial index: lon/lat ranges only (same count + first page).
        with factory() as session:
            stmt = select(Case).where(Case.lon.between(box[0], box[2]), Case.lat.between(box[1], box[3]))
            if status:
                stmt = stmt.where(Case.status.in_(status))
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            session.scalars(stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(50)).all()
            return total

    def timed(fn: object, box: tuple[float, float, float, float], status: list[str]) -> tuple[float, int]:
        started = time.perf_counter()
        total = fn(box, status)  # type: ignore[operator]
        return (time.perf_counter() - started) * 1000, total

    with factory() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
    print(
        f"{engine.dialect.name}: {cases:,} cases; {args.boxes} boxes per size; medians of count + page 1 (50)"
    )
    for label, size in SIZES:
        for status in ([], ["routed", "claimed", "in_progress"]):
            sample = boxes(size)
            for box in sample[:3]:  # warm caches (and psycopg's prepared statements) for both
                timed(with_index, box, status), timed(baseline, box, status)
            index_ms, base_ms, totals = [], [], []
            for box in sample:  # alternate, so that both see the same machine
                ms, total = timed(with_index, box, status)
                index_ms.append(ms)
                totals.append(total)
                ms, base_total = timed(baseline, box, status)
                base_ms.append(ms)
                assert base_total == total, (box, base_total, total)
            index, base = statistics.median(index_ms), statistics.median(base_ms)
            print(
                f"  {label:<10} {'open only' if status else 'any status':<10} "
                f"matches ~{statistics.median(totals):>9,.0f}   service {index:8.2f} ms   "
                f"lon/lat scan {base:8.2f} ms   ratio {base / index:5.1f}x"
            )

    x, y = (x0 + x1) / 2, (y0 + y1) / 2
    with factory() as session:
        stmt = select(func.count()).select_from(
            select(Case).where(queries.bbox_condition(session, Bbox(x, y, x + 0.1, y + 0.1))).subquery()
        )
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        print("plan of the count for one ~10 km box:")
        for row in session.execute(text(explain + sql)).all():
            print("   ", " ".join(str(v) for v in row))


if __name__ == "__main__":
    main()
