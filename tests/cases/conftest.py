"""Fixtures for report/case tests: a reporter with a token, points in and near the border zones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.boundaries import services as boundaries
from geo.metric import to_lonlat, to_metric
from tests.factories import bearer, make_token, make_user

PostReport = Callable[..., TestResponse]


@pytest.fixture
def reporter_token(session: Session) -> str:
    """A grid worker's API token."""
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    return token


@pytest.fixture
def post_report(client: FlaskClient, reporter_token: str) -> PostReport:
    """POST /api/v1/reports with sensible defaults; keyword arguments override body fields."""

    def _post(*, key: str | None = None, token: str | None = None, **fields: Any) -> TestResponse:
        body = {"category": "01-11", "description": "沟渠边建筑垃圾", **fields}
        headers = bearer(token or reporter_token)
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post("/api/v1/reports", json=body, headers=headers)

    return _post


def zone_point(
    session: Session, pair: tuple[str, str], district: str, depth_m: float = 200
) -> tuple[float, float]:
    """A WGS-84 point inside `district`, about `depth_m` from the `pair` border (inside its zone)."""
    border = next(b for b in boundaries.list_shared_borders(session) if (b.code_a, b.code_b) == pair)
    area = to_metric(to_shape(boundaries.get_area(session, district).geom))
    line = to_metric(to_shape(border.geom))
    for fraction in (0.5, 0.4, 0.6, 0.3, 0.7):
        anchor = line.interpolate(fraction, normalized=True)
        for dx, dy in ((depth_m, 0), (-depth_m, 0), (0, depth_m), (0, -depth_m)):
            probe = Point(anchor.x + dx, anchor.y + dy)
            if area.contains(probe) and 0.5 * depth_m < line.distance(probe) < 1.5 * depth_m:
                lonlat = to_lonlat(probe)
                return lonlat.x, lonlat.y
    raise AssertionError("no zone point found")


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """A point `east_m`/`north_m` metres away."""
    p = to_metric(Point(lon, lat))
    q = to_lonlat(Point(p.x + east_m, p.y + north_m))
    return q.x, q.y
