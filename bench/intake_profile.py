"""In-process intake profile: N reports through `app.test_client()`, statements per report, ms per report.

    DATABASE_URL=… .venv/bin/python bench/intake_profile.py [--reports 100] [--profile FILE]

DATABASE_URL must name a migrated, seeded, disposable database (`flask --app wsgi db upgrade` and
`flask --app wsgi seed demo --reports 0`); a reporter user and token are added, and the reports stay.
One client, no concurrency: this is the per-request cost, not throughput (bench/intake.py measures that).
Prints statements per report (every cursor execution; commits are not statements), wall time per
report and the CPU time of this process and of the local PostgreSQL.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import CATEGORIES, postgres_cpu_seconds  # noqa: E402
from bench.synthetic_cases import member_points  # noqa: E402


def main() -> None:
    """Post the reports, print statements/report and ms/report (median, p90), optionally a profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--profile", help="write cProfile stats here and print the top entries")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the random points (default: a new one per run, so that the reports open new cases "
        "instead of merging into the cases of an earlier run at the same points)",
    )
    args = parser.parse_args()

    from sqlalchemy import event

    from coordinator import create_app
    from coordinator.auth import services as auth
    from coordinator.db import session_scope
    from coordinator.extensions import get_engine, get_sessionmaker

    app = create_app({"database_url": os.environ["DATABASE_URL"]})
    with app.app_context(), session_scope(get_sessionmaker(app)) as session:
        user = auth.create_user(session, username=f"prof_{secrets.token_hex(4)}", role="reporter")
        _, token = auth.issue_token(session, user, ttl_days=1, label="bench/intake_profile.py")
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(get_engine(app), "after_cursor_execute", count)
    client = app.test_client()
    seed = random.randrange(1 << 30) if args.seed is None else args.seed
    rng = random.Random(seed)
    points = member_points(args.reports * 2, seed=seed)
    headers = {"Authorization": f"Bearer {token}"}

    merged: list[bool] = []

    def post(i: int) -> float:
        lon, lat = points[i]
        body = {"category": rng.choice(CATEGORIES), "lon": lon, "lat": lat, "source": "grid_worker"}
        started = time.perf_counter()
        response = client.post(
            "/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": secrets.token_hex(8)}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.get_data(as_text=True)
        merged.append(bool(response.get_json()["merged"]))
        return elapsed * 1000

    for i in range(5):  # warm up: locator, caches, connection pool
        post(args.reports + i)
    statements = 0
    cpu_before, db_before = time.process_time(), postgres_cpu_seconds()
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    if profiler:
        profiler.enable()
    times = [post(i) for i in range(args.reports)]
    cpu_ms = (time.process_time() - cpu_before) * 1000 / args.reports
    db_ms = (postgres_cpu_seconds() - db_before) * 1000 / args.reports
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    times.sort()
    print(
        f"{args.reports} reports (seed {seed}, {sum(merged[-args.reports :])} merged into an earlier case): "
        f"{statements / args.reports:.1f} statements/report, "
        f"median {statistics.median(times):.2f} ms, p90 {times[int(len(times) * 0.9)]:.2f} ms, "
        f"mean {statistics.fmean(times):.2f} ms; CPU per report: this process {cpu_ms:.2f} ms, "
        f"postgres processes {db_ms:.2f} ms (0 on SQLite)"
    )


if __name__ == "__main__":
    main()
