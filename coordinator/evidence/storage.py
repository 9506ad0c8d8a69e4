"""Blob stores: bytes kept under their sha256, on the local filesystem or in an S3-compatible bucket.

Content addressing makes a write idempotent (the same photo uploaded twice is stored once, and a retry
writes nothing new) and makes a blob immutable, so its answers can be cached for good. Keys are
`ab/cd/abcd…` (two fan-out levels), below the configured directory or key prefix.

Which store the app uses is configuration (`EVIDENCE_STORE=local|s3`, see config/settings.py);
`store_for(settings)` builds it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from config import Settings
from config.settings import INSTANCE_DIR

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(LookupError):
    """A blob the database names is not in the store."""


def blob_key(sha256: str) -> str:
    """The store key of a blob: `ab/cd/<sha256>`."""
    if not SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobStore(Protocol):
    """Where evidence bytes are kept."""

    def put(self, sha256: str, data: bytes, media_type: str) -> None:
        """Keep `data` under `sha256` (a no-op when it is already there)."""

    def get(self, sha256: str) -> bytes:
        """The bytes under `sha256`; BlobMissing if there are none."""

    def exists(self, sha256: str) -> bool:
        """Whether a blob is stored under `sha256`."""

    def delete(self, sha256: str) -> None:
        """Remove the blob (no error if it is not there)."""

    def digests(self) -> Iterator[tuple[str, datetime]]:
        """The sha256 of every stored blob, with when it was written."""


class LocalStore:
    """Blobs as files under `root` (default instance/evidence), written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def put(self, sha256: str, data: bytes, media_type: str) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def digests(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*/*"):
            if SHA256_HEX.fullmatch(path.name):
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Store:
    """Blobs as objects of an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, 阿里云 OSS's S3 API, …)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, sha256: str) -> str:
        return self.prefix + blob_key(sha256)

    def put(self, sha256: str, data: bytes, media_type: str) -> None:
        if self.exists(sha256):
            return
        self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data, ContentType=media_type)

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(sha256) from None
            raise
        data: bytes = answer["Body"].read()
        return data

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def digests(self) -> Iterator[tuple[str, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if SHA256_HEX.fullmatch(name):
                    yield name, item["LastModified"]


def store_for(settings: Settings) -> BlobStore:
    """The blob store the settings select (`evidence_store`: `local` or `s3`)."""
    if settings.evidence_store == "local":
        root = Path(settings.evidence_dir) if settings.evidence_dir else INSTANCE_DIR / "evidence"
        return LocalStore(root)
    if settings.evidence_store == "s3":
        if not settings.evidence_s3_bucket:
            raise ValueError("EVIDENCE_STORE=s3 needs EVIDENCE_S3_BUCKET")
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=settings.evidence_s3_endpoint_url or None,
            region_name=settings.evidence_s3_region or None,
        )
        return S3Store(client, settings.evidence_s3_bucket, settings.evidence_s3_prefix)
    raise ValueError(f"EVIDENCE_STORE must be 'local' or 's3', not {settings.evidence_store!r}")
