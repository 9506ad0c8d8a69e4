"""Geolocation services: keep one locator per process in step with the stored boundaries, check
incoming points (CRS, ranges, swapped coordinates) and turn locator answers into API payloads.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries import services as boundaries
from coordinator.boundaries.models import BorderZone, BoundaryGeneration
from coordinator.errors import ServiceUnavailable, ValidationFailed
from geo.crs import to_wgs84
from geo.locator import AreaInfo, BorderZoneInfo, Location, Locator, LocatorInput, TownInfo

log = logging.getLogger(__name__)

LocatorKey = tuple[Any, ...]


def locator_key(session: Session) -> LocatorKey:
    """Identifies the boundary version: newest generation and newest zone rows (ids and times).

    Times are part of the key because SQLite may reuse the id of a rolled-back row.
    """
    gen = session.execute(
        select(BoundaryGeneration.id, BoundaryGeneration.created_at)
        .order_by(BoundaryGeneration.id.desc())
        .limit(1)
    ).first()
    zone = session.execute(select(func.max(BorderZone.id), func.max(BorderZone.created_at))).one()
    return (gen[0] if gen else None, gen[1] if gen else None, zone[0], zone[1])


def load_locator_input(session: Session, key: LocatorKey) -> LocatorInput:
    """Read the current districts, borders, zones and towns into plain shapely geometries."""
    districts = [
        (AreaInfo(a.code, a.name_zh, a.name_en, a.member), to_shape(a.geom))
        for a in boundaries.current_areas(session, level="district")
    ]
    borders = [
        (b.code_a, b.code_b, to_shape(b.geom))
        for b in boundaries.list_shared_borders(session, members_only=False)
    ]
    zones = [
        (BorderZoneInfo(z.code_a, z.code_b, z.width_m), to_shape(z.geom))
        for z in boundaries.current_border_zones(session)
    ]
    towns = [
        (TownInfo(a.code, a.name_zh, a.parent_code, a.approximate), to_shape(a.geom))
        for level in ("town", "custom")
        for a in boundaries.current_areas(session, level=level)
    ]
    return LocatorInput(
        key=key, districts=districts, borders=borders, zones=zones, towns=towns, generation=key[0]
    )


class LocatorCache:
    """One locator per process, rebuilt when the stored boundary version changes.

    Readers never block: they get the current immutable locator. At most every `refresh_s` seconds one
    caller checks the version (one small query) and, if it changed, builds the new locator (~1 s) and
    swaps it in; the others keep using the old one meanwhile.
    """

    def __init__(self, *, refresh_s: float = 10.0, cell_deg: float = 0.002) -> None:
        self.refresh_s = refresh_s
        self.cell_deg = cell_deg
        self._locator: Locator | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()

    def get(self, session_factory: Callable[[], Session]) -> Locator:
        """The current locator (built on first use)."""
        locator = self._locator
        if locator is not None and time.monotonic() - self._checked_at < self.refresh_s:
            return locator
        if locator is not None and not self._lock.acquire(blocking=False):
            return locator  # someone else is refreshing; serve the current version meanwhile
        if locator is None:
            self._lock.acquire()
        try:
            return self._refresh(session_factory)
        finally:
            self._lock.release()

    def _refresh(self, session_factory: Callable[[], Session]) -> Locator:
        if self._locator is not None and time.monotonic() - self._checked_at < self.refresh_s:
            return self._locator
        with session_factory() as session:
            key = locator_key(session)
            if self._locator is None or self._locator.key != key:
                if key[0] is None:
                    raise ServiceUnavailable(
                        "no boundaries are loaded; run `flask --app wsgi seed boundaries`"
                    )
                started = time.perf_counter()
                replaced = self._locator is not None
                self._locator = Locator(load_locator_input(session, key), cell_deg=self.cell_deg)
                if replaced and gc.get_freeze_count():
                    # A server worker froze its startup heap, the old locator included (gunicorn.conf.py):
                    # thaw it so the old locator can be collected, then freeze the new one.
                    gc.unfreeze()
                    gc.collect()
                    gc.freeze()
                log.info(
                    "locator built for boundary generation %s in %.2f s",
                    key[0],
                    time.perf_counter() - started,
                )
        self._checked_at = time.monotonic()
        return self._locator


def check_and_locate(locator: Locator, lon: float, lat: float, crs: str) -> Location:
    """Validate a point given in `crs`, convert it to WGS-84 and locate it.

    Raises ValidationFailed for non-finite or out-of-range values, and when the point lies outside
    coverage but the swapped pair (lat, lon) would not: we say so rather than guess.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationFailed(
            "lon and lat must be finite numbers", code="invalid_point", details={"lon": lon, "lat": lat}
        )
    in_range = -180 <= lon <= 180 and -90 <= lat <= 90
    if in_range:
        wlon, wlat = to_wgs84(lon, lat, crs)
        if locator.in_coverage(wlon, wlat):
            return locator.locate(wlon, wlat)
    swapped = _swapped_in_coverage(locator, lon, lat, crs)
    if swapped is not None:
        raise ValidationFailed(
            "the point is outside coverage but lies in Shanghai with lon and lat swapped; "
            "send lon (经度, ~121) and lat (纬度, ~31) in the right fields",
            code="coordinates_swapped",
            details={
                "lon": lon,
                "lat": lat,
                "swapped": {"lon": lat, "lat": lon},
                "district": swapped.name_zh,
            },
        )
    if not in_range:
        raise ValidationFailed(
            "lon must be within [-180, 180] and lat within [-90, 90]",
            code="point_out_of_range",
            details={"lon": lon, "lat": lat},
        )
    wlon, wlat = to_wgs84(lon, lat, crs)
    return locator.locate(_snap_to_zero(wlon), _snap_to_zero(wlat))


# Outside coverage only (inside, coordinates are ~121/~31). PostgreSQL raises "value out of range:
# underflow" when float arithmetic underflows, as the dedup distance does for two points ~1e-200° apart
# near 0°; a coordinate within 1e-9° (0.1 mm) of 0 — GPS garbage at "Null Island" — is 0.
_NEAR_ZERO_DEG = 1e-9


def _snap_to_zero(value: float) -> float:
    return 0.0 if abs(value) < _NEAR_ZERO_DEG else value


def _swapped_in_coverage(locator: Locator, lon: float, lat: float, crs: str) -> AreaInfo | None:
    if not (-180 <= lat <= 180 and -90 <= lon <= 90):
        return None
    slon, slat = to_wgs84(lat, lon, crs)
    return locator.locate(slon, slat, with_distance=False).district


def _area(info: AreaInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"code": info.code, "name": info.name_zh, "name_en": info.name_en, "member": info.member}


def location_payload(location: Location, *, generation: int | None = None) -> dict[str, Any]:
    """A locator answer as the API's JSON object."""
    town = location.town
    return {
        "outcome": location.outcome,
        "district": _area(location.district),
        "town": None
        if town is None
        else {"code": town.code, "name": town.name_zh, "approximate": town.approximate},
        "on_border": location.on_border,
        "border_distance_m": location.border_distance_m,
        "nearest_other_district": _area(location.nearest_other_district),
        "in_border_zone": location.in_border_zone,
        "border_pair": list(location.border_pair) if location.border_pair else None,
        "zone_width_m": location.zone_width_m,
        "wgs84": [round(location.lon, 7), round(location.lat, 7)],
        "boundary_generation": generation,
    }
