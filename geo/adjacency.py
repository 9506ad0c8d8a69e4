"""Which districts share a border, and where: computed from the polygons.

Neighbouring polygons from different digitisations neither share vertices nor touch exactly: there are
slivers (overlaps) and gaps of a few metres. Two areas are neighbours when they come within `snap_m`
of each other; their shared border is the part of A's boundary that lies within `snap_m` of B, kept
only where it is longer than `min_length_m` (so a corner touch is not a border).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from geo.metric import to_lonlat, to_metric


@dataclass(frozen=True)
class SharedBorder:
    """The border line between areas `code_a` < `code_b`, in lon/lat, and its length in metres."""

    code_a: str
    code_b: str
    line: MultiLineString
    length_m: float


def _as_multilinestring(geom: BaseGeometry) -> MultiLineString:
    lines: list[LineString] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, LineString) and not part.is_empty:
            lines.append(part)
        elif isinstance(part, MultiLineString):
            lines.extend(p for p in part.geoms if not p.is_empty)
    merged = shapely.line_merge(MultiLineString(lines)) if lines else MultiLineString()
    if isinstance(merged, LineString):
        return MultiLineString([merged])
    return merged if isinstance(merged, MultiLineString) else MultiLineString()


def shared_borders(
    areas: Mapping[str, BaseGeometry], *, snap_m: float = 20.0, min_length_m: float = 200.0
) -> list[SharedBorder]:
    """All pairs of areas sharing a border of at least `min_length_m`, with the border lines.

    Areas are lon/lat (multi)polygons keyed by code. Work happens in the metric CRS.
    """
    metric = {code: to_metric(geom) for code, geom in areas.items()}
    codes = sorted(metric)
    tree = shapely.STRtree([metric[c] for c in codes])
    result: list[SharedBorder] = []
    seen: set[tuple[int, int]] = set()
    for i, code in enumerate(codes):
        candidates = tree.query(metric[code], predicate="dwithin", distance=snap_m)
        for j in candidates:
            j = int(j)
            if j == i:
                continue
            pair = (min(i, j), max(i, j))
            if pair in seen:
                continue
            seen.add(pair)
            a, b = codes[pair[0]], codes[pair[1]]
            near_b = metric[b].buffer(snap_m)
            piece = shapely.intersection(metric[a].boundary, near_b)
            line = _as_multilinestring(piece)
            length = float(line.length)
            if length < min_length_m:
                continue
            simplified = _as_multilinestring(line.simplify(1.0))
            result.append(SharedBorder(a, b, to_lonlat(simplified), length))
    return sorted(result, key=lambda s: (s.code_a, s.code_b))
