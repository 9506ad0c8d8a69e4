"""The evidence API: a case's photo upload (multipart), the file and thumbnail routes, who sees what."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.cases.models import Case
from coordinator.evidence import services
from coordinator.evidence.models import Evidence
from coordinator.settings import SETTINGS_KEY, get_settings
from tests.evidence import images
from tests.factories import bearer, make_case, make_squad, make_token, make_user

Files = list[tuple[bytes, str]]


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A routed case of a 奉贤 squad, and a token per interested party."""
    squad = make_squad(session, district="310120")
    other = make_squad(session, district="310116")
    case = make_case(session, lead=squad)
    tokens = {
        "leader": make_token(session, make_user(session, "squad_leader", squad=squad)),
        "member": make_token(session, make_user(session, "squad_member", squad=squad)),
        "stranger": make_token(session, make_user(session, "squad_member", squad=other)),
        "dispatcher": make_token(session, make_user(session, "dispatcher", district="310120")),
        "committee": make_token(session, make_user(session, "committee")),
        "reporter": make_token(session, make_user(session, "reporter")),
    }
    session.commit()
    return {"case": case, "tokens": tokens}


def upload(
    client: FlaskClient, case_id: int, token: str, files: Files, *, purpose: str = "before", **fields: Any
) -> TestResponse:
    data: dict[str, Any] = {"purpose": purpose, **fields}
    data["photos"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(
        f"/api/v1/cases/{case_id}/evidence",
        data=data,
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def evidence_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Evidence)) or 0


def test_a_squad_uploads_before_photos_and_the_trail_says_so(
    client: FlaskClient, world: dict[str, Any], tmp_path: Path
) -> None:
    case, tokens = world["case"], world["tokens"]
    response = upload(
        client,
        case.id,
        tokens["member"],
        [(images.jpeg(), "IMG_1.jpg"), (images.png(), "IMG_2.png")],
        note="现场",
    )
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["evidence"]
    assert [(e["purpose"], e["media_type"], e["subject_type"]) for e in items] == [
        ("before", "image/jpeg", "case"),
        ("before", "image/png", "case"),
    ]
    assert items[0]["gps"] == {"lon": images.GPS_LONLAT[0], "lat": images.GPS_LONLAT[1]}
    assert items[1]["gps"] is None  # no GPS in that file
    assert len(stored_files(tmp_path)) == 4  # two photos, two thumbnails

    detail = client.get(f"/api/v1/cases/{case.id}", headers=bearer(tokens["leader"])).get_json()
    event = detail["events"][-1]
    assert event["kind"] == "evidence_added" and event["reason"] == "上传整改前照片 2 张：现场"
    assert event["payload"]["evidence_ids"] == [e["id"] for e in items]
    assert [e["id"] for e in detail["evidence"]] == [e["id"] for e in items]
    # The committee reads cases and their photos, but not where a camera says they were taken.
    seen = client.get(f"/api/v1/cases/{case.id}/evidence", headers=bearer(tokens["committee"]))
    assert seen.status_code == 200
    assert [e["gps"] for e in seen.get_json()["evidence"]] == [None, None]


def test_the_file_has_no_metadata_and_is_cached_for_good(client: FlaskClient, world: dict[str, Any]) -> None:
    case, tokens = world["case"], world["tokens"]
    item = upload(client, case.id, tokens["leader"], [(images.jpeg(), "a.jpg")]).get_json()["evidence"][0]
    response = client.get(item["url"], headers=bearer(tokens["committee"]))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert images.CAMERA.encode() not in response.data and b"xmp-secret" not in response.data
    assert not Image.open(io.BytesIO(response.data)).getexif()
    etag = response.headers["ETag"]
    assert len(etag.strip('"')) == 64  # the sha256 of the stored file
    assert set(response.headers["Cache-Control"].split(", ")) == {"private", "max-age=31536000", "immutable"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''a.jpg"
    again = client.get(item["url"], headers={**bearer(tokens["committee"]), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    part = client.get(item["url"], headers={**bearer(tokens["committee"]), "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == response.data[:10]
    thumb = client.get(item["thumbnail_url"], headers=bearer(tokens["member"]))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert thumb.headers["ETag"] != etag


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [(images.png(), "p.png", "image/png"), (images.webp(), "w.webp", "image/webp")],
)
def test_png_and_webp_photos_are_served_as_they_came(
    client: FlaskClient, world: dict[str, Any], content: bytes, name: str, media_type: str
) -> None:
    case, tokens = world["case"], world["tokens"]
    item = upload(client, case.id, tokens["leader"], [(content, name)]).get_json()["evidence"][0]
    assert item["media_type"] == media_type
    response = client.get(item["url"], headers=bearer(tokens["member"]))
    assert response.status_code == 200 and response.mimetype == media_type
    assert b"png-secret" not in response.data  # text chunks are not kept


def test_who_may_upload_and_see(client: FlaskClient, world: dict[str, Any]) -> None:
    case, tokens = world["case"], world["tokens"]
    refused = upload(client, case.id, tokens["stranger"], [(images.jpeg(), "a.jpg")])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert upload(client, case.id, tokens["reporter"], [(images.jpeg(), "a.jpg")]).status_code == 403
    ok = upload(client, case.id, tokens["dispatcher"], [(images.jpeg(), "a.jpg")], purpose="other")
    assert ok.status_code == 201
    url = ok.get_json()["evidence"][0]["url"]
    assert client.get(url, headers=bearer(tokens["reporter"])).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(tokens["stranger"])).status_code == 200  # staff read every case
    assert client.get("/api/v1/evidence/2000000000", headers=bearer(tokens["leader"])).status_code == 404


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([(b"MZ\x90\x00 an executable", "photo.jpg")], 415, "unsupported_media_type"),
        ([(images.pdf(), "photo.jpg")], 415, "unsupported_media_type"),
        ([(images.jpeg(), "ok.jpg"), (b"<svg onload=alert(1)>", "b.jpg")], 415, "unsupported_media_type"),
        ([(images.jpeg(), "ok.jpg"), (b"\xff" * 5000, "big.jpg")], 413, "payload_too_large"),
        ([(images.bomb_png(1500), "bomb.png")], 413, "payload_too_large"),
    ],
    ids=["executable", "pdf-as-photo", "one-bad-of-two", "over-size", "over-pixels"],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: dict[str, Any],
    tmp_path: Path,
    files: Files,
    status: int,
    code: str,
) -> None:
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides(
        {"evidence_max_bytes": 4000, "evidence_max_pixels": 1_000_000}
    )
    case, tokens = world["case"], world["tokens"]
    events_before = len(
        client.get(f"/api/v1/cases/{case.id}", headers=bearer(tokens["leader"])).get_json()["events"]
    )
    response = upload(client, case.id, tokens["leader"], files)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert evidence_count(session) == 0  # no row
    assert stored_files(tmp_path) == []  # no file
    detail = client.get(f"/api/v1/cases/{case.id}", headers=bearer(tokens["leader"])).get_json()
    assert len(detail["events"]) == events_before and detail["evidence"] == []


def test_malformed_uploads(client: FlaskClient, world: dict[str, Any], session: Session) -> None:
    case, tokens = world["case"], world["tokens"]
    none = upload(client, case.id, tokens["leader"], [])
    assert none.status_code == 422 and none.get_json()["error"]["details"][0]["field"] == "photos"
    many = upload(client, case.id, tokens["leader"], [(images.jpeg(), f"{i}.jpg") for i in range(10)])
    assert many.status_code == 422
    stray = client.post(
        f"/api/v1/cases/{case.id}/evidence",
        data={
            "purpose": "after",
            "photos": (io.BytesIO(images.jpeg()), "a.jpg"),
            "other": (io.BytesIO(b"x"), "x"),
        },
        headers=bearer(tokens["leader"]),
        content_type="multipart/form-data",
    )
    assert stray.status_code == 422 and stray.get_json()["error"]["details"][0]["field"] == "other"
    bad_purpose = upload(client, case.id, tokens["leader"], [(images.jpeg(), "a.jpg")], purpose="selfie")
    assert bad_purpose.status_code == 422
    as_json = client.post(
        f"/api/v1/cases/{case.id}/evidence", json={"purpose": "after"}, headers=bearer(tokens["leader"])
    )
    assert as_json.status_code == 400
    assert upload(client, 2_000_000_000, tokens["leader"], [(images.jpeg(), "a.jpg")]).status_code == 404
    assert evidence_count(session) == 0


def test_after_photos_are_the_resolution_evidence(
    client: FlaskClient, world: dict[str, Any], session: Session
) -> None:
    case, tokens = world["case"], world["tokens"]
    headers = bearer(tokens["leader"])
    assert client.post(f"/api/v1/cases/{case.id}/claim", headers=headers).status_code == 200
    assert client.post(f"/api/v1/cases/{case.id}/start", json={}, headers=headers).status_code == 200
    missing = client.post(f"/api/v1/cases/{case.id}/resolve", json={"note": "已清运"}, headers=headers)
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "evidence_required"
    upload(client, case.id, tokens["leader"], [(images.jpeg(), "before.jpg")], purpose="before")
    still = client.post(f"/api/v1/cases/{case.id}/resolve", json={"note": "已清运"}, headers=headers)
    assert still.status_code == 422  # before photos are no proof of the result
    after = upload(client, case.id, tokens["leader"], [(images.jpeg(), "after.jpg")], purpose="after")
    url = after.get_json()["evidence"][0]["url"]
    resolved = client.post(f"/api/v1/cases/{case.id}/resolve", json={"note": "已清运"}, headers=headers)
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"
    session.expire_all()
    assert session.get_one(Case, case.id).resolution_photos == [url]


def test_a_closed_case_takes_no_more_photos(client: FlaskClient, session: Session) -> None:
    squad = make_squad(session, district="310120")
    case = make_case(session, lead=squad, status="closed")
    token = make_token(session, make_user(session, "squad_leader", squad=squad))
    session.commit()
    response = upload(client, case.id, token, [(images.jpeg(), "a.jpg")])
    assert response.status_code == 409 and evidence_count(session) == 0


def test_documents_of_other_subjects_follow_their_rule(
    app: Flask, client: FlaskClient, session: Session, world: dict[str, Any]
) -> None:
    tokens = world["tokens"]
    with app.app_context():
        document = services.save_document(
            session,
            services.UploadedBytes(images.pdf(), "装修图纸.pdf"),
            subject_type="unruled_subject",
            subject_id=7,
            purpose="drawing",
            uploaded_by_id=None,
        )
    session.commit()
    url = f"/api/v1/evidence/{document.id}"
    # No rule registered for this subject type: dispatchers and admins only (renovation filings have
    # theirs: tests/community/test_documents.py).
    assert client.get(url, headers=bearer(tokens["leader"])).status_code == 403
    response = client.get(url, headers=bearer(tokens["dispatcher"]))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == images.pdf()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(url + "/thumbnail", headers=bearer(tokens["dispatcher"])).status_code == 404


def test_the_subject_and_purpose_are_names(session: Session, app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match="subject_type"):
        services.save_image(
            session,
            services.UploadedBytes(images.jpeg()),
            subject_type="Case; DROP",
            subject_id=1,
            purpose="before",
            uploaded_by_id=None,
        )


def test_the_openapi_document_describes_the_multipart_bodies(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    upload_op = paths["/api/v1/cases/{case_id}/evidence"]["post"]
    assert list(upload_op["requestBody"]["content"]) == ["multipart/form-data"]  # files need multipart
    body = upload_op["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["required"] == ["purpose"]
    assert body["schema"]["properties"]["photos"]["items"]["format"] == "binary"
    assert body["schema"]["properties"]["photos"]["maxItems"] == 9
    assert body["encoding"]["photos"]["contentType"] == "image/jpeg, image/png, image/webp"
    assert {"413", "415", "422"} <= set(upload_op["responses"])
    report_op = paths["/api/v1/reports"]["post"]["requestBody"]["content"]
    assert set(report_op) == {"application/json", "multipart/form-data"}
    assert report_op["multipart/form-data"]["encoding"]["report"] == {"contentType": "application/json"}
    assert report_op["multipart/form-data"]["schema"]["properties"]["report"] == {
        "$ref": "#/components/schemas/ReportIn"
    }
    open311 = paths["/open311/v2/requests.json"]["post"]["requestBody"]["content"]
    assert set(open311) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    assert open311["multipart/form-data"]["schema"]["properties"]["media"]["maxItems"] == 1
    assert "service_code" in open311["multipart/form-data"]["schema"]["properties"]
    file_answers = paths["/api/v1/evidence/{evidence_id}"]["get"]["responses"]
    assert set(file_answers["200"]["content"]) == {"image/jpeg", "image/png", "image/webp", "application/pdf"}
    assert "304" in file_answers
