"""Alert frames: the camera's or drone's image of the detection, sent base64 in the alert, checked and
kept by the shared evidence store (coordinator/evidence: decoded with Pillow, re-encoded without EXIF,
content-addressed, with a thumbnail) as evidence of subject `alert`, purpose `frame`.

An oversize frame is refused with 413 and one that is not a JPEG, PNG or WebP image with 415, before
anything is stored; frames are stored only after every alert of the request passed its checks.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.orm import Session

from coordinator.errors import PayloadTooLarge, ValidationFailed
from coordinator.evidence.files import Limits, PreparedFile
from coordinator.evidence.models import Evidence
from coordinator.evidence.services import UploadedBytes, prepare_uploads, store_prepared

SUBJECT_TYPE = "alert"
PURPOSE = "frame"


def decode_frame(encoded: str, *, limits: Limits, index: int) -> PreparedFile:
    """A base64 image from an alert, checked: 413 over the size or pixel limit, 415 if not an image."""
    if len(encoded) > (limits.max_bytes * 4) // 3 + 4:
        raise PayloadTooLarge(
            f"alerts[{index}].frame is larger than {limits.max_bytes} bytes",
            details={"index": index, "max_bytes": limits.max_bytes},
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            f"alerts[{index}].frame is not base64", code="invalid_frame", details={"index": index}
        ) from None
    (prepared,) = prepare_uploads([UploadedBytes(data, filename=f"frame-{index}.jpg")], limits=limits)
    return prepared


def store_frame(session: Session, frame: PreparedFile, alert_id: int) -> Evidence:
    """Keep a checked frame as the alert's evidence."""
    return store_prepared(
        session, frame, subject_type=SUBJECT_TYPE, subject_id=alert_id, purpose=PURPOSE, uploaded_by_id=None
    )
