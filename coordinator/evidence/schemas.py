"""Schemas of the evidence API (they validate requests and generate its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coordinator.api import FilePart
from coordinator.evidence.files import IMAGE_MEDIA_TYPES

MAX_FILES = 9  # photos per request, as many as a report's photo URLs
CasePurpose = Literal["before", "after", "other"]

PHOTOS_PART = FilePart(
    name="photos",
    description="Photos (JPEG, PNG or WebP; checked by decoding them, not by name or Content-Type). "
    "413 for a file over the size or pixel limit, 415 for one that is not such an image; either way "
    "nothing of the request is stored.",
    media_types=IMAGE_MEDIA_TYPES,
    max_items=MAX_FILES,
)


class Point(BaseModel):
    """A WGS-84 position."""

    lon: float
    lat: float


class EvidenceOut(BaseModel):
    """A stored photo or document."""

    id: int
    subject_type: str = Field(description="What it is attached to: `case`, `report`, …")
    subject_id: int
    purpose: str = Field(description="`before`, `after`, `report`, `other`, `document`, …")
    kind: Literal["image", "document"]
    media_type: str = Field(description="Sniffed from the content: image/jpeg, image/png, image/webp, PDF.")
    size_bytes: int
    width: int | None
    height: int | None
    original_name: str = Field(description="The uploader's file name (display only).")
    url: str = Field(description="The file (without metadata for images).")
    thumbnail_url: str | None = Field(description="A JPEG at most EVIDENCE_THUMBNAIL_PX on its long side.")
    uploaded_by: str | None = Field(description="Username of the uploader; null for citizens.")
    uploaded_at: datetime
    gps: Point | None = Field(
        description="Where the camera said the photo was taken (from the original's EXIF, which no "
        "file keeps): squads, dispatchers and admins only; null for others or without one."
    )


class EvidenceList(BaseModel):
    """Evidence of one subject (or the files just stored)."""

    evidence: list[EvidenceOut]


class CaseEvidenceForm(BaseModel):
    """The form fields of a case's photo upload (beside the files in `photos`)."""

    model_config = ConfigDict(extra="forbid")
    purpose: CasePurpose = Field(description="`before` (整改前), `after` (整改后) or `other`.")
    note: str = Field(default="", max_length=500, description="Shown in the case's audit trail.")
