"""Coordinate conversions between WGS-84, GCJ-02 and BD-09 (numpy-vectorised, Flask-free).

Chinese map apps do not speak WGS-84: 高德 (AMap) and 腾讯 send GCJ-02, 百度 sends BD-09, while phone
GPS, 天地图 and government data are WGS-84 / CGCS2000 (the two differ by centimetres, so CGCS2000 is
treated as WGS-84 here). In Shanghai GCJ-02 is offset ~250-300 m from WGS-84 -- wider than a
border zone -- so every point is converted to WGS-84 on entry.

* GCJ-02 forward: the public ("leaked") formula used by eviltransform / coordtransform, with
  Krasovsky a = 6378245.0 m and ee = 0.00669342162296594323. It applies only inside the usual
  China bounding box (:func:`in_gcj_region`); outside it GCJ-02 equals WGS-84.
* BD-09 forward: Baidu's published GCJ-02 -> BD-09 formula, gated on the same box so that
  outside China all three systems coincide (as eviltransform does).
* The inverses (GCJ-02 -> WGS-84, BD-09 -> GCJ-02) have no closed form. They are solved by
  fixed-point iteration on the forward formula; the residual guarantee is documented on
  :func:`gcj02_to_wgs84` and :func:`bd09_to_gcj02`.

Every public conversion takes ``(lon, lat)`` -- longitude first, like GeoJSON and pyproj
``always_xy`` -- as Python floats or numpy arrays (broadcast against each other) and returns a
``(lon, lat)`` tuple of the same kind: floats in, floats out; arrays in, float64 arrays out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "GCJ_REGION",
    "RESIDUAL_TOL",
    "SUPPORTED_CRS",
    "ConversionError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_gcj_region",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
_Forward = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

SUPPORTED_CRS: Final = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: (lon_min, lon_max, lat_min, lat_max), inclusive, in degrees: the box eviltransform uses.
GCJ_REGION: Final = (72.004, 137.8347, 0.8293, 55.8271)

#: Guaranteed bound, in degrees per component, on |forward(inverse(p)) - p| for converted points.
RESIDUAL_TOL: Final = 1e-7

# GCJ-02 constants: Krasovsky 1940 semi-major axis and first eccentricity squared.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
# BD-09 constant: "x_pi" in the published Baidu formula.
_X_PI: Final = math.pi * 3000.0 / 180.0

# The iterations aim far below RESIDUAL_TOL (1e-12 deg is ~0.1 um) so that round trips are clean;
# they normally get there in 3-5 steps because both offsets change slowly (contraction ~1e-2).
_TARGET: Final = 1e-12
_MAX_ITER: Final = 50


class ConversionError(ArithmeticError):
    """An inverse conversion failed to reach :data:`RESIDUAL_TOL` within the iteration cap."""


# ---------------------------------------------------------------------------------------------
# helpers


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Broadcast the inputs to float64 arrays; also report whether both were scalars."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    # broadcast_arrays returns read-only views; copy so callers' arrays are never aliased.
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64), scalar


def _out(x: FloatArray, y: FloatArray, scalar: bool) -> tuple[Any, Any]:
    """Return floats for scalar input, float64 arrays otherwise."""
    if scalar:
        return float(x), float(y)
    return x, y


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 (dlon, dlat) in degrees at a WGS-84 point, without the region gate."""
    x = lon - 105.0
    y = lat - 35.0
    # The obfuscation polynomial + sines, in metres-ish units, exactly as in the public formula.
    base = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    t_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (
            base
            + 20.0 * np.sin(y * np.pi)
            + 40.0 * np.sin(y / 3.0 * np.pi)
            + 160.0 * np.sin(y / 12.0 * np.pi)
            + 320.0 * np.sin(y * np.pi / 30.0)
        )
        * 2.0
        / 3.0
    )
    t_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (
            base
            + 20.0 * np.sin(x * np.pi)
            + 40.0 * np.sin(x / 3.0 * np.pi)
            + 150.0 * np.sin(x / 12.0 * np.pi)
            + 300.0 * np.sin(x / 30.0 * np.pi)
        )
        * 2.0
        / 3.0
    )
    # Scale by the Krasovsky meridian / prime-vertical radii to turn the offsets into degrees.
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Baidu's GCJ-02 -> BD-09 formula without the region gate."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_approx_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Baidu's published BD-09 -> GCJ-02 formula: a one-step approximation, used as a start."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _max_residual(forward: _Forward, px: FloatArray, py: FloatArray, tx: FloatArray, ty: FloatArray) -> float:
    """Largest |forward(p) - target| over elements and both components, in degrees (0 if empty)."""
    fx, fy = forward(px, py)
    return float(max(np.max(np.abs(fx - tx), initial=0.0), np.max(np.abs(fy - ty), initial=0.0)))


def _invert(
    forward: _Forward,
    lon: FloatArray,
    lat: FloatArray,
    start_lon: FloatArray,
    start_lat: FloatArray,
    what: str,
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(p) = (lon, lat) for p by fixed-point iteration p <- p - (forward(p) - target).

    The step is exact when the offset is constant; because both offsets vary by ~1e-2 of a degree
    per degree, each step shrinks the error ~100-fold. Raises ConversionError if, after
    _MAX_ITER steps, the max residual is not below RESIDUAL_TOL.
    """
    px, py = start_lon, start_lat
    for _ in range(_MAX_ITER):
        fx, fy = forward(px, py)
        rx = fx - lon
        ry = fy - lat
        if max(np.max(np.abs(rx), initial=0.0), np.max(np.abs(ry), initial=0.0)) <= _TARGET:
            return px, py
        px = px - rx
        py = py - ry
    # Cap reached without hitting the tight target: accept only if the guarantee still holds.
    worst = _max_residual(forward, px, py, lon, lat)
    if not worst < RESIDUAL_TOL:  # "not <" also rejects NaN
        raise ConversionError(
            f"{what}: inverse did not converge (max residual {worst:.3g} deg "
            f"after {_MAX_ITER} iterations, need < {RESIDUAL_TOL:g})"
        )
    return px, py


# ---------------------------------------------------------------------------------------------
# public API


@overload
def in_gcj_region(lon: float, lat: float) -> bool: ...
@overload
def in_gcj_region(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]: ...
def in_gcj_region(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool | npt.NDArray[np.bool_]:
    """Whether (lon, lat) lies in the box where GCJ-02 differs from WGS-84 (vectorised).

    The box is :data:`GCJ_REGION` (lon 72.004-137.8347, lat 0.8293-55.8271, inclusive). NaN is
    outside. Returns a bool for scalar input, a bool array otherwise.
    """
    x, y, scalar = _as_arrays(lon, lat)
    lon_min, lon_max, lat_min, lat_max = GCJ_REGION
    inside = (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)
    return bool(inside) if scalar else inside


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """WGS-84 -> GCJ-02 with the public formula; points outside :func:`in_gcj_region` pass through."""
    x, y, scalar = _as_arrays(lon, lat)
    inside = in_gcj_region(x, y)
    gx, gy = _gcj_forward(x[inside], y[inside])
    x[inside] = gx
    y[inside] = gy
    return _out(x, y, scalar)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """GCJ-02 -> WGS-84 by iterating the public forward formula.

    Residual guarantee: for every input point inside :func:`in_gcj_region` the result ``w``
    satisfies ``|gcj_forward(w) - input| < RESIDUAL_TOL`` (1e-7 deg, ~1 cm) in both lon and lat,
    where ``gcj_forward`` is the ungated public formula; in practice the residual is ~1e-12 deg.
    If any point misses that bound after the iteration cap, :class:`ConversionError` is raised.

    Points outside the box (and NaN) pass through unchanged. The gate is evaluated on the GCJ-02
    input: within ~0.005 deg of the box edge (open sea or outside China) the WGS-84 answer may lie
    just outside the box, where :func:`wgs84_to_gcj02` would not shift it back; the jump there is
    inherent in GCJ-02, not in this inverse.
    """
    x, y, scalar = _as_arrays(lon, lat)
    inside = in_gcj_region(x, y)
    gx, gy = x[inside], y[inside]
    # Start from g - delta(g): already within ~1 m, the remaining steps polish it.
    dlon, dlat = _gcj_delta(gx, gy)
    wx, wy = _invert(_gcj_forward, gx, gy, gx - dlon, gy - dlat, "gcj02_to_wgs84")
    x[inside] = wx
    y[inside] = wy
    return _out(x, y, scalar)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """GCJ-02 -> BD-09 with Baidu's published formula; outside :func:`in_gcj_region` pass through."""
    x, y, scalar = _as_arrays(lon, lat)
    inside = in_gcj_region(x, y)
    bx, by = _bd_forward(x[inside], y[inside])
    x[inside] = bx
    y[inside] = by
    return _out(x, y, scalar)


@overload
def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """BD-09 -> GCJ-02 by iterating Baidu's forward formula.

    Residual guarantee: for every input point inside :func:`in_gcj_region` the result ``g``
    satisfies ``|bd_forward(g) - input| < RESIDUAL_TOL`` (1e-7 deg) in both lon and lat
    (typically ~1e-12 deg); otherwise :class:`ConversionError` is raised. Baidu's own one-step
    BD-09 -> GCJ-02 formula, used here as the starting point, is off by up to ~1e-6 deg.
    Points outside the box (and NaN) pass through unchanged; the gate uses the BD-09 input.
    """
    x, y, scalar = _as_arrays(lon, lat)
    inside = in_gcj_region(x, y)
    bx, by = x[inside], y[inside]
    sx, sy = _bd_approx_inverse(bx, by)
    gx, gy = _invert(_bd_forward, bx, by, sx, sy, "bd09_to_gcj02")
    x[inside] = gx
    y[inside] = gy
    return _out(x, y, scalar)


@overload
def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """WGS-84 -> BD-09 (via GCJ-02)."""
    x, y, scalar = _as_arrays(lon, lat)
    gx, gy = wgs84_to_gcj02(x, y)
    bx, by = gcj02_to_bd09(gx, gy)
    return _out(bx, by, scalar)


@overload
def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
    """BD-09 -> WGS-84 (via GCJ-02); both steps carry the residual guarantee of their inverse."""
    x, y, scalar = _as_arrays(lon, lat)
    gx, gy = bd09_to_gcj02(x, y)
    wx, wy = gcj02_to_wgs84(gx, gy)
    return _out(wx, wy, scalar)


def _normalise_crs(crs: str) -> str:
    name = crs.strip().lower().replace("-", "").replace("_", "") if isinstance(crs, str) else None
    if name not in SUPPORTED_CRS:
        raise ValueError(f"unknown crs {crs!r}; accepted: {', '.join(SUPPORTED_CRS)}")
    return name


@overload
def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]: ...
@overload
def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]: ...
def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Any, Any]:
    """Convert from ``crs`` (one of :data:`SUPPORTED_CRS`) to WGS-84.

    Names are matched case-insensitively, ignoring ``-`` and ``_`` (so "GCJ-02" works).
    "cgcs2000" is treated as WGS-84. Raises ValueError for any other name.
    """
    name = _normalise_crs(crs)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    if isinstance(lon, float | int) and isinstance(lat, float | int):
        return float(lon), float(lat)  # the common case of a single WGS-84 point: no numpy round trip
    x, y, scalar = _as_arrays(lon, lat)
    return _out(x, y, scalar)


@overload
def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]: ...
@overload
def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]: ...
def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Any, Any]:
    """Convert from WGS-84 to ``crs`` (one of :data:`SUPPORTED_CRS`); see :func:`to_wgs84`."""
    name = _normalise_crs(crs)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if name == "bd09":
        return wgs84_to_bd09(lon, lat)
    x, y, scalar = _as_arrays(lon, lat)
    return _out(x, y, scalar)
