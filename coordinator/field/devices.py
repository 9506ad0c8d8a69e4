"""The device registry and how a device proves who it is.

Each camera or drone gets its own random secret, shown once when it is registered (or rotated). Every
request it makes is signed:

    X-Device-Id:        the device code
    X-Device-Timestamp: Unix seconds when the request was signed
    X-Device-Nonce:     8–64 characters [A-Za-z0-9_-], never reused by this device
    X-Device-Signature: sha256=<hex HMAC-SHA256(secret, canonical)>

    canonical = METHOD "\\n" PATH "\\n" TIMESTAMP "\\n" NONCE "\\n" hex(SHA-256(body))

A timestamp further than `device_clock_skew_s` from the server's clock is stale; a nonce the device
already used (within that window, which is as long as nonces are kept) is a replay. Both are refused
before anything is stored.

Why the secret is stored encrypted, not hashed: checking an HMAC means computing it again, which needs
the secret itself — a hash of it would be useless for that (and signing with the hash would just make
the hash the secret). So the secret is sealed with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package) under a key derived from `DEVICE_SECRET_KEY` (or SECRET_KEY): a copy of the
database alone does not reveal any device's secret, and the API never shows it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordinator.errors import ApiError, Conflict, Forbidden, NotFound, ValidationFailed
from coordinator.field.models import Device, DeviceNonce
from coordinator.squads.models import Squad
from geo.jurisdictions import MEMBER_DISTRICTS

DEVICE_HEADER = "X-Device-Id"
TIMESTAMP_HEADER = "X-Device-Timestamp"
NONCE_HEADER = "X-Device-Nonce"
SIGNATURE_HEADER = "X-Device-Signature"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
SECRET_PREFIX = "dev_"


class DeviceUnauthorized(ApiError):
    """A device request without a valid signature (401, with its own code: what was wrong)."""

    status = 401
    code = "unauthorized"


# -- secrets at rest -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(b"jiaojie device secrets\x00" + key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str, key_material: str) -> str:
    """The secret encrypted for storage."""
    return _fernet(key_material).encrypt(secret.encode()).decode()


@lru_cache(maxsize=4096)
def unseal(sealed: str, key_material: str) -> str:
    """The secret back (cached per process: decrypting on every request would cost more than the HMAC)."""
    try:
        return _fernet(key_material).decrypt(sealed.encode()).decode()
    except InvalidToken:  # the key changed since the secret was issued
        raise DeviceUnauthorized(
            "this device's secret was sealed under another key; issue it a new secret",
            code="device_secret_unreadable",
        ) from None


def new_secret() -> str:
    """A fresh device secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# -- signatures ------------------------------------------------------------------------------------


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The string a device signs."""
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The X-Device-Signature value (what a device computes; tests and the bench use it)."""
    mac = hmac.new(secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(
    code: str, secret: str, method: str, path: str, body: bytes, *, now: float, nonce: str | None = None
) -> dict[str, str]:
    """Every header of a signed device request."""
    timestamp = str(int(now))
    nonce = nonce or secrets.token_urlsafe(12)
    return {
        DEVICE_HEADER: code,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, method, path, timestamp, nonce, body),
    }


@dataclass(frozen=True)
class SignedRequest:
    """What a device request carries besides its body."""

    device_code: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None
    method: str
    path: str
    body: bytes


def verify(session: Session, req: SignedRequest, *, key_material: str, skew_s: int, now: datetime) -> Device:
    """The device that signed `req`, or 401 (unknown device, stale timestamp, bad signature) / 403
    (deactivated). Writes nothing: `claim_nonce` records the nonce once the request is accepted."""
    if not (req.device_code and req.timestamp and req.nonce and req.signature):
        raise DeviceUnauthorized(
            "device requests must carry X-Device-Id, X-Device-Timestamp, X-Device-Nonce and "
            "X-Device-Signature",
            code="signature_missing",
        )
    device = session.scalars(select(Device).where(Device.code == req.device_code)).first()
    if device is None:
        raise DeviceUnauthorized("unknown device", code="unknown_device", details={"device": req.device_code})
    try:
        ts = int(req.timestamp)
    except ValueError:
        raise DeviceUnauthorized("X-Device-Timestamp must be Unix seconds", code="stale_timestamp") from None
    if abs(now.timestamp() - ts) > skew_s:
        raise DeviceUnauthorized(
            f"the request timestamp is more than {skew_s} s from the server clock; sign it again",
            code="stale_timestamp",
            details={"timestamp": ts, "server_time": int(now.timestamp())},
        )
    if not NONCE_RE.match(req.nonce):
        raise DeviceUnauthorized("X-Device-Nonce must be 8–64 of [A-Za-z0-9_-]", code="bad_signature")
    secret = unseal(device.secret_sealed, key_material)
    expected = sign(secret, req.method, req.path, req.timestamp, req.nonce, req.body)
    if not hmac.compare_digest(expected, req.signature):
        raise DeviceUnauthorized("the signature does not match", code="bad_signature")
    if not device.active:
        raise Forbidden("this device is deactivated", code="device_inactive", details={"device": device.code})
    return device


def claim_nonce(session: Session, device: Device, nonce: str, *, now: datetime, keep_s: int) -> None:
    """Record the request's nonce; 409 if the device used it before (a replay). Nonces older than the
    clock skew window are dropped: a request that old is refused as stale anyway."""
    conn = session.connection()
    conn.execute(delete(DeviceNonce).where(DeviceNonce.seen_at < now - timedelta(seconds=2 * keep_s)))
    try:
        with session.begin_nested():
            session.connection().execute(
                insert(DeviceNonce).values(device_id=device.id, nonce=nonce, seen_at=now)
            )
    except IntegrityError:
        raise Conflict(
            "this signed request was already received (nonce reused): a replay is refused",
            code="replayed",
            details={"device": device.code, "nonce": nonce},
        ) from None


# -- registry --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceInput:
    """A device as registered."""

    code: str
    kind: str
    name: str = ""
    lon: float | None = None
    lat: float | None = None
    view_direction_deg: float | None = None
    district: str | None = None
    border_pair: tuple[str, str] | None = None
    operator_squad: str | None = None


def register_device(
    session: Session, data: DeviceInput, *, key_material: str, created_by_id: int | None, now: datetime
) -> tuple[Device, str]:
    """Register a device; returns it and its secret (shown this once)."""
    problems = []
    if not CODE_RE.match(data.code):
        problems.append("code: 3–64 letters, digits, '_', '.' or '-'")
    squad_id: int | None = None
    if data.kind == "camera":
        if data.lon is None or data.lat is None:
            problems.append("a camera needs its position (lon, lat)")
        if data.district is None:
            problems.append("a camera needs its owner district")
        if data.operator_squad is not None:
            problems.append("only drones have an operator squad")
    else:
        if data.operator_squad is None:
            problems.append("a drone needs its operator squad")
        else:
            squad_id = session.scalar(select(Squad.id).where(Squad.code == data.operator_squad))
            if squad_id is None:
                problems.append(f"operator_squad: no squad {data.operator_squad!r}")
    if data.district is not None and data.district not in MEMBER_DISTRICTS:
        problems.append(f"district: one of {', '.join(sorted(MEMBER_DISTRICTS))}")
    pair = tuple(sorted(data.border_pair)) if data.border_pair else None
    if pair is not None and (pair[0] == pair[1] or not set(pair) <= set(MEMBER_DISTRICTS)):
        problems.append("border_pair: two different member districts")
    if problems:
        raise ValidationFailed("cannot register the device", details=problems, code="invalid_device")
    if session.scalar(select(Device.id).where(Device.code == data.code)) is not None:
        raise Conflict(f"device {data.code!r} already exists", details={"code": data.code})
    secret = new_secret()
    device = Device(
        code=data.code,
        kind=data.kind,
        name=data.name,
        secret_sealed=seal(secret, key_material),
        secret_prefix=secret[:10],
        lon=data.lon,
        lat=data.lat,
        view_direction_deg=data.view_direction_deg,
        district_code=data.district,
        border_a=pair[0] if pair else None,
        border_b=pair[1] if pair else None,
        operator_squad_id=squad_id,
        active=True,
        window_alerts=0,
        throttle_count=0,
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(device)
    session.flush()
    return device, secret


def rotate_secret(session: Session, device: Device, *, key_material: str) -> str:
    """Give the device a new secret (the old one stops working at once); returns it, shown once."""
    secret = new_secret()
    device.secret_sealed = seal(secret, key_material)
    device.secret_prefix = secret[:10]
    session.flush()
    return secret


def get_device(session: Session, code: str) -> Device:
    """A device by code, or 404."""
    device = session.scalars(select(Device).where(Device.code == code)).first()
    if device is None:
        raise NotFound(f"no device {code!r}", details={"code": code})
    return device


def list_devices(session: Session, *, kind: str | None = None) -> list[Device]:
    """Devices by code."""
    stmt = select(Device).order_by(Device.code)
    if kind is not None:
        stmt = stmt.where(Device.kind == kind)
    return list(session.scalars(stmt))
