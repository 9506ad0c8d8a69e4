"""Read and validate boundary files (GeoJSON FeatureCollections of polygons in WGS-84 lon/lat).

This is the one core that both the CLI import (`boundaries import`) and any future admin UI use
(MapIt's lesson: dry run and commit share the same code). It never touches the database: it turns a
file into validated `AreaFeature`s or raises `BoundaryFileError` with a clear message and details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.metric import to_metric

LEVELS = ("district", "town", "custom")
SHIPPED_DISTRICTS = "shanghai_districts.geojson"
# Accepted `crs` members (GeoJSON 2008 style); RFC 7946 files have none and are WGS-84 lon/lat.
_WGS84_CRS_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:epsg::4326",
    "epsg:4326",
    "crs84",
    "urn:ogc:def:crs:epsg::4490",  # CGCS2000: the same as WGS-84 to a few centimetres
    "epsg:4490",
}
# A generous box around China. Files outside it are in another CRS (metres) or the wrong place.
_CHINA_BOX = (73.0, 3.0, 136.0, 54.0)
_CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
MAX_ERRORS_SHOWN = 20


class BoundaryFileError(ValueError):
    """The file cannot be imported. `details` lists what is wrong, per feature where it applies."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        shown = "\n".join(f"  - {d}" for d in self.details[:MAX_ERRORS_SHOWN])
        more = len(self.details) - MAX_ERRORS_SHOWN
        return f"{self.message}\n{shown}" + (f"\n  … and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class AreaFeature:
    """One validated area from a boundary file, geometry a valid lon/lat MultiPolygon."""

    code: str
    name_zh: str
    name_en: str | None
    level: str
    parent_code: str | None
    member: bool | None  # None: the file does not say
    approximate: bool
    geometry: MultiPolygon
    repairs: tuple[str, ...] = field(default=())


def shipped_districts_path() -> Path:
    """The converted 高德 district polygons shipped with the project (see geo/data/PROVENANCE.md)."""
    return Path(str(resources.files("geo") / "data" / SHIPPED_DISTRICTS))


def load_feature_collection(raw: bytes | str) -> dict[str, Any]:
    """Parse file content as a GeoJSON FeatureCollection, or raise a clear BoundaryFileError."""
    text = raw.decode("utf-8-sig", errors="strict") if isinstance(raw, bytes) else raw
    if not text.strip():
        raise BoundaryFileError("the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # The parser stopping at the very end, or inside a string it never closes, means the text
        # ends before the JSON does: the usual result of an interrupted download or copy.
        at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        hint = " — the file looks truncated" if at_end else ""
        raise BoundaryFileError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{hint}"
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise BoundaryFileError(
            f"not a GeoJSON FeatureCollection (top-level type is {kind!r}); "
            'expected {"type": "FeatureCollection", "features": [...]}'
        )
    _check_crs_member(data.get("crs"))
    features = data.get("features")
    if not isinstance(features, list):
        raise BoundaryFileError("the FeatureCollection has no 'features' list")
    if not features:
        raise BoundaryFileError("the FeatureCollection contains no features")
    return data


def read_boundary_file(path: str | Path) -> dict[str, Any]:
    """Read a file from disk as a FeatureCollection (see `load_feature_collection`)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BoundaryFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return load_feature_collection(raw)
    except UnicodeDecodeError as exc:
        raise BoundaryFileError(f"the file is not UTF-8 text: {exc.reason}") from exc


def _check_crs_member(crs: Any) -> None:
    if crs is None:
        return
    name = ""
    if isinstance(crs, dict):
        props = crs.get("properties")
        if isinstance(props, dict):
            name = str(props.get("name", ""))
    if name.lower() not in _WGS84_CRS_NAMES:
        raise BoundaryFileError(
            f"the file declares the coordinate system {name or crs!r}; only WGS-84/CGCS2000 longitude/"
            "latitude (EPSG:4326, EPSG:4490) is accepted — reproject first, e.g. "
            "`ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"
        )


def _first_str(props: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = props.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _as_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "是"}:
        return True
    if text in {"false", "0", "no", "n", "否"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(p for p in part.geoms if not p.is_empty)
        elif part.geom_type == "GeometryCollection":
            polys.extend(_polygonal(part).geoms)
    return MultiPolygon(polys)


def _check_coordinates(geom: BaseGeometry) -> str | None:
    coords = shapely.get_coordinates(geom)
    if coords.size == 0:
        return "has no coordinates"
    if not bool(np.isfinite(coords).all()):
        return "has non-numeric or infinite coordinates"
    xmin, ymin = coords.min(axis=0)
    xmax, ymax = coords.max(axis=0)
    bx0, by0, bx1, by1 = _CHINA_BOX
    if bx0 <= ymin and ymax <= bx1 and by0 <= xmin and xmax <= by1:
        return "coordinates look like (latitude, longitude); GeoJSON wants (longitude, latitude)"
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        return (
            f"coordinates such as ({coords[0][0]:.1f}, {coords[0][1]:.1f}) are not longitude/latitude — "
            "the file looks projected (metres); reproject to EPSG:4326 first"
        )
    if xmax < bx0 or xmin > bx1 or ymax < by0 or ymin > by1:
        return (
            f"lies outside China (bbox {xmin:.3f},{ymin:.3f},{xmax:.3f},{ymax:.3f}); "
            "check the coordinate order and system"
        )
    return None


def _area_m2(geom: BaseGeometry) -> float:
    return float(to_metric(geom).area)


def parse_feature(
    feature: Any, index: int, *, default_level: str, default_parent: str | None = None
) -> AreaFeature:
    """Validate one GeoJSON feature; repair invalid polygons with make_valid and say so."""
    where = f"feature #{index + 1}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise BoundaryFileError(f"{where}: not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise BoundaryFileError(f"{where}: 'properties' must be an object")
    code = _first_str(props, "code", "adcode", "id")
    if code is None or not _CODE_RE.match(code):
        raise BoundaryFileError(f"{where}: needs a 'code' (GB/T 2260 adcode or 1–32 letters/digits)")
    where = f"feature #{index + 1} ({code})"
    name_zh = _first_str(props, "name_zh", "name", "NAME")
    if name_zh is None:
        raise BoundaryFileError(f"{where}: needs a 'name_zh' (or 'name')")
    level = (_first_str(props, "level") or default_level).lower()
    if level not in LEVELS:
        raise BoundaryFileError(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    parent = _first_str(props, "parent", "parent_code")
    if parent is None and level == "town" and len(code) >= 9 and code.isdigit():
        parent = code[:6]  # a 9-digit town code starts with its district's 6-digit code
    parent = parent or default_parent
    try:
        member = _as_bool(props.get("member"))
        approximate = bool(_as_bool(props.get("approximate")))
    except ValueError as exc:
        raise BoundaryFileError(f"{where}: {exc}") from exc

    raw_geometry = feature.get("geometry")
    if not isinstance(raw_geometry, dict) or raw_geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        kind = raw_geometry.get("type") if isinstance(raw_geometry, dict) else raw_geometry
        raise BoundaryFileError(f"{where}: geometry must be a Polygon or MultiPolygon, not {kind!r}")
    try:
        geom = shape(raw_geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise BoundaryFileError(f"{where}: malformed coordinates ({exc})") from exc
    problem = _check_coordinates(geom)
    if problem:
        raise BoundaryFileError(f"{where}: {problem}")

    repairs: list[str] = []
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        before = _area_m2(geom.buffer(0)) if geom.area else 0.0
        fixed = _polygonal(shapely.make_valid(geom))
        if fixed.is_empty or not fixed.is_valid:
            raise BoundaryFileError(f"{where}: invalid polygon ({reason}) that cannot be repaired")
        after = _area_m2(fixed)
        repairs.append(
            f"{code}: repaired invalid geometry ({reason}); area {before / 1e6:.3f} → {after / 1e6:.3f} km²"
        )
        geom = fixed
    multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
    return AreaFeature(
        code=code,
        name_zh=name_zh,
        name_en=_first_str(props, "name_en", "NAME_EN", "name:en"),
        level=level,
        parent_code=parent,
        member=member,
        approximate=approximate,
        geometry=multi,
        repairs=tuple(repairs),
    )


def parse_features(
    collection: Mapping[str, Any],
    *,
    default_level: str = "district",
    default_parent: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[AreaFeature]:
    """Validate every feature of a FeatureCollection; all problems are reported together.

    `progress(n)` is called after each feature so a CLI can draw a progress bar.
    """
    if default_level not in LEVELS:
        raise BoundaryFileError(f"level {default_level!r} is not one of {', '.join(LEVELS)}")
    features: Iterable[Any] = collection.get("features") or []
    parsed: list[AreaFeature] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        try:
            area = parse_feature(feature, index, default_level=default_level, default_parent=default_parent)
        except BoundaryFileError as exc:
            errors.append(exc.message)
        else:
            if area.code in seen:
                errors.append(
                    f"feature #{index + 1}: code {area.code} repeats feature #{seen[area.code] + 1}"
                )
            seen.setdefault(area.code, index)
            parsed.append(area)
        if progress is not None:
            progress(1)
    if errors:
        raise BoundaryFileError(f"{len(errors)} feature(s) cannot be imported; nothing was written", errors)
    return parsed
