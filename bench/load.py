"""Mixed load for 60 s against gunicorn on 127.0.0.1, on a PostGIS database holding 1e6 cases.

    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        [--seconds 60] [--workers 2] [--cases 1000000]

The database must be disposable: it is migrated, seeded and filled to `--cases` synthetic cases
(bench/synthetic_cases.py), and the run adds reports and claims cases. The mix is six request types,
each driven by its own `wrk` process (one thread; its connections are the type's share of the load)
for the same `--seconds`, all at once, so each type gets its own throughput and latency percentiles
(the intake rate limit is off for the server: one reporter token sends every report):

| type | request | who | connections |
|---|---|---|---|
| intake | POST /api/v1/reports (random point in the member districts, random category) | reporter | 2 |
| inbox | GET /api/v1/inbox | squad member | 1 |
| claim | POST /api/v1/cases/{id}/claim (each id once, routed to the member's squad) | squad member | 1 |
| case | GET /api/v1/cases/{id} (random case of the million) | dispatcher | 1 |
| geolocate | GET /api/v1/geolocate?lon&lat (random point) | anyone | 2 |
| map | GET /api/v1/cases?bbox=(~2 km box)&format=geojson&per_page=200 | dispatcher | 1 |

Printed: per type requests, req/s, p50, p99 and errors (non-2xx answers + socket errors: must be 0),
the total, and — the baseline measured in the same run — `/livez` (no database) with the same number
of connections for 10 s: the mixed throughput as a fraction of what the server answers doing nothing.
Needs `wrk` (scripts/install-system-deps.sh --bench).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.served import NotServing, start  # noqa: E402

CATEGORIES = ("01-01", "01-10", "01-11", "01-51", "05-51", "05-52")
BBOX = (121.0, 30.68, 121.98, 31.25)
CLAIMABLE = 5000


def prepare(url: str, n: int) -> dict[str, object]:
    """Fill to `n` cases; a reporter, a squad member with CLAIMABLE routed cases, a dispatcher; ids."""
    from sqlalchemy import func, select, update
    from sqlalchemy.orm import sessionmaker
    from synthetic_cases import fill_cases, member_points

    from coordinator.auth import services as auth
    from coordinator.cases.models import Case
    from coordinator.db import make_engine, session_scope
    from coordinator.squads.models import Squad
    from coordinator.squads.services import seed_demo_territory

    fill_cases(url, n)
    engine = make_engine(url)
    factory = sessionmaker(engine)
    with session_scope(factory) as session:
        seed_demo_territory(session)
    suffix = uuid.uuid4().hex[:6]
    with session_scope(factory) as session:
        squad = session.scalars(select(Squad).order_by(Squad.id).limit(1)).one()
        tokens = {}
        for role, extra in (
            ("reporter", {}),
            ("squad_member", {"squad_code": squad.code}),
            ("dispatcher", {}),
        ):
            user = auth.create_user(session, username=f"load_{role}_{suffix}", role=role, **extra)
            _, tokens[role] = auth.issue_token(session, user, ttl_days=1, label="bench/load.py")
        # Routed, unclaimed synthetic cases handed to the member's squad: each is claimed at most once.
        claimable = list(
            session.scalars(
                select(Case.id)
                .where(Case.synthetic.is_(True), Case.status == "routed", Case.claimed_by_id.is_(None))
                .order_by(func.random())
                .limit(CLAIMABLE)
            )
        )
        session.execute(
            update(Case).where(Case.id.in_(claimable)).values(lead_squad_id=squad.id, queue_unit_id=None)
        )
        lo, hi = session.execute(select(func.min(Case.id), func.max(Case.id))).one()
    engine.dispose()
    points = member_points(5_000, seed=random.randrange(1 << 30))
    return {"tokens": tokens, "claimable": claimable, "case_range": (lo, hi), "points": points}


def lua_scripts(setup: dict[str, object], directory: Path) -> dict[str, tuple[str, Path, int]]:
    tokens: dict[str, str] = setup["tokens"]  # type: ignore[assignment]
    lo, hi = setup["case_range"]  # type: ignore[misc]
    claim_ids = ",".join(str(i) for i in setup["claimable"])  # type: ignore[union-attr]
    x0, y0, x1, y1 = BBOX
    points = ",".join(f"{{{x:.6f},{y:.6f}}}" for x, y in setup["points"])  # type: ignore[attr-defined]
    cats = ",".join(f'"{c}"' for c in CATEGORIES)
    auth = 'wrk.headers["Authorization"] = "Bearer %s"'
    scripts = {
        "intake": (
            "/api/v1/reports",
            f"""{auth % tokens["reporter"]}
wrk.headers["Content-Type"] = "application/json"
local cats = {{{cats}}}
local points = {{{points}}}
local n = 0
request = function()
  n = n + 1
  local p = points[math.random(#points)]
  local body = string.format('{{"category":"%s","lon":%.6f,"lat":%.6f,"description":"压测上报 %d"}}',
    cats[math.random(#cats)], p[1], p[2], n)
  return wrk.format("POST", "/api/v1/reports", nil, body)
end""",
            2,
        ),
        "inbox": ("/api/v1/inbox", auth % tokens["squad_member"], 1),
        "claim": (
            "/api/v1/cases",
            f"""{auth % tokens["squad_member"]}
local ids = {{{claim_ids}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/v1/cases/" .. ids[(i - 1) % #ids + 1] .. "/claim")
end""",
            1,
        ),
        "case": (
            "/api/v1/cases",
            f"""{auth % tokens["dispatcher"]}
request = function()
  return wrk.format("GET", "/api/v1/cases/" .. math.random({lo}, {hi}))
end""",
            1,
        ),
        "geolocate": (
            "/api/v1/geolocate",
            f"""request = function()
  return wrk.format("GET", string.format("/api/v1/geolocate?lon=%.6f&lat=%.6f",
    {x0} + math.random() * {x1 - x0}, {y0} + math.random() * {y1 - y0}))
end""",
            2,
        ),
        "map": (
            "/api/v1/cases",
            f"""{auth % tokens["dispatcher"]}
request = function()
  local x = {x0} + math.random() * {x1 - x0 - 0.02}
  local y = {y0} + math.random() * {y1 - y0 - 0.02}
  return wrk.format("GET", string.format("/api/v1/cases?bbox=%.5f,%.5f,%.5f,%.5f&format=geojson&per_page=200",
    x, y, x + 0.02, y + 0.02))
end""",
            1,
        ),
    }
    out = {}
    for name, (path, body, conns) in scripts.items():
        script = directory / f"{name}.lua"
        script.write_text(f"math.randomseed({random.randrange(1 << 30)})\n{body}\n", encoding="utf-8")
        out[name] = (path, script, conns)
    return out


def seconds_of(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not m:
        return float("nan")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2)]
    return float(m.group(1)) * scale


def parse_wrk(text: str) -> dict[str, float]:
    def grab(pattern: str) -> float:
        m = re.search(pattern, text)
        return float(m.group(1)) if m else 0.0

    requests = grab(r"(\d+) requests in")
    non2xx = grab(r"Non-2xx or 3xx responses: (\d+)")
    socket_errors = (
        sum(
            int(x)
            for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text.split("Socket errors:")[-1])
        )
        if "Socket errors:" in text
        else 0
    )
    # Anchored: the Latency line's "+/- Stdev" column (e.g. "65.50%") must not pass for the 50th percentile.
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    return {
        "requests": requests,
        "rps": grab(r"Requests/sec:\s+([\d.]+)"),
        "p50": seconds_of(p50.group(1)) if p50 else float("nan"),
        "p99": seconds_of(p99.group(1)) if p99 else float("nan"),
        "errors": non2xx + socket_errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--raw", action="store_true", help="print each wrk's own output too")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: scripts/install-system-deps.sh --bench")
        return 2
    setup = prepare(args.database_url, args.cases)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench-load",
        "LOG_LEVEL": "WARNING",
        "LOG_REQUESTS": "false",
        # Capacity is measured, not the intake rate limit (one reporter token sends every report here).
        "RATE_LIMITS_ENABLED": "0",
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        try:
            server = stack.enter_context(
                start(env=env, workers=args.workers, flags=["--timeout", "180"], log=tmp / "gunicorn.log")
            )
        except NotServing as error:
            print(f"gunicorn did not start: {error}")
            return 1
        base = server.base
        # Let both workers build their locators before the clock starts.
        for _ in range(8):
            urllib.request.urlopen(base + "/api/v1/geolocate?lon=121.2&lat=30.9", timeout=120).read()
        scripts = lua_scripts(setup, tmp)
        total_conns = sum(c for _, _, c in scripts.values())
        livez = subprocess.run(
            ["wrk", "-t1", f"-c{total_conns}", "-d10s", "--latency", base + "/livez"],
            capture_output=True,
            text=True,
            check=True,
        )
        baseline = parse_wrk(livez.stdout)
        procs = {
            name: subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{conns}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "30s",
                    "--latency",
                    "-s",
                    str(script),
                    base + path,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, (path, script, conns) in scripts.items()
        }
        raw = {name: p.communicate()[0] for name, p in procs.items()}
        results = {name: parse_wrk(text) for name, text in raw.items()}
        if args.raw:
            for name, text in raw.items():
                print(f"--- wrk output: {name}\n{text}")
    print(
        f"mixed load: {args.seconds} s, gunicorn {args.workers} sync workers on 127.0.0.1, "
        f"{args.cases:,} cases in the database, wrk 1 thread per type"
    )
    print(f"{'type':<10} {'conns':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    total_rps = total_err = total_req = 0.0
    for name, r in results.items():
        conns = scripts[name][2]
        print(
            f"{name:<10} {conns:>5} {r['requests']:>9.0f} {r['rps']:>8.1f} {r['p50'] * 1000:>8.1f} "
            f"{r['p99'] * 1000:>8.1f} {r['errors']:>7.0f}"
        )
        total_rps += r["rps"]
        total_err += r["errors"]
        total_req += r["requests"]
    blank = ""
    print(f"{'total':<10} {total_conns:>5} {total_req:>9.0f} {total_rps:>8.1f} {blank:>17} {total_err:>7.0f}")
    print(
        f"baseline /livez (no database), {total_conns} connections, 10 s: {baseline['rps']:.1f} req/s, "
        f"p50 {baseline['p50'] * 1000:.1f} ms; mixed/baseline throughput ratio "
        f"{total_rps / baseline['rps']:.3f}"
    )
    return 0 if total_err == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
