"""The map's case layer with a million cases: `GET /api/v1/map/clusters` for a district-wide view beside
the plain GeoJSON case list of the same box (the baseline), in the same run, on SpatiaLite and PostGIS.

    .venv/bin/python bench/map.py [--sqlite-path PATH] [--postgis-url URL] [--cases 1000000] [--repeats 15]

Each database (the SpatiaLite file at --sqlite-path, default instance/bench_map.sqlite; with --postgis-url
also that disposable PostGIS database) is migrated and seeded through the service's CLI and gets --cases
synthetic cases (bench/synthetic_cases.py; re-runs reuse them; the migration 0016 fills the count table
from cases already there). A token-only committee account is added to call the API; nothing else is
written. Requests go through the whole app (routing, authentication, parsing, the query, JSON) with
Flask's test client in this process, so the figures are the server's time without the network.

The view is 奉贤's bounding box (a district, ~0.5° × 0.3°) at the zoom that fits it on a 1,280 × 800 px
screen. For each database it prints the median and 90th percentile over --repeats requests of:
  - clusters            the layer as served (the count table case_map_cell);
  - clusters, plain     the same layer from one GROUP BY over case_file (what it was before the count
                        table: snapped coordinates, the existing indexes), answers checked equal;
  - clusters, status    with a status filter (count table);
  - clusters, category  with a category filter (the count table has no category: case_file);
  - clusters, 30 days   with `since` 30 days back (nor a time dimension: case_file);
  - case list (baseline) `GET /api/v1/cases?format=geojson&bbox=…&per_page=500`: count + newest 500;
and the ratio baseline / clusters. Requests of the kinds alternate, so all see the same machine.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic_cases import fill_cases  # noqa: E402

DISTRICT = "310120"  # 奉贤: inside the synthetic cases' box
SCREEN = (1280, 800)
TARGET_MS = 300.0


def district_bbox() -> tuple[float, float, float, float]:
    """The bounding box of DISTRICT from the shipped boundaries."""
    from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path

    for feature in parse_features(read_boundary_file(shipped_districts_path())):
        if feature.code == DISTRICT:
            west, south, east, north = feature.geometry.bounds
            return round(west, 4), round(south, 4), round(east, 4), round(north, 4)
    raise LookupError(DISTRICT)


def fitting_zoom(box: tuple[float, float, float, float]) -> int:
    """The largest web-map zoom at which the box fits the screen (degrees per pixel 360 / 256 / 2^z;
    latitude stretched by 1 / cos(lat) as web mercator draws it)."""
    width, height = box[2] - box[0], (box[3] - box[1]) / math.cos(math.radians((box[1] + box[3]) / 2))
    zoom = 0
    while (
        width * 256 * 2 ** (zoom + 1) / 360 <= SCREEN[0] and height * 256 * 2 ** (zoom + 1) / 360 <= SCREEN[1]
    ):
        zoom += 1
    return zoom


def bench_database(url: str, cases: int, repeats: int) -> None:
    """Fill the database, then time the layer and the baseline through the app."""
    fill_cases(url, cases)
    from sqlalchemy.orm import sessionmaker

    from coordinator import create_app
    from coordinator.auth.services import create_user, issue_token
    from coordinator.casemap import services
    from coordinator.db import make_engine, session_scope

    engine = make_engine(url)
    with session_scope(sessionmaker(engine)) as session:
        user = create_user(session, username=f"bench_map_{secrets.token_hex(4)}", role="committee")
        _, token = issue_token(session, user, ttl_days=1, label="bench/map.py")
    engine.dispose()
    # No access log line per request (bench/load.py's settings): the figures time the request, not the log.
    settings = {"database_url": url, "secret_key": secrets.token_hex(16)}
    app = create_app({**settings, "log_level": "WARNING", "log_requests": False})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    box = district_bbox()
    bbox = ",".join(map(str, box))
    zoom = fitting_zoom(box)
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")

    def get(path: str, **params: Any) -> dict[str, Any]:
        response = client.get(path, query_string=params, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        return body

    real_uses_count_table = services.uses_count_table

    def plain(**params: Any) -> dict[str, Any]:
        services.uses_count_table = lambda flt, zoom: False  # type: ignore[assignment]
        try:
            return get("/api/v1/map/clusters", **params)
        finally:
            services.uses_count_table = real_uses_count_table

    kinds: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("clusters", lambda: get("/api/v1/map/clusters", bbox=bbox, zoom=zoom)),
        ("clusters, plain GROUP BY", lambda: plain(bbox=bbox, zoom=zoom)),
        (
            "clusters, status=routed",
            lambda: get("/api/v1/map/clusters", bbox=bbox, zoom=zoom, status="routed"),
        ),
        (
            "clusters, category=01-11",
            lambda: get("/api/v1/map/clusters", bbox=bbox, zoom=zoom, category="01-11"),
        ),
        ("clusters, last 30 days", lambda: get("/api/v1/map/clusters", bbox=bbox, zoom=zoom, since=since)),
        (
            "case list (baseline)",
            lambda: get("/api/v1/cases", bbox=bbox, format="geojson", per_page=500),
        ),
    ]
    answers = {name: fn() for name, fn in kinds}  # warm: the locator, caches, prepared statements
    layer, grouped = answers["clusters"], answers["clusters, plain GROUP BY"]
    counts = {f["id"]: f["properties"]["status_counts"] for f in layer["features"]}
    assert counts == {f["id"]: f["properties"]["status_counts"] for f in grouped["features"]}, (
        "count table ≠ recount"
    )
    times: dict[str, list[float]] = {name: [] for name, _ in kinds}
    for _ in range(repeats):
        for name, fn in kinds:
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000)
    app.extensions["coordinator.engine"].dispose()

    print(
        f"{engine.dialect.name}: bbox {bbox} (奉贤) at zoom {zoom}: {layer['total']:,} cases in "
        f"{len(layer['features'])} clusters (count table = GROUP BY recount: yes); case list total "
        f"{answers['case list (baseline)']['total']:,}; {repeats} requests each"
    )
    base = statistics.median(times["case list (baseline)"])
    for name, _ in kinds:
        median = statistics.median(times[name])
        p90 = statistics.quantiles(times[name], n=10)[-1] if len(times[name]) > 1 else median
        print(
            f"  {name:<26} median {median:8.1f} ms   p90 {p90:8.1f} ms   baseline/this {base / median:6.1f}x"
            + (
                f"   {'meets' if median < TARGET_MS else 'misses'} {TARGET_MS:.0f} ms"
                if name != "case list (baseline)"
                else ""
            )
        )


def main() -> None:
    """Run the bench on SpatiaLite and, with --postgis-url, on PostGIS."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sqlite-path", default=str(ROOT / "instance" / "bench_map.sqlite"))
    parser.add_argument("--postgis-url")
    parser.add_argument("--cases", type=int, default=1_000_000, help="synthetic cases to have in the table")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)  # one database (the child processes)
    args = parser.parse_args()
    if args.database_url:
        bench_database(args.database_url, args.cases, args.repeats)
        # A process that served the API from SpatiaLite (its GEOS) and built the locator (shapely's GEOS)
        # crashes in the interpreter's teardown ("double free or corruption", SIGSEGV), after the figures
        # are out: skip the teardown so `make bench` does not take that for a failure.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    # One process per database, each ending as above.
    urls = [f"sqlite:///{Path(args.sqlite_path).resolve()}"] + (
        [args.postgis_url] if args.postgis_url else []
    )
    for url in urls:
        child = [sys.executable, __file__, "--database-url", url, "--cases", str(args.cases)]
        subprocess.run([*child, "--repeats", str(args.repeats)], check=True)


if __name__ == "__main__":
    main()
