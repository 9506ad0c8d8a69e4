"""Drone flights: a GPS track uploaded as GeoJSON or GPX, and the drone's position at a moment of it.

GeoJSON comes in either of the forms GPS tools write: a `LineString` Feature whose
`properties.coordTimes` (or `times`) gives one RFC 3339 time per coordinate (togeojson, GPSBabel), or a
FeatureCollection of `Point` Features each with `properties.time`. GPX is read with gpxpy (every
track point of every segment, with its `<time>`). Coordinates are WGS-84; points are sorted by time.
The position at a detection time is interpolated linearly between the two track points around it
(at drone speeds and a few seconds apart, the straight line in lon/lat is metres from the great circle).
"""

from __future__ import annotations

import bisect
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import gpxpy
import gpxpy.gpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.errors import Conflict, ValidationFailed
from coordinator.field.models import Device, DroneFlight

MAX_POINTS = 50_000
# A detection a little before the first or after the last fix still takes the track's end point.
EDGE_TOLERANCE_S = 5.0

Track = list[list[float]]  # [[unix seconds, lon, lat], …]


def _bad(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_track", details=details or None)


def _time(value: Any, where: str) -> float:
    if not isinstance(value, str):
        raise _bad(f"{where}: a time must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{where}: {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise _bad(f"{where}: the time needs a timezone offset")
    return parsed.timestamp()


def _lonlat(coords: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        raise _bad(f"{where}: coordinates must be [lon, lat, …]")
    lon, lat = float(coords[0]), float(coords[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise _bad(f"{where}: [{lon}, {lat}] is not a WGS-84 position")
    return lon, lat


def parse_geojson(text: bytes) -> Track:
    """A track from GeoJSON (see the module docstring for the two accepted forms)."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise _bad("the track is not valid JSON") from None
    if not isinstance(doc, dict):
        raise _bad("a GeoJSON track is a Feature or a FeatureCollection")
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise _bad("features must be a list")
    points: Track = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _bad(f"features[{i}] is not a Feature")
        geometry, props = feature.get("geometry") or {}, feature.get("properties") or {}
        if geometry.get("type") == "LineString":
            coords = geometry.get("coordinates")
            times = props.get("coordTimes", props.get("times"))
            if not isinstance(coords, list) or not isinstance(times, list) or len(times) != len(coords):
                raise _bad(f"features[{i}]: a LineString needs properties.coordTimes, one time per point")
            for j, (c, t) in enumerate(zip(coords, times, strict=True)):
                points.append([_time(t, f"features[{i}] point {j}"), *_lonlat(c, f"features[{i}] point {j}")])
        elif geometry.get("type") == "Point":
            points.append(
                [_time(props.get("time"), f"features[{i}]"), *_lonlat(geometry.get("coordinates"), f"[{i}]")]
            )
        else:
            raise _bad(f"features[{i}]: a track is made of a LineString or Points")
    return _checked(points)


def parse_gpx(text: bytes) -> Track:
    """A track from GPX 1.0/1.1: every timed track point (route and way points have no times)."""
    try:
        gpx = gpxpy.parse(text.decode("utf-8"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"the GPX file cannot be read: {exc}") from None
    points: Track = []
    for track in gpx.tracks:
        for segment in track.segments:
            for p in segment.points:
                if p.time is None:
                    raise _bad("every GPX track point needs a <time>")
                when = p.time if p.time.tzinfo else p.time.replace(tzinfo=UTC)
                points.append([when.timestamp(), *_lonlat([p.longitude, p.latitude], "trkpt")])
    return _checked(points)


def _checked(points: Track) -> Track:
    if len(points) < 2:
        raise _bad("a track needs at least two timed points")
    if len(points) > MAX_POINTS:
        raise _bad(f"a track has at most {MAX_POINTS} points", points=len(points))
    points.sort(key=lambda p: p[0])
    return points


def store_flight(
    session: Session, device: Device, *, external_id: str, fmt: str, track: Track, now: datetime
) -> DroneFlight:
    """Keep a flight of a drone; the same flight id again is a conflict unless the track is the same."""
    if device.kind != "drone":
        raise ValidationFailed("only drones upload flights", code="not_a_drone")
    existing = session.scalars(
        select(DroneFlight).where(DroneFlight.device_id == device.id, DroneFlight.external_id == external_id)
    ).first()
    if existing is not None:
        if existing.track == track:
            return existing
        raise Conflict(
            "this flight id was already uploaded with another track",
            code="flight_exists",
            details={"flight": external_id},
        )
    flight = DroneFlight(
        device_id=device.id,
        external_id=external_id,
        format=fmt,
        started_at=datetime.fromtimestamp(track[0][0], UTC),
        ended_at=datetime.fromtimestamp(track[-1][0], UTC),
        points=len(track),
        track=track,
        created_at=now,
    )
    session.add(flight)
    session.flush()
    return flight


def interpolate(track: Track, when: float) -> tuple[float, float] | None:
    """The position at `when` (Unix seconds) on a time-sorted track, or None outside it."""
    if when < track[0][0] - EDGE_TOLERANCE_S or when > track[-1][0] + EDGE_TOLERANCE_S:
        return None
    times = [p[0] for p in track]
    i = bisect.bisect_left(times, when)
    if i == 0:
        return track[0][1], track[0][2]
    if i >= len(track):
        return track[-1][1], track[-1][2]
    (t0, lon0, lat0), (t1, lon1, lat1) = track[i - 1], track[i]
    f = 0.0 if t1 == t0 else (when - t0) / (t1 - t0)
    return lon0 + f * (lon1 - lon0), lat0 + f * (lat1 - lat0)


def position_at(session: Session, device: Device, when: datetime) -> tuple[float, float] | None:
    """Where a drone was at `when`, from the flight whose track covers it (the latest uploaded first)."""
    margin = timedelta(seconds=EDGE_TOLERANCE_S)
    flights = session.scalars(
        select(DroneFlight)
        .where(
            DroneFlight.device_id == device.id,
            DroneFlight.started_at <= when + margin,
            DroneFlight.ended_at >= when - margin,
        )
        .order_by(DroneFlight.id.desc())
    )
    ts = when.timestamp()
    for flight in flights:
        position = interpolate(flight.track, ts)
        if position is not None:
            return position
    return None
