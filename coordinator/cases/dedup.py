"""Dedup: which open case a new report joins, and the lock keys that make that decision race-free.

A report joins the nearest open case of its category within the category's radius that had a report
within its window. Candidates come from the dedup box — a latitude band of twice the radius, filtered by
longitude — which is a range scan of the B-tree `ix_case_dedup (category_code, lat, lon)` on both
databases; the exact (haversine) distance is then computed here for the few rows in the box.

Two intakes whose boxes overlap must not both open a case, so intake locks every ~1 km cell
(`LOCK_CELL_DEG`) its box touches, per category, together with its retry identity
(coordinator.dialects.lock_keys): reports far apart never wait for each other.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Boolean, String, Table, bindparam, literal, literal_column, null, select
from sqlalchemy.orm import Session

from coordinator.cases.models import OPEN_STATUSES, Case
from coordinator.cases.reference import CategoryRef

EARTH_RADIUS_M = 6_371_008.8
# Dedup boxes are locked per cell of this size (degrees, ~1 km): reports far apart never wait for each
# other, reports that could be duplicates of each other always do.
LOCK_CELL_DEG = 0.01

_CASES = cast(Table, Case.__table__)

# The open cases of one category in the dedup box. Its columns match intake's replay lookup, with which
# it is sent as one UNION ALL (coordinator.cases.intake).
OPEN_DUPLICATES = select(
    literal("case", String).label("kind"),
    null().label("report_id"),
    _CASES.c.id.label("case_id"),
    _CASES.c.number,
    _CASES.c.status,
    _CASES.c.routing,
    _CASES.c.category_code,
    _CASES.c.lon,
    _CASES.c.lat,
    null().label("idempotency_key"),
    literal(False, Boolean).label("merged"),
    _CASES.c.district_code,
    _CASES.c.lead_squad_id,
).where(
    _CASES.c.category_code == bindparam("category"),
    _CASES.c.lat.between(bindparam("lat_min"), bindparam("lat_max")),
    _CASES.c.lon.between(bindparam("lon_min"), bindparam("lon_max")),
    # The statuses as SQL literals (constants), so the statement compiles once to fixed SQL.
    _CASES.c.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES]),
    _CASES.c.last_report_at >= bindparam("since"),
)


def lock_key(name: str) -> int:
    """The advisory-lock key of a name (CRC-32: a collision only makes two intakes wait for each other)."""
    return zlib.crc32(name.encode())


def intake_lock_keys(
    category: CategoryRef, lon: float, lat: float, *, retry_names: Iterable[str] = ()
) -> list[int]:
    """Lock keys for one report, sorted: its retry identities and every cell its dedup box touches."""
    keys = {lock_key(name) for name in retry_names}
    dlat, dlon = dedup_box(category.dedup_radius_m, lat)
    for x in (lon - dlon, lon + dlon):
        for y in (lat - dlat, lat + dlat):
            cell = (math.floor(x / LOCK_CELL_DEG), math.floor(y / LOCK_CELL_DEG))
            keys.add(lock_key(f"dedup:{category.code}:{cell[0]}:{cell[1]}"))
    return sorted(keys)


def dedup_box(radius_m: float, lat: float) -> tuple[float, float]:
    """Half the height and width, in degrees, of the box around a point at `lat` holding the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    return dlat, dlat / max(math.cos(math.radians(lat)), 1e-6)


def dedup_params(category: CategoryRef, lon: float, lat: float, now: datetime) -> dict[str, Any]:
    """The parameters of `OPEN_DUPLICATES` for a report of `category` at (lon, lat) received at `now`."""
    dlat, dlon = dedup_box(category.dedup_radius_m, lat)
    return {
        "category": category.code,
        "lat_min": lat - dlat,
        "lat_max": lat + dlat,
        "lon_min": lon - dlon,
        "lon_max": lon + dlon,
        "since": now - timedelta(hours=category.dedup_window_h),
    }


def nearest(
    candidates: Sequence[Any], radius_m: float, lon: float, lat: float
) -> tuple[Any | None, float | None]:
    """The candidate row nearest to (lon, lat) within `radius_m` and its distance (equal distances: the
    lower case id), or (None, None)."""
    within = [(geodesic_distance_m(lon, lat, row.lon, row.lat), row.case_id, row) for row in candidates]
    hits = [hit for hit in within if hit[0] <= radius_m]
    if not hits:
        return None, None
    distance, _, row = min(hits, key=lambda hit: hit[:2])
    return row, distance


def nearest_open_case(
    session: Session, category: CategoryRef, lon: float, lat: float, *, now: datetime
) -> tuple[Any | None, float | None]:
    """The nearest open case of the category within its dedup radius and window (its `OPEN_DUPLICATES`
    row) and the distance to it, or (None, None)."""
    rows = session.connection().execute(OPEN_DUPLICATES, dedup_params(category, lon, lat, now)).all()
    return nearest(rows, category.dedup_radius_m, lon, lat)


def geodesic_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; < 0.5 % from the ellipsoid, ample for a dedup radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
