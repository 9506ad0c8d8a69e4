"""The committee's review at 1e5 and 1e6 cases, on PostGIS and SpatiaLite: one month grouped by border
pair (target < 300 ms at 1e6 cases), printed beside a plain COUNT(*) over the same rows measured in the
same run, plus the other groupings for reference.

    .venv/bin/python bench/review.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        [--sqlite FILE] [--sizes 100000,1000000] [--rounds 7] [--skip-sqlite]

DB must be an existing, disposable PostgreSQL database: it is migrated, seeded with the reference
data and filled with synthetic cases (numbers `REV-…`, marked synthetic; a later run with the same
size re-uses them, another size replaces them) spread evenly over the 365 days before 2026-11-01 and
written in the order they were opened, as the service writes them, so October 2026 holds about 1/12
of them. 60 % lie in a border zone of one of the four member pairs; statuses, claim/close times and
their working hours, escalations and deadlines are drawn so every figure has work to do. The
SpatiaLite file (temporary unless --sqlite) gets the same rows. For each size it times
`coordinator.review.services.review` (one statement: counts and each group's durations) and the
baseline `SELECT count(*) FROM case_file WHERE created_at in the month` — medians of --rounds runs after one
warm-up, alternating the two — and prints the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAIRS = (("310116", "310120"), ("310115", "310120"), ("310117", "310120"), ("310116", "310117"))
DISTRICTS = ("310115", "310116", "310117", "310120")
CATEGORIES = ("01-01", "01-10", "01-11", "01-51", "05-51", "05-52")
STATUSES = (
    ("closed", 60),
    ("routed", 8),
    ("claimed", 6),
    ("in_progress", 8),
    ("resolved", 6),
    ("verified", 4),
    ("void", 8),
)
END = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8)  # 2026-11-01 00:00 Shanghai
BATCH = 10_000
GROUPINGS = ("border_pair", "district", "category", "week", "squad", "source")


def rows(total: int, queue_unit_id: int, seed: int = 16) -> Iterator[list[dict[str, Any]]]:
    """`total` synthetic case rows spread evenly over the year before END, oldest first, in batches."""
    batch: list[dict[str, Any]] = []
    weights = [w for _, w in STATUSES]
    names = [s for s, _ in STATUSES]
    for i in range(total):
        rng = random.Random(seed * 1_000_003 + i)
        # Cases are written when they are opened: row order follows created_at, as in production.
        created = END - timedelta(days=365) + timedelta(seconds=(i + rng.random()) * 365 * 86400 / total)
        joint = rng.random() < 0.6
        pair = rng.choice(PAIRS) if joint else None
        district = rng.choice(pair) if pair else rng.choice(DISTRICTS)
        lon, lat = rng.uniform(121.0, 121.98), rng.uniform(30.68, 31.25)
        status = rng.choices(names, weights)[0]
        claim_by = created + timedelta(hours=rng.uniform(2, 30))
        resolve_by = created + timedelta(hours=rng.uniform(24, 120))
        claimed = status not in ("routed", "void") or rng.random() < 0.2
        claimed_at = (
            created + timedelta(hours=rng.expovariate(1 / 6)) if claimed and status != "routed" else None
        )
        finished = status in ("resolved", "verified", "closed")
        resolved_at = created + timedelta(hours=rng.uniform(4, 150)) if finished else None
        closed_at = (
            resolved_at + timedelta(hours=rng.uniform(1, 48)) if status == "closed" and resolved_at else None
        )
        batch.append(
            {
                "number": f"REV-{i:09d}",
                "status": status,
                "category_code": rng.choice(CATEGORIES),
                "lon": lon,
                "lat": lat,
                "geom": f"SRID=4326;POINT({lon:.7f} {lat:.7f})",
                "district_code": district,
                "outcome": "member",
                "in_border_zone": joint,
                "border_pair_a": pair[0] if pair else None,
                "border_pair_b": pair[1] if pair else None,
                "queue_unit_id": queue_unit_id,
                "routing": {"rule": "synthetic", "reason": "bench/review.py"},
                "report_count": 1 + int(rng.expovariate(1.5)),
                "claim_by": claim_by,
                "resolve_by": resolve_by,
                "claimed_at": claimed_at,
                "claim_work_h": None
                if claimed_at is None
                else round((claimed_at - created).total_seconds() / 3600 / 3, 2),
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "close_work_h": None
                if closed_at is None
                else round((closed_at - created).total_seconds() / 3600 / 3, 2),
                "escalated_at": claim_by if claimed_at is None or claimed_at > claim_by else None,
                "created_at": created,
                "updated_at": created,
                "last_report_at": created,
                "synthetic": True,
            }
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def prepare(url: str) -> None:
    """Migrate and load the reference data (districts, dispatch desks, categories)."""
    from sqlalchemy.orm import sessionmaker

    from coordinator import migrate
    from coordinator.db import make_engine, session_scope
    from coordinator.demo import seed_reference

    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        seed_reference(session, snap_m=20.0)
    engine.dispose()


def fill(url: str, n: int) -> None:
    """Exactly n synthetic cases over the year (re-runs with the same n reuse them; another n replaces
    them, so each size's month holds n/12 rows in creation order)."""
    from sqlalchemy import delete, func, insert, select, text
    from sqlalchemy.orm import sessionmaker

    from coordinator.cases.models import Case
    from coordinator.db import make_engine, session_scope
    from coordinator.squads.models import DispatchUnit

    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        have = session.scalar(select(func.count()).select_from(Case).where(Case.number.like("REV-%"))) or 0
        unit = session.scalars(select(DispatchUnit.id).where(DispatchUnit.level == "alliance")).one()
    if have != n:
        started = time.perf_counter()
        if have:
            with engine.begin() as conn:
                conn.execute(delete(Case).where(Case.number.like("REV-%")))
        for batch in rows(n, unit):
            with engine.begin() as conn:
                conn.execute(insert(Case), batch)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"  inserted {n:,} cases in {time.perf_counter() - started:.0f} s (+ ANALYZE)")
    engine.dispose()


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def measure(url: str, rounds: int) -> None:
    """Time the review of October 2026 by border pair against COUNT(*) over the same rows."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import sessionmaker

    from coordinator.cases.models import Case
    from coordinator.db import make_engine
    from coordinator.review import services

    engine = make_engine(url)
    factory = sessionmaker(engine)
    period = services.Period.month(2026, 10)
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)

    def review(group_by: str) -> int:
        with factory() as session:
            return services.review(session, period, group_by, now=now).total.new

    def baseline() -> int:
        with factory() as session:
            stmt = (
                select(func.count())
                .select_from(Case)
                .where(Case.created_at >= period.start, Case.created_at < period.end)
            )
            return int(session.scalar(stmt) or 0)

    def timed(fn: Any, *args: Any) -> tuple[float, int]:
        started = time.perf_counter()
        value = fn(*args)
        return (time.perf_counter() - started) * 1000, value

    with factory() as session:
        total = session.scalar(select(func.count()).select_from(Case)) or 0
    timed(review, "border_pair"), timed(baseline)  # warm caches
    review_ms, base_ms = [], []
    for _ in range(rounds):
        ms, in_month = timed(review, "border_pair")
        review_ms.append(ms)
        ms, counted = timed(baseline)
        base_ms.append(ms)
        assert in_month == counted, (in_month, counted)
    r, b = statistics.median(review_ms), statistics.median(base_ms)
    verdict = "ok" if r < 300 else "ABOVE TARGET"
    print(
        f"  {engine.dialect.name:<10} {total:>9,} cases, {counted:,} in 2026-10: review by border pair "
        f"{r:8.1f} ms (target < 300: {verdict})   COUNT(*) {b:7.1f} ms   review/count {r / b:5.1f}x"
    )
    others = []
    for group_by in GROUPINGS[1:]:
        timed(review, group_by)
        others.append(f"{group_by} {statistics.median(timed(review, group_by)[0] for _ in range(3)):.0f} ms")
    print("             other groupings (median of 3): " + ", ".join(others))
    engine.dispose()


def main() -> None:
    """Fill, then measure at each size on each backend."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="a disposable PostgreSQL database")
    parser.add_argument("--sqlite", type=Path, default=None, help="SpatiaLite file (default: temporary)")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        urls = [args.database_url]
        if not args.skip_sqlite:
            urls.append(f"sqlite:///{args.sqlite or Path(tmp) / 'review.db'}")
        for url in urls:
            prepare(url)
        for size in sizes:
            print(f"{size:,} cases:")
            for url in urls:
                fill(url, size)
                measure(url, args.rounds)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
