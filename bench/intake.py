"""Intake benchmark: POST /api/v1/reports vs a trivial endpoint under gunicorn, and the dedup lookup with
a million cases, on PostGIS (and the lookup on SpatiaLite too).

    .venv/bin/python bench/intake.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        [--seconds 8] [--rounds 3] [--cases 1000000] [--lookups 2000] [--sqlite FILE] [--skip-sqlite]

DB must be an existing, disposable PostgreSQL database: it is migrated, seeded (reference data + demo
territory) and gets a reporter user, the reports the run posts, and 1e6 synthetic cases (marked
`synthetic`, numbers `SYN-…`; inserted once, re-used by later runs). Everything listens on 127.0.0.1.

1. HTTP: gunicorn (2 sync workers) on the DB; wrk -c4 alternates rounds of `GET /livez` and
   `POST /api/v1/reports` (random points inside the member districts, random categories, a distinct
   Idempotency-Key per request). Prints req/s, p50/p99, the ratio (target >= 0.20) and p99 <= 25 ms,
   and the CPU time per request of the gunicorn processes and of the local PostgreSQL's processes
   (where the time goes; the host's other load is not in it).
2. Dedup: times `coordinator.cases.dedup.nearest_open_case` (median, p99 over --lookups random points)
   with the 1e6 cases in the table (target < 5 ms) and prints the query's plan — EXPLAIN ANALYZE on
   PostgreSQL, EXPLAIN QUERY PLAN on a SpatiaLite file holding the same kind of 1e6 rows (a temporary
   file unless --sqlite is given). On PostgreSQL it also times whole intakes against that table
   (`submit_report` and its commit, as the API runs it); those reports stay, marked synthetic.
Needs `wrk` (Debian: apt-get install wrk; `scripts/install-system-deps.sh --bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_geolocate import free_port, run_wrk, wait_ready  # noqa: E402

CATEGORIES = ("01-01", "01-10", "01-11", "01-51", "05-51", "05-52")
MEMBER_BBOX = (121.0, 30.68, 121.98, 31.25)  # covers 奉贤, 金山, 松江 and 浦东's southern part
STATUSES = ("routed", "claimed", "in_progress", "resolved", "closed", "closed", "closed", "void")

LUA = """
local points = {%(points)s}
local cats = {%(cats)s}
local counter = 0
local nthreads = 0
setup = function(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
init = function(args)
  math.randomseed(%(seed)d + tid)
end
request = function()
  counter = counter + 1
  local p = points[math.random(#points)]
  local body = string.format(
    '{"category":"%%s","lon":%%.6f,"lat":%%.6f,"source":"grid_worker","description":"bench"}',
    cats[math.random(#cats)], p[1], p[2])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s",
    ["Idempotency-Key"] = "%(nonce)s-" .. tid .. "-" .. counter,
  }
  return wrk.format("POST", "/api/v1/reports", headers, body)
end
"""


def member_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Uniform random WGS-84 points inside the four member districts (shipped boundaries)."""
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


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (Linux /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    total = 0
    for each in pids:
        try:
            parts = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def postgres_cpu_seconds() -> float:
    """User + system CPU of every local `postgres` process so far (Linux /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
            if not head.endswith("(postgres"):
                continue
            parts = rest.split()
            total += int(parts[11]) + int(parts[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def prepare(url: str) -> str:
    """Migrate and seed the database; return a fresh reporter's API token."""
    from sqlalchemy.orm import sessionmaker

    from coordinator import migrate
    from coordinator.auth import services as auth
    from coordinator.db import make_engine, session_scope
    from coordinator.demo import seed_reference
    from coordinator.squads.services import seed_demo_territory

    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        seed_reference(session, snap_m=20.0)
        seed_demo_territory(session)
        user = auth.create_user(session, username=f"bench_{secrets.token_hex(4)}", role="reporter")
        _, token = auth.issue_token(session, user, ttl_days=1, label="bench/intake.py")
    engine.dispose()
    return token


def http_bench(url: str, token: str, args: argparse.Namespace, tmp: Path) -> bool:
    points = member_points(20_000)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
         str(args.workers), "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip

    def script(nonce: str) -> Path:
        path = tmp / f"intake-{nonce}.lua"
        path.write_text(
            LUA
            % {
                "points": ",".join(f"{{{x:.6f},{y:.6f}}}" for x, y in points),
                "cats": ",".join(f'"{c}"' for c in CATEGORIES),
                "seed": random.randrange(1 << 30),
                "token": token,
                "nonce": nonce,
            }
        )
        return path

    results: dict[str, list[float]] = {"trivial": [], "intake": []}
    latency: dict[str, list[dict[str, float]]] = {"trivial": [], "intake": []}
    # CPU per request of the gunicorn processes and of the local PostgreSQL (all its processes).
    cpu: dict[str, list[tuple[float, float]]] = {"trivial": [], "intake": []}
    try:
        wait_ready(base)
        # Each worker builds its locator on its first intake (1-2 s): warm both before measuring.
        run_wrk(base + "/api/v1/reports", 8, args.connections, script(f"warm{secrets.token_hex(3)}"))
        for round_no in range(args.rounds):
            for name, path, lua in (
                ("trivial", "/livez", None),
                ("intake", "/api/v1/reports", script(f"r{round_no}{secrets.token_hex(3)}")),
            ):
                server_before, pg_before = process_cpu_seconds(server.pid), postgres_cpu_seconds()
                rps, lat = run_wrk(base + path, args.seconds, args.connections, lua)
                served = rps * args.seconds
                cpu[name].append(
                    (
                        (process_cpu_seconds(server.pid) - server_before) * 1000 / served,
                        (postgres_cpu_seconds() - pg_before) * 1000 / served,
                    )
                )
                results[name].append(rps)
                latency[name].append(lat)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)

    print(
        f"HTTP: gunicorn {args.workers} sync workers; wrk 2 threads, {args.connections} connections; "
        f"{args.rounds} alternating rounds of {args.seconds} s; medians:"
    )
    medians = {k: statistics.median(v) for k, v in results.items()}
    p99_intake = statistics.median(x.get("p99", float("nan")) for x in latency["intake"])
    for name, label in (("trivial", "GET /livez"), ("intake", "POST /api/v1/reports")):
        p50 = statistics.median(x.get("p50", float("nan")) for x in latency[name])
        p99 = statistics.median(x.get("p99", float("nan")) for x in latency[name])
        server_ms = statistics.median(c[0] for c in cpu[name])
        pg_ms = statistics.median(c[1] for c in cpu[name])
        print(
            f"  {label:<22} {medians[name]:>8,.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
            f"(rounds: {', '.join(f'{v:,.0f}' for v in results[name])})   "
            f"CPU/request: gunicorn {server_ms:.2f} ms, PostgreSQL {pg_ms:.2f} ms"
        )
    ratio = medians["intake"] / medians["trivial"]
    ok_ratio, ok_p99 = ratio >= 0.20, p99_intake <= 25.0
    print(f"  intake / trivial = {ratio:.3f}  (target >= 0.20) {'ok' if ok_ratio else 'BELOW TARGET'}")
    print(f"  intake p99 = {p99_intake:.2f} ms  (target <= 25 ms) {'ok' if ok_p99 else 'ABOVE TARGET'}")
    return ok_ratio and ok_p99


def synthetic_rows(n: int, queue_unit_id: int, seed: int = 11) -> Any:
    """Batches of 1e6-style synthetic case rows (dicts for an executemany insert)."""
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
                "routing": {"rule": "synthetic", "reason": "bench/intake.py"},
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
    """Insert n synthetic cases unless they are already there (re-runs reuse them)."""
    from sqlalchemy import func, insert, select, text
    from sqlalchemy.orm import sessionmaker

    from coordinator.cases.models import Case
    from coordinator.db import make_engine, session_scope
    from coordinator.squads.models import DispatchUnit

    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        have = session.scalar(select(func.count()).select_from(Case).where(Case.number.like("SYN-%"))) or 0
        unit = session.scalars(select(DispatchUnit.id).where(DispatchUnit.level == "alliance")).one()
    if have >= n:
        print(f"dedup: {have:,} synthetic cases already in {engine.url.get_backend_name()}; reusing them")
        engine.dispose()
        return
    started = time.perf_counter()
    for batch in synthetic_rows(n, unit):
        if batch[0]["number"] < f"SYN-{have:09d}":
            continue
        with engine.begin() as conn:
            conn.execute(insert(Case), batch)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    took = time.perf_counter() - started
    print(f"dedup: inserted {n - have:,} synthetic cases in {took:.0f} s (+ ANALYZE)")
    engine.dispose()


def dedup_bench(url: str, lookups: int) -> tuple[float, float]:
    """Time nearest_open_case at random points; print the plan of the query it sends."""
    from sqlalchemy import event, select, text
    from sqlalchemy.orm import Session

    from coordinator.cases.dedup import nearest_open_case
    from coordinator.cases.models import Category
    from coordinator.db import make_engine

    engine = make_engine(url)
    backend = engine.url.get_backend_name()
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM case_file" in statement:
            captured.append((statement, parameters))

    rng = random.Random(5)
    x0, y0, x1, y1 = MEMBER_BBOX
    timings: list[float] = []
    now = datetime.now(UTC)
    with Session(engine) as session:
        categories = list(session.scalars(select(Category).where(Category.code.in_(CATEGORIES))))
        for _ in range(50):  # warm the cache
            nearest_open_case(
                session, rng.choice(categories), rng.uniform(x0, x1), rng.uniform(y0, y1), now=now
            )
        hits = 0
        for _ in range(lookups):
            category, lon, lat = rng.choice(categories), rng.uniform(x0, x1), rng.uniform(y0, y1)
            started = time.perf_counter()
            case, _d = nearest_open_case(session, category, lon, lat, now=now)
            timings.append((time.perf_counter() - started) * 1000)
            hits += case is not None
            session.expunge_all()
        event.listen(engine, "after_cursor_execute", capture)
        nearest_open_case(session, categories[0], 121.35, 30.85, now=now)
        event.remove(engine, "after_cursor_execute", capture)
        statement, params = captured[-1]
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
        conn = session.connection()
        rows = conn.exec_driver_sql(explain + statement, params).all()
        total = session.execute(text("SELECT count(*) FROM case_file")).scalar_one()
    engine.dispose()
    timings.sort()
    median, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    label = "PostgreSQL/PostGIS" if backend == "postgresql" else "SQLite/SpatiaLite"
    print(
        f"dedup on {label}: {total:,} cases; nearest_open_case over {lookups} random points: "
        f"median {median:.3f} ms, p99 {p99:.3f} ms, {hits} hits  (target < 5 ms) "
        f"{'ok' if p99 < 5 else 'ABOVE TARGET'}"
    )
    print(f"  plan ({explain.strip()}):")
    for row in rows:
        print("    " + (row[0] if backend == "postgresql" else " | ".join(str(v) for v in row)))
    return median, p99


def intake_call_bench(url: str, calls: int) -> tuple[float, float]:
    """Time whole intakes at random member points with the 1e6 cases in the table: `submit_report` and
    its commit, one transaction per report as the API runs it (locks, lookups and writes). The reports
    stay (marked synthetic), like those the HTTP rounds post."""
    from sqlalchemy.orm import Session, sessionmaker

    from coordinator.cases import intake
    from coordinator.db import make_engine
    from coordinator.geolocation.services import LocatorCache
    from coordinator.refcache import INFO_KEY, ReferenceCache
    from coordinator.worktime import WorkCalendar

    engine = make_engine(url)
    locator = LocatorCache().get(sessionmaker(engine))
    points = member_points(calls + 50, seed=random.randrange(1 << 30))  # new points: mostly new cases
    rng = random.Random(17)
    calendar = WorkCalendar()
    timings: list[float] = []
    merged = 0
    # The app's sessions share a cache of the reference tables (categories, rules, squads): so here.
    with Session(engine, info={INFO_KEY: ReferenceCache()}) as session:
        for i, (lon, lat) in enumerate(points):
            external_id = f"bench-{secrets.token_hex(6)}"
            category = rng.choice(CATEGORIES)
            data = intake.ReportInput(
                category, lon, lat, source="hotline_12345", external_id=external_id, synthetic=True
            )
            started = time.perf_counter()
            result = intake.submit_report(session, locator, data, submitter=None, calendar=calendar)
            session.commit()
            elapsed = (time.perf_counter() - started) * 1000
            session.expunge_all()
            if i >= 50:  # the first 50 warm the caches
                timings.append(elapsed)
                merged += result.merged
    engine.dispose()
    timings.sort()
    median, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    print(
        f"whole intake (submit_report + commit, as in the API) at {calls} random member points with "
        f"the same table: median {median:.3f} ms, p99 {p99:.3f} ms, {merged} merged"
    )
    return median, p99


def conditions(url: str) -> None:
    from sqlalchemy import text

    from coordinator.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version()")).scalar_one().split(",")[0]
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    engine.dispose()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load}; Python {platform.python_version()}; "
        f"{version}, PostGIS {postgis}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://… (disposable)")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--sqlite", type=Path, default=None, help="SpatiaLite file (default: temporary)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the target is measured on PostGIS)")
    if shutil.which("wrk") is None and not args.skip_http:
        print("wrk is not installed: apt-get install wrk (or scripts/install-system-deps.sh --bench)")
        return 2

    ok = True
    token = prepare(args.database_url)
    conditions(args.database_url)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_http:
            ok &= http_bench(args.database_url, token, args, Path(tmp))
        fill_cases(args.database_url, args.cases)
        _, p99 = dedup_bench(args.database_url, args.lookups)
        ok &= p99 < 5
        intake_call_bench(args.database_url, args.lookups)
        if not args.skip_sqlite:
            path = args.sqlite or Path(tmp) / "dedup.db"
            url = f"sqlite:///{path}"
            prepare(url)
            fill_cases(url, args.cases)
            _, p99 = dedup_bench(url, args.lookups)
            ok &= p99 < 5
    print(json.dumps({"targets_met": bool(ok)}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
