"""Alert frames: the camera's or drone's JPEG of the detection, checked with Pillow and kept
content-addressed (`<frame_dir>/<sha256[:2]>/<sha256>.jpg`, written once, atomically) until the shared
evidence store (coordinator/evidence) takes them over.

An oversize frame is refused with 413 and a frame that is not a JPEG image with 415, before anything is
stored; files are written only after every alert of the request passed its checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from coordinator.errors import ApiError

FRAME_MEDIA_TYPE = "image/jpeg"
MAX_PIXELS = 40_000_000  # decompression-bomb guard: a 4K frame is 8.3 MP


@dataclass(frozen=True)
class Frame:
    """A checked frame."""

    data: bytes
    sha256: str
    width: int
    height: int


def payload_too_large(message: str, **details: object) -> ApiError:
    """413 in the one error shape."""
    return ApiError(message, code="payload_too_large", status=413, details=details or None)


def decode_frame(encoded: str, *, max_bytes: int, index: int) -> Frame:
    """A base64 JPEG from an alert, checked: 413 if over `max_bytes`, 415 if not a JPEG image."""
    if len(encoded) > (max_bytes * 4) // 3 + 4:
        raise payload_too_large(
            f"alerts[{index}].frame is larger than {max_bytes} bytes", index=index, max_bytes=max_bytes
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            f"alerts[{index}].frame is not base64",
            code="validation_failed",
            status=422,
            details={"index": index},
        ) from None
    if len(data) > max_bytes:
        raise payload_too_large(
            f"alerts[{index}].frame is larger than {max_bytes} bytes", index=index, max_bytes=max_bytes
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            if width * height > MAX_PIXELS:
                raise payload_too_large(f"alerts[{index}].frame has too many pixels", index=index)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        fmt = None
        width = height = 0
    if fmt != "JPEG":
        raise ApiError(
            f"alerts[{index}].frame must be a JPEG image",
            code="unsupported_media_type",
            status=415,
            details={"index": index, "accepted": [FRAME_MEDIA_TYPE]},
        )
    return Frame(data, hashlib.sha256(data).hexdigest(), width, height)


def frame_path(directory: str, sha256: str) -> Path:
    """Where a frame is kept."""
    return Path(directory) / sha256[:2] / f"{sha256}.jpg"


def store_frame(directory: str, frame: Frame) -> None:
    """Write the frame unless it is already there (same content, same name)."""
    path = frame_path(directory, frame.sha256)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(frame.data)
    os.replace(tmp, path)
