"""Fixtures of the field tests: frames kept in the test's tmp dir, a border hotspot at 柘林–漕泾, signed
device requests, a tiny JPEG."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.field.devices import signed_headers
from coordinator.hotspots.models import Hotspot
from coordinator.worktime import SHANGHAI
from tests.factories import bearer, make_token, make_user

ZHELIN = (121.435, 30.818)  # 柘林 town (310120118), ~150 m from 金山: in the 金山–奉贤 border zone
NANQIAO = (121.47, 30.92)  # 南桥, far from any border
LAST_NIGHT = datetime(2026, 11, 28, 22, 30, tzinfo=SHANGHAI)  # a Saturday night, in the past
DAYTIME = datetime(2026, 11, 28, 14, 0, tzinfo=SHANGHAI)


@pytest.fixture
def hotspot(session: Session) -> Hotspot:
    """A ditch hotspot on the 金山–奉贤 border at 柘林."""
    spot = Hotspot(
        name="柘林–漕泾 交界沟渠（测试）",
        kind="ditch",
        lon=ZHELIN[0],
        lat=ZHELIN[1],
        district_a="310116",
        district_b="310120",
        min_patrols_per_week=1,
        note="",
        origin="manual",
        active=True,
    )
    session.add(spot)
    session.commit()
    return spot


@pytest.fixture
def dispatcher_token(session: Session) -> str:
    """A Fengxian dispatcher's token."""
    token = make_token(session, make_user(session, "dispatcher", district="310120"))
    session.commit()
    return token


def jpeg(size: tuple[int, int] = (32, 24), *, noise: bool = False) -> bytes:
    """A small JPEG (with noise: one that does not compress, to make big frames)."""
    image = Image.new("RGB", size, (120, 90, 60))
    if noise:
        image = Image.frombytes("RGB", size, bytes((i * 7919) % 251 for i in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def register(client: FlaskClient, token: str, **body: Any) -> tuple[str, str]:
    """Register a device; (code, secret)."""
    response = client.post("/api/v1/devices", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    return created["device"]["code"], created["secret"]


def camera(
    client: FlaskClient, token: str, code: str = "CAM-ZL-01", at: tuple[float, float] = ZHELIN
) -> tuple[str, str]:
    """A camera at `at`, Fengxian's, watching the 金山–奉贤 border."""
    return register(
        client,
        token,
        code=code,
        kind="camera",
        name="柘林沟渠 1 号",
        lon=at[0],
        lat=at[1],
        view_direction_deg=135.0,
        district="310120",
        border_pair=["310120", "310116"],
    )


def signed_post(
    client: FlaskClient,
    path: str,
    code: str,
    secret: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    now: float | None = None,
    nonce: str | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """POST `body` to `path` signed as the device."""
    signed = signed_headers(code, secret, "POST", path, body, now=now or time.time(), nonce=nonce)
    return client.post(path, data=body, content_type=content_type, headers={**signed, **(headers or {})})


def alert_body(*alerts: dict[str, Any]) -> bytes:
    """A JSON alert batch."""
    return json.dumps({"alerts": list(alerts)}).encode()


def alert(
    alert_id: str,
    *,
    cls: str = "dumping",
    confidence: float = 0.93,
    at: datetime = LAST_NIGHT,
    **extra: Any,
) -> dict[str, Any]:
    """One alert of a batch."""
    return {
        "alert_id": alert_id,
        "detection_class": cls,
        "confidence": confidence,
        "detected_at": at.isoformat(),
        **extra,
    }
