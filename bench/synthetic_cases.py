"""A million synthetic cases for the benchmarks that need a full table (bench/case_list.py, bench/dedup.py).

`fill_cases(url, n)` migrates and seeds the database at `url` through the service's CLI (`flask --app wsgi
db upgrade`, `seed reference`) and inserts synthetic cases until it holds `n`: uniform points over the
member districts' bounding box, six categories, every status, created over the last 90 days, numbers
`SYN-…` and marked `synthetic`. The rows are the same for every run (seeded), so re-runs reuse them and
PostgreSQL and SpatiaLite get the same table.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

MEMBER_BBOX = (121.0, 30.68, 121.98, 31.25)  # covers 奉贤, 金山, 松江 and 浦东's southern part
CATEGORIES = ("01-01", "01-10", "01-11", "01-51", "05-51", "05-52")
STATUSES = ("routed", "claimed", "in_progress", "resolved", "closed", "closed", "closed", "void")


def synthetic_rows(n: int, queue_unit_id: int, seed: int = 11) -> Iterator[list[dict[str, Any]]]:
    """Batches of synthetic case rows (dicts for an executemany insert)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    x0, y0, x1, y1 = MEMBER_BBOX
    for i in range(n):
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        at = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        batch.append(
            {
                "number": f"SYN-{i:09d}",
                "status": rng.choice(STATUSES),
                "category_code": rng.choice(CATEGORIES),
                "lon": lon,
                "lat": lat,
                "geom": f"SRID=4326;POINT({lon:.7f} {lat:.7f})",
                "outcome": "member",
                "in_border_zone": False,
                "queue_unit_id": queue_unit_id,
                "routing": {"rule": "synthetic", "reason": "bench/synthetic_cases.py"},
                "report_count": 1,
                "created_at": at,
                "updated_at": at,
                "last_report_at": at,
                "synthetic": True,
            }
        )
        if len(batch) == 10_000:
            yield batch
            batch = []
    if batch:
        yield batch


def fill_cases(url: str, n: int) -> None:
    """Migrate and seed the database, then insert n synthetic cases unless they are already there."""
    from sqlalchemy import func, insert, select, text
    from sqlalchemy.orm import sessionmaker

    from coordinator.cases.models import Case
    from coordinator.db import make_engine, session_scope
    from coordinator.squads.models import DispatchUnit

    env = {**os.environ, "DATABASE_URL": url}
    for args in (["db", "upgrade"], ["seed", "reference"]):
        flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *args]
        subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        have = session.scalar(select(func.count()).select_from(Case).where(Case.number.like("SYN-%"))) or 0
        unit = session.scalars(select(DispatchUnit.id).where(DispatchUnit.level == "alliance")).one()
    backend = engine.url.get_backend_name()
    if have >= n:
        print(f"{backend}: {have:,} synthetic cases already there; reusing them", flush=True)
        engine.dispose()
        return
    print(f"{backend}: inserting {n - have:,} synthetic cases (minutes for a million)", flush=True)
    started = time.perf_counter()
    for batch in synthetic_rows(n, unit):
        if batch[0]["number"] < f"SYN-{have:09d}":
            continue
        with engine.begin() as conn:
            conn.execute(insert(Case), batch)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    took = time.perf_counter() - started
    print(f"{backend}: inserted {n - have:,} synthetic cases in {took:.0f} s (+ ANALYZE)", flush=True)
    engine.dispose()


def member_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Uniform random WGS-84 points inside the four member districts (shipped boundaries): reports the
    service takes (a point of MEMBER_BBOX may lie outside them, which is 422 outside_service_area)."""
    from shapely import contains_xy
    from shapely.ops import unary_union

    from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path

    features = parse_features(read_boundary_file(shipped_districts_path()))
    members = unary_union([f.geometry for f in features if f.member])
    x0, y0, x1, y1 = members.bounds
    rng = random.Random(seed)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if contains_xy(members, x, y):
            out.append((x, y))
    return out
