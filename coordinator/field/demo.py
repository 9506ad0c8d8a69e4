"""Demo devices for `seed demo`: a camera on the 柘林–漕泾 ditch (the demo hotspot the alliance names for
joint enforcement of dumping) with a few detections of last night below their class's threshold — so
the dispatcher's review queue (/alerts) has something to review after `make run` — and a drone flown by
柘林中队. Marked 【演示】, idempotent by the camera's code. Their signing secrets are not shown: a
dispatcher issues a new one (`POST /api/v1/devices/{code}/secret`) to drive them from a script."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.evidence.files import Limits
from coordinator.evidence.services import UploadedBytes, prepare_uploads
from coordinator.field import alerts as alert_service
from coordinator.field import devices
from coordinator.field.models import Device
from coordinator.worktime import SHANGHAI
from coordinator.worktime.services import load_calendar
from geo.locator import Locator

DEMO_CAMERA = "CAM-DEMO-ZL-01"
DEMO_DRONE = "UAV-DEMO-FX-01"
ZHELIN_CAOJING = (121.435, 30.818)  # the demo ditch hotspot (coordinator/hotspots/demo.py)
DEMO_SQUAD = "SQ-310120118"  # 柘林中队
# class, confidence (all below the shipped thresholds), minutes before last night's 22:40, the note
DETECTIONS = (
    ("dumping", 0.62, 2.5, "货车尾部有倾倒动作"),
    ("dumping", 0.64, 1.5, ""),  # the same device and class within the storm window: folded (×3)
    ("dumping", 0.66, 0.0, ""),
    ("vehicle_unloading", 0.58, 50.0, "无牌渣土车停靠沟渠边"),
    ("exposed_garbage", 0.51, 100.0, "沟渠边疑似暴露垃圾"),
)


def last_night(now: datetime) -> datetime:
    """The latest 22:40 (Asia/Shanghai) at or before `now`."""
    local = now.astimezone(SHANGHAI)
    at = local.replace(hour=22, minute=40, second=0, microsecond=0)
    return at if at <= local else at - timedelta(days=1)


def demo_frame(label: str, shade: int) -> bytes:
    """A synthetic night frame (a JPEG): a dark field, a ditch, a truck, the camera's caption."""
    image = Image.new("RGB", (640, 360), (18 + shade, 24 + shade, 38 + shade))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 250, 640, 360), fill=(30, 36, 30))
    draw.polygon([(0, 300), (640, 270), (640, 300), (0, 330)], fill=(20, 30, 45))  # the ditch
    draw.rectangle((300, 170, 470, 245), fill=(90, 90, 80))  # the truck's body
    draw.rectangle((470, 195, 530, 245), fill=(110, 110, 100))  # its cab
    draw.ellipse((320, 232, 350, 262), fill=(10, 10, 10))
    draw.ellipse((480, 232, 510, 262), fill=(10, 10, 10))
    draw.polygon([(250, 250), (300, 215), (340, 250)], fill=(120, 100, 70))  # the pile
    draw.rectangle((0, 0, 640, 22), fill=(0, 0, 0))
    draw.text((8, 5), f"DEMO {DEMO_CAMERA}  {label}", fill=(230, 230, 230))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def seed_demo_devices(
    session: Session,
    locator: Locator,
    *,
    key_material: str,
    limits: Limits,
    policy: alert_service.AlertPolicy,
    now: datetime,
) -> str:
    """Register the demo camera and drone and file the camera's demo detections (once); what was done."""
    if session.scalar(select(Device.id).where(Device.code == DEMO_CAMERA)) is not None:
        return "demo devices: already there"
    admin_id = session.scalar(select(User.id).where(User.username == "demo_admin"))
    camera, _secret = devices.register_device(
        session,
        devices.DeviceInput(
            code=DEMO_CAMERA,
            kind="camera",
            name="【演示】柘林–漕泾 交界沟渠摄像头",
            lon=ZHELIN_CAOJING[0],
            lat=ZHELIN_CAOJING[1],
            view_direction_deg=135.0,
            district="310120",
            border_pair=("310116", "310120"),
        ),
        key_material=key_material,
        created_by_id=admin_id,
        now=now,
    )
    devices.register_device(
        session,
        devices.DeviceInput(
            code=DEMO_DRONE, kind="drone", name="【演示】奉贤巡查无人机", operator_squad=DEMO_SQUAD
        ),
        key_material=key_material,
        created_by_id=admin_id,
        now=now,
    )
    evening = last_night(now)
    items = []
    for i, (cls, confidence, minutes_before, note) in enumerate(DETECTIONS):
        at = evening - timedelta(minutes=minutes_before)
        (frame,) = prepare_uploads(
            [UploadedBytes(demo_frame(f"{at:%Y-%m-%d %H:%M:%S}", 6 * i), filename=f"demo-{i}.jpg")],
            limits=limits,
        )
        items.append(
            alert_service.AlertInput(
                device_alert_id=f"demo-{i + 1}",
                class_code=cls,
                confidence=confidence,
                detected_at=at,
                frame=frame,
                note=note,
            )
        )
    outcomes = alert_service.receive_alerts(
        session,
        camera,
        items,
        locator=locator,
        calendar=load_calendar(session),
        policy=policy,
        now=now,
    )
    pending = len({o.alert.id for o in outcomes if o.alert.status == "pending_review"})
    return (
        f"demo devices (【演示】): camera {DEMO_CAMERA}, drone {DEMO_DRONE}; {pending} alerts awaiting review"
    )
