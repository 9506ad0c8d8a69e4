"""HTTP benchmark: GET /api/v1/geolocate vs a trivial JSON endpoint on the same gunicorn, same run.

    .venv/bin/python bench/http_geolocate.py [--database-url URL] [--seconds 8] [--workers 2]

Starts gunicorn on 127.0.0.1 (a fresh SpatiaLite database unless --database-url is given), warms
every worker's locator, then alternates wrk runs against `/livez` (no database, no geometry) and
`/api/v1/geolocate` with random points in Shanghai's bounding box (the same Lua-generated query
string for both, so the client does the same work). Prints requests/s and latency
percentiles per endpoint and the ratio geolocate / trivial (target ≥ 0.80: the geometry must not be
the bottleneck). Needs `wrk` (Debian: apt-get install wrk; `scripts/install-system-deps.sh --bench`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import NotServing, start  # noqa: E402

# Both endpoints get the same client-side work (a Lua-generated random query string; /livez ignores
# it), so the ratio compares the server's cost, not wrk's: on 2 shared cores a static URL for the
# trivial endpoint alone would hand it the CPU the Lua script costs the client.
LUA = """
math.randomseed(42)
request = function()
  local lon = 120.85 + math.random() * 1.27
  local lat = 30.66 + math.random() * 1.22
  return wrk.format("GET", string.format("%s?lon=%.6f&lat=%.6f", PATH, lon, lat))
end
"""


def prepare_database(url: str) -> None:
    from sqlalchemy.orm import sessionmaker

    from coordinator import migrate
    from coordinator.boundaries.services import seed_shipped_boundaries
    from coordinator.db import make_engine, session_scope

    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        seed_shipped_boundaries(session)
    engine.dispose()


def run_wrk(url: str, seconds: int, connections: int, script: Path | None) -> tuple[float, dict[str, float]]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"non-2xx responses during the run:\n{out}")
    latencies = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        if m:
            value, unit = float(m.group(1)), m.group(2)
            latencies[f"p{pct}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return rps, latencies


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (or scripts/install-system-deps.sh --bench)")
        return 2

    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        prepare_database(url)
        scripts = {}
        for name, path in (("trivial", "/livez"), ("geolocate", "/api/v1/geolocate")):
            scripts[name] = Path(tmp) / f"{name}.lua"
            scripts[name].write_text(f'PATH = "{path}"\n' + LUA)
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
        try:
            server = stack.enter_context(
                start(env=env, workers=args.workers, flags=["--log-level", "warning"])
            )
        except NotServing as error:
            raise SystemExit(f"gunicorn did not come up: {error}") from None
        base = server.base
        run_wrk(base + "/api/v1/geolocate", 4, args.connections, scripts["geolocate"])  # build locators
        results: dict[str, list[float]] = {"trivial": [], "geolocate": []}
        lat: dict[str, list[dict[str, float]]] = {"trivial": [], "geolocate": []}
        for _ in range(args.rounds):
            for name, path in (("trivial", "/livez"), ("geolocate", "/api/v1/geolocate")):
                rps, latency = run_wrk(base + path, args.seconds, args.connections, scripts[name])
                results[name].append(rps)
                lat[name].append(latency)

    print(
        f"gunicorn, {args.workers} sync workers; wrk 2 threads, {args.connections} connections; "
        f"{args.rounds} alternating rounds of {args.seconds} s; medians:"
    )
    medians = {name: statistics.median(v) for name, v in results.items()}
    for name in ("trivial", "geolocate"):
        p50 = statistics.median(x.get("p50", float("nan")) for x in lat[name])
        p99 = statistics.median(x.get("p99", float("nan")) for x in lat[name])
        print(
            f"  {name:<10} {medians[name]:>9,.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
            f"(rounds: {', '.join(f'{v:,.0f}' for v in results[name])})"
        )
    ratio = medians["geolocate"] / medians["trivial"]
    print(f"  geolocate / trivial = {ratio:.2f}  (target >= 0.80) {'ok' if ratio >= 0.8 else 'BELOW TARGET'}")
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
