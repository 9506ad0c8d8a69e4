"""Benchmark the point locator against the naive loop and PostGIS, in one run, on the shipped data.

    .venv/bin/python bench/geolocate.py [--postgis-url postgresql+psycopg://…] [--seed 1]

Prints points/second for
  (a) single-point locator calls (district + zone flag), and full answers with distances,
  (b) the batch form on 1e6 random points in Shanghai's bounding box (--batch; fewer for a smoke run),
  (c) a naive loop of `polygon.contains(Point)` over the 16 districts,
  (d) one PostGIS `ST_Contains` query per point through the ORM (with --postgis-url),
and the ratios against the baselines measured in the same run. Targets (issue 3): a ≥ 10× c,
a ≥ 50× d, b ≥ 1,000,000 points/s and ≥ 40× c. Machines here are shared: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

# One core: keep numeric libraries from spreading over the machine's cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import shapely
from shapely.geometry import Point

from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path
from geo.locator import AreaInfo, Locator, input_from_districts

BBOX = (120.85, 30.66, 122.12, 31.88)  # lon/lat box around Shanghai incl. Chongming


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of `repeat` runs (the least disturbed by other load on a shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgis-url", default=os.environ.get("BENCH_POSTGIS_URL"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1_000_000)
    args = parser.parse_args()

    features = parse_features(read_boundary_file(shipped_districts_path()))
    districts = [(AreaInfo(f.code, f.name_zh, f.name_en, bool(f.member)), f.geometry) for f in features]
    started = time.perf_counter()
    locator = Locator(input_from_districts(districts))
    print(
        f"locator built in {time.perf_counter() - started:.2f} s "
        f"({len(locator.districts)} districts, {len(locator.zones)} member border zones)"
    )

    rng = np.random.default_rng(args.seed)
    lon = rng.uniform(BBOX[0], BBOX[2], args.batch)
    lat = rng.uniform(BBOX[1], BBOX[3], args.batch)

    # (a) single points, district + zone flag; and full answers (with distances) for reference
    # The sample sizes below are capped by --batch (a smaller batch must not inflate the rates).
    n_single = min(200_000, args.batch)
    xs, ys = lon[:n_single].tolist(), lat[:n_single].tolist()
    district_and_zone = locator.district_and_zone
    t_single = timed(lambda: [district_and_zone(x, y) for x, y in zip(xs, ys, strict=True)])
    n_full = min(20_000, args.batch)
    t_full = timed(lambda: [locator.locate(x, y) for x, y in zip(xs[:n_full], ys[:n_full], strict=True)], 1)

    # (b) batch
    t_batch = timed(lambda: locator.locate_many(lon, lat))

    # (c) naive loop over the 16 polygons
    # Fresh, unprepared copies: the locator prepared the originals in place (shapely.prepare).
    polygons = [shapely.from_wkb(shapely.to_wkb(geom)) for _, geom in districts]
    n_naive = min(20_000, args.batch)

    def naive() -> None:
        for x, y in zip(xs[:n_naive], ys[:n_naive], strict=True):
            p = Point(x, y)
            for poly in polygons:
                if poly.contains(p):
                    break

    t_naive = timed(naive, 1)

    # sanity: the fast paths agree with each other
    batch = locator.locate_many(lon[:n_full], lat[:n_full])
    single = [district_and_zone(x, y)[0] for x, y in zip(xs[:n_full], ys[:n_full], strict=True)]
    assert batch.district_index.tolist() == single, "batch and single-point answers differ"

    a, a_full = rate(n_single, t_single), rate(n_full, t_full)
    b, c = rate(len(lon), t_batch), rate(n_naive, t_naive)
    rows = [
        ("(a) single point, district + zone", a),
        ("(a') single point, full answer with distances", a_full),
        (f"(b) batch of {len(lon):,} points", b),
        ("(c) naive loop polygon.contains(Point) x16", c),
    ]
    d = None
    if args.postgis_url:
        d = bench_postgis(args.postgis_url, xs[:2000], ys[:2000])
        rows.append(("(d) PostGIS ST_Contains, one ORM query per point", d))

    print()
    for label, value in rows:
        print(f"  {label:<52} {value:>14,.0f} points/s")
    print()
    checks = [
        ("a / c (target >= 10)", a / c, 10),
        ("b / c (target >= 40)", b / c, 40),
        ("b points/s (target >= 1,000,000)", b, 1_000_000),
    ]
    if d is not None:
        checks.insert(1, ("a / d (target >= 50)", a / d, 50))
    failed = False
    for label, value, target in checks:
        ok = value >= target
        failed |= not ok
        print(f"  {label:<36} {value:>14,.1f}  {'ok' if ok else 'BELOW TARGET'}")
    return 1 if failed else 0


def bench_postgis(url: str, xs: list[float], ys: list[float]) -> float:
    """One `ST_Contains` query per point through the ORM against a migrated, seeded PostGIS."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from coordinator import migrate
    from coordinator.boundaries.models import AdminArea
    from coordinator.boundaries.services import seed_shipped_boundaries
    from coordinator.db import make_engine

    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_shipped_boundaries(session)
        session.commit()

        def query_all() -> None:
            for x, y in zip(xs, ys, strict=True):
                point = func.ST_SetSRID(func.ST_MakePoint(x, y), 4326)
                session.execute(
                    select(AdminArea.code)
                    .where(AdminArea.valid_to.is_(None), AdminArea.level == "district")
                    .where(func.ST_Contains(AdminArea.geom, point))
                    .limit(1)
                ).scalar_one_or_none()

        query_all()  # warm caches
        seconds = timed(query_all, 1)
    engine.dispose()
    return rate(len(xs), seconds)


if __name__ == "__main__":
    raise SystemExit(main())
