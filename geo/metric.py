"""Metric projection for measuring in metres around Shanghai.

Distances and buffers are never computed in degrees. We use a transverse Mercator centred on 121.5°E
(the middle of Shanghai) on the WGS-84 ellipsoid: its scale error stays below 1e-5 across the city,
i.e. under a centimetre on a 500 m border zone (UTM 51N, centred on 123°E, is off by ~1.5e-4).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

METRIC_CRS = "+proj=tmerc +lat_0=0 +lon_0=121.5 +k=1 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"

_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

G = TypeVar("G", bound=BaseGeometry)


def _apply(transformer: Transformer, coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x, y = transformer.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_metric(geom: G) -> G:
    """Project a lon/lat geometry to the metric CRS (metres)."""
    result: G = shapely.transform(geom, lambda c: _apply(_TO_METRIC, c))
    return result


def to_lonlat(geom: G) -> G:
    """Project a metric geometry back to lon/lat (EPSG:4326)."""
    result: G = shapely.transform(geom, lambda c: _apply(_TO_LONLAT, c))
    return result


def project_points(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project arrays of lon/lat to metric x/y."""
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def project_point(lon: float, lat: float) -> tuple[float, float]:
    """Project one lon/lat point to metric x/y (the scalar path is ~5x faster than 1-element arrays)."""
    x, y = _TO_METRIC.transform(lon, lat)
    return float(x), float(y)
