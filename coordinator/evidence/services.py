"""Evidence services: check, store and find files attached to subjects. Plain functions taking a Session.

Writing is two steps so that nothing is stored for a request that fails: `prepare_uploads` checks every
file first (413/415 before anything is written, and before the caller's own writes), then
`store_prepared` puts the blobs and adds the rows in the caller's transaction. `save_image` and
`save_document` do both for one file. A blob written for a transaction that then rolls back is never
named by a row; `prune_blobs` (`flask evidence prune`) removes such blobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Protocol

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from coordinator.errors import NotFound, ValidationFailed
from coordinator.evidence.files import Limits, PreparedFile, prepare_document, prepare_image, read_limited
from coordinator.evidence.models import Evidence
from coordinator.evidence.storage import BlobStore

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # subject types and purposes


class Upload(Protocol):
    """An uploaded file: werkzeug's FileStorage, or `UploadedBytes`."""

    @property
    def filename(self) -> str | None: ...

    @property
    def stream(self) -> IO[bytes]: ...


@dataclass(frozen=True)
class UploadedBytes:
    """A file from elsewhere than a request (the CLI, an import, a test)."""

    data: bytes
    filename: str | None = None

    @property
    def stream(self) -> IO[bytes]:
        import io

        return io.BytesIO(self.data)


def current_store() -> BlobStore:
    """The blob store of the running app (EVIDENCE_STORE and friends; see config/settings.py)."""
    from coordinator.settings import evidence_store

    return evidence_store()


def current_limits() -> Limits:
    """The upload limits of the running app."""
    from coordinator.settings import evidence_limits

    return evidence_limits()


def _check_name(what: str, value: str) -> None:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(f"{what} must match {NAME_PATTERN.pattern}, not {value!r}")


def prepare_uploads(
    uploads: Iterable[Upload], *, limits: Limits, documents: bool = False
) -> list[PreparedFile]:
    """Check every upload (images; with `documents`, PDFs too) before anything is stored: 413 for a
    file over the limit, 415 for one that is not an image (or PDF). Nothing is written."""
    prepared = []
    for upload in uploads:
        name = upload.filename or ""
        data = read_limited(upload.stream, limits, name=name)
        check = prepare_document if documents else prepare_image
        prepared.append(check(data, name=name, limits=limits))
    return prepared


def store_prepared(
    session: Session,
    prepared: PreparedFile,
    *,
    subject_type: str,
    subject_id: int,
    purpose: str,
    uploaded_by_id: int | None,
    store: BlobStore | None = None,
    now: datetime | None = None,
) -> Evidence:
    """Put a checked file's blobs in the store and add its row to the session (flushed: it has an id)."""
    _check_name("subject_type", subject_type)
    _check_name("purpose", purpose)
    store = store or current_store()
    store.put(prepared.sha256, prepared.data, prepared.media_type)
    thumbnail_sha = prepared.thumbnail_sha256
    if prepared.thumbnail is not None and thumbnail_sha is not None:
        store.put(thumbnail_sha, prepared.thumbnail, "image/jpeg")
    evidence = Evidence(
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=purpose,
        kind=prepared.kind,
        media_type=prepared.media_type,
        sha256=prepared.sha256,
        size_bytes=len(prepared.data),
        width=prepared.width,
        height=prepared.height,
        thumbnail_sha256=thumbnail_sha,
        original_name=prepared.original_name,
        gps_lon=prepared.gps[0] if prepared.gps else None,
        gps_lat=prepared.gps[1] if prepared.gps else None,
        uploaded_by_id=uploaded_by_id,
    )
    if now is not None:
        evidence.created_at = now
    session.add(evidence)
    session.flush()
    return evidence


def save_image(
    session: Session,
    upload: Upload,
    *,
    subject_type: str,
    subject_id: int,
    purpose: str,
    uploaded_by_id: int | None,
    store: BlobStore | None = None,
    limits: Limits | None = None,
) -> Evidence:
    """Check one image (413/415, nothing stored on failure) and store it for the subject."""
    (prepared,) = prepare_uploads([upload], limits=limits or current_limits())
    return store_prepared(
        session,
        prepared,
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=purpose,
        uploaded_by_id=uploaded_by_id,
        store=store,
    )


def save_document(
    session: Session,
    upload: Upload,
    *,
    subject_type: str,
    subject_id: int,
    purpose: str,
    uploaded_by_id: int | None,
    store: BlobStore | None = None,
    limits: Limits | None = None,
) -> Evidence:
    """Check one document — a PDF (by its magic bytes) or an image — and store it for the subject."""
    (prepared,) = prepare_uploads([upload], limits=limits or current_limits(), documents=True)
    return store_prepared(
        session,
        prepared,
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=purpose,
        uploaded_by_id=uploaded_by_id,
        store=store,
    )


def list_evidence(
    session: Session, subject_type: str, subject_id: int, *, purpose: str | None = None
) -> list[Evidence]:
    """The evidence of one subject, oldest first."""
    stmt = select(Evidence).where(Evidence.subject_type == subject_type, Evidence.subject_id == subject_id)
    if purpose is not None:
        stmt = stmt.where(Evidence.purpose == purpose)
    return list(session.scalars(stmt.order_by(Evidence.id)))


def list_evidence_of(session: Session, subjects: Sequence[tuple[str, int]]) -> list[Evidence]:
    """The evidence of several subjects (e.g. a case and its reports), oldest first."""
    if not subjects:
        return []
    stmt = select(Evidence).where(tuple_(Evidence.subject_type, Evidence.subject_id).in_(list(subjects)))
    return list(session.scalars(stmt.order_by(Evidence.id)))


def get_evidence(session: Session, evidence_id: int) -> Evidence:
    """One evidence row; 404 if there is none."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"no evidence {evidence_id}", details={"evidence": evidence_id})
    return evidence


def require_count(files: Sequence[object], *, field: str, minimum: int, maximum: int) -> None:
    """422 unless the request carries between `minimum` and `maximum` files in `field`."""
    if not minimum <= len(files) <= maximum:
        raise ValidationFailed(
            f"{field}: {minimum}–{maximum} files expected, got {len(files)}",
            details=[{"field": field, "message": f"{minimum}–{maximum} files", "type": "file_count"}],
        )


def prune_blobs(session: Session, store: BlobStore, *, now: datetime, min_age: timedelta) -> int:
    """Delete the blobs no evidence row names (left by transactions that rolled back) and written more
    than `min_age` ago (younger ones may belong to a transaction still running); their count."""
    named = set(session.scalars(select(Evidence.sha256)))
    named |= {s for s in session.scalars(select(Evidence.thumbnail_sha256)) if s}
    removed = 0
    for digest, written in list(store.digests()):
        if digest not in named and written < now - min_age:
            store.delete(digest)
            removed += 1
    return removed
