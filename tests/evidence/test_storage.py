"""Blob stores: content-addressed files on disk, and objects in an S3-compatible bucket (moto's server)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from config import Settings
from coordinator.evidence import services
from coordinator.evidence.files import Limits
from coordinator.evidence.storage import BlobMissing, BlobStore, LocalStore, S3Store, blob_key, store_for
from coordinator.settings import evidence_store
from tests.evidence import images


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exercise(store: BlobStore) -> None:
    """What every store does: put/get by sha256, idempotent puts, missing blobs, listing, delete."""
    data = b"evidence bytes"
    digest = sha(data)
    assert not store.exists(digest)
    with pytest.raises(BlobMissing):
        store.get(digest)
    store.put(digest, data, "image/jpeg")
    store.put(digest, data, "image/jpeg")  # the same content again: nothing new
    assert store.exists(digest) and store.get(digest) == data
    assert [d for d, _ in store.digests()] == [digest]
    store.delete(digest)
    assert not store.exists(digest)
    store.delete(digest)  # already gone: no error


def test_keys_fan_out_by_the_digest() -> None:
    digest = sha(b"x")
    assert blob_key(digest) == f"{digest[:2]}/{digest[2:4]}/{digest}"
    with pytest.raises(ValueError):
        blob_key("../../etc/passwd")


def test_local_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "evidence")
    exercise(store)
    data = b"photo"
    store.put(sha(data), data, "image/png")
    path = tmp_path / "evidence" / blob_key(sha(data))
    assert path.read_bytes() == data
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert not list(path.parent.glob(".upload-*"))  # no temp file left behind


def test_local_store_is_the_default_under_instance(tmp_path: Path) -> None:
    store = store_for(Settings(secret_key="x"))
    assert isinstance(store, LocalStore) and store.root.parts[-2:] == ("instance", "evidence")
    assert isinstance(store_for(Settings(secret_key="x", evidence_dir=str(tmp_path))), LocalStore)
    with pytest.raises(ValueError, match="EVIDENCE_STORE"):
        store_for(Settings(secret_key="x", evidence_store="ftp"))
    with pytest.raises(ValueError, match="EVIDENCE_S3_BUCKET"):
        store_for(Settings(secret_key="x", evidence_store="s3"))


def test_s3_store_against_an_s3_server(s3_endpoint: str, s3_env: None) -> None:
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="evidence-test")
    settings = Settings(
        secret_key="x",
        evidence_store="s3",
        evidence_s3_bucket="evidence-test",
        evidence_s3_endpoint_url=s3_endpoint,
        evidence_s3_prefix="jiaojie/",
    )
    store = store_for(settings)
    assert isinstance(store, S3Store)
    exercise(store)
    data = images.jpeg()
    store.put(sha(data), data, "image/jpeg")
    head = store.client.head_object(Bucket="evidence-test", Key="jiaojie/" + blob_key(sha(data)))
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(data)


def test_save_image_into_s3_and_prune_what_no_row_names(
    session: Session, s3_endpoint: str, s3_env: None
) -> None:
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="evidence-prune")
    store = S3Store(client, "evidence-prune", "p/")
    evidence = services.save_image(
        session,
        services.UploadedBytes(images.jpeg(), "a.jpg"),
        subject_type="case",
        subject_id=1,
        purpose="before",
        uploaded_by_id=None,
        store=store,
        limits=Limits(),
    )
    assert store.exists(evidence.sha256) and evidence.thumbnail_sha256 is not None
    assert store.exists(evidence.thumbnail_sha256)
    orphan = b"left by a rolled-back transaction"
    store.put(sha(orphan), orphan, "image/jpeg")
    now = datetime.now(UTC)
    assert services.prune_blobs(session, store, now=now, min_age=timedelta(hours=1)) == 0  # too young
    assert services.prune_blobs(session, store, now=now + timedelta(hours=2), min_age=timedelta(hours=1)) == 1
    assert not store.exists(sha(orphan)) and store.exists(evidence.sha256)


def test_the_prune_command(app: Flask, cli: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    with app.app_context():
        kept = services.save_image(
            session,
            services.UploadedBytes(images.jpeg()),
            subject_type="case",
            subject_id=1,
            purpose="after",
            uploaded_by_id=None,
        )
        store = evidence_store()
    session.commit()
    orphan = b"orphan"
    store.put(sha(orphan), orphan, "image/jpeg")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    path = tmp_path / "evidence" / blob_key(sha(orphan))
    os.utime(path, (old, old))
    result = cli.invoke(args=["evidence", "prune"])
    assert result.exit_code == 0, result.output
    assert "removed 1 unreferenced blob(s)" in result.output
    assert not path.exists() and store.exists(kept.sha256)
