"""Photos sent with reports: POST /api/v1/reports as multipart, and Open311's `media` upload."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.cases.models import Report
from coordinator.evidence.models import Evidence
from tests.evidence import images
from tests.factories import bearer, make_token, make_user

POINT = {"lon": 121.368, "lat": 30.89}  # 奉贤, in the 金山–奉贤 交界地带
OPEN311 = "/open311/v2/requests"


@pytest.fixture
def reporter(session: Session) -> str:
    token = make_token(session, make_user(session, "reporter"))
    session.commit()
    return token


def post_report(
    client: FlaskClient, token: str, photos: list[tuple[bytes, str]], *, key: str | None = None, **fields: Any
) -> TestResponse:
    report = {
        "category": "01-11",
        "description": "沟渠边建筑垃圾",
        "source": "grid_worker",
        **POINT,
        **fields,
    }
    headers = bearer(token)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        "/api/v1/reports",
        data={"report": json.dumps(report), "photos": [(io.BytesIO(d), n) for d, n in photos]},
        headers=headers,
        content_type="multipart/form-data",
    )


def counts(session: Session) -> tuple[int, int]:
    reports = session.scalar(select(func.count()).select_from(Report)) or 0
    evidence = session.scalar(select(func.count()).select_from(Evidence)) or 0
    return reports, evidence


def files_under(tmp_path: Path) -> int:
    root = tmp_path / "evidence"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_a_report_with_photos(client: FlaskClient, session: Session, reporter: str, tmp_path: Path) -> None:
    response = post_report(client, reporter, [(images.jpeg(), "a.jpg"), (images.png(), "b.png")], key="k-1")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [(e["subject_type"], e["subject_id"], e["purpose"]) for e in body["evidence"]] == [
        ("report", body["report_id"], "report"),
        ("report", body["report_id"], "report"),
    ]
    assert body["evidence"][0]["gps"] is None  # a reporter does not see camera positions
    assert files_under(tmp_path) == 4
    # A retry with the same key: the first answer, no second report or photo.
    before = counts(session)
    again = post_report(client, reporter, [(images.jpeg(), "a.jpg"), (images.png(), "b.png")], key="k-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == body and counts(session) == before
    # The reporter may fetch their own upload; the case's staff see it with the case.
    assert client.get(body["evidence"][0]["url"], headers=bearer(reporter)).status_code == 200


def test_a_json_report_still_works_and_has_no_photos(client: FlaskClient, reporter: str) -> None:
    body = {"category": "01-11", "source": "grid_worker", **POINT}
    response = client.post("/api/v1/reports", json=body, headers=bearer(reporter))
    assert response.status_code == 201 and response.get_json()["evidence"] == []


@pytest.mark.parametrize(
    ("photos", "status"),
    [([(b"%PDF-1.4 not a photo", "x.jpg")], 415), ([(images.bomb_png(9000), "bomb.png")], 413)],
    ids=["not-an-image", "too-many-pixels"],
)
def test_a_bad_photo_refuses_the_report_and_stores_nothing(
    client: FlaskClient,
    session: Session,
    reporter: str,
    tmp_path: Path,
    photos: list[tuple[bytes, str]],
    status: int,
) -> None:
    before = counts(session)
    response = post_report(client, reporter, [(images.jpeg(), "ok.jpg"), *photos])
    assert response.status_code == status, response.get_json()
    assert counts(session) == before and files_under(tmp_path) == 0


def test_the_json_part_is_validated_as_strictly_as_a_json_body(client: FlaskClient, reporter: str) -> None:
    strict = post_report(client, reporter, [], lon="121.368")
    assert strict.status_code == 422
    assert strict.get_json()["error"]["details"][0]["field"] == "lon"
    missing = client.post(
        "/api/v1/reports",
        data={"photos": [(io.BytesIO(images.jpeg()), "a.jpg")]},
        headers=bearer(reporter),
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400 and "report" in missing.get_json()["error"]["message"]
    as_file = client.post(
        "/api/v1/reports",
        data={
            "report": (
                io.BytesIO(orjson.dumps({"category": "01-11", "source": "grid_worker", **POINT})),
                "r.json",
            ),
        },
        headers=bearer(reporter),
        content_type="multipart/form-data",
    )
    assert as_file.status_code == 201  # the JSON may come as a file part too


def open311_form(api_key: str, **fields: Any) -> dict[str, Any]:
    return {
        "api_key": api_key,
        "service_code": "01-11",
        "lat": "30.890000",
        "long": "121.368000",
        "description": "沟渠边有人倾倒建筑垃圾",
        **fields,
    }


def test_open311_media_upload_is_stored_and_named_by_media_url(
    client: FlaskClient, session: Session, reporter: str, tmp_path: Path
) -> None:
    form = open311_form(reporter, media=(io.BytesIO(images.jpeg()), "photo.jpg"))
    response = client.post(f"{OPEN311}.json", data=form, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    [created] = response.get_json()
    report_id = int(created["service_request_id"])
    [stored] = session.scalars(select(Evidence).where(Evidence.subject_id == report_id)).all()
    assert (stored.subject_type, stored.media_type, stored.gps_lat) == ("report", "image/jpeg", 30.89)
    [request] = client.get(f"{OPEN311}/{report_id}.json").get_json()
    assert request["media_url"] == f"http://localhost/api/v1/evidence/{stored.id}"
    xml = client.get(f"{OPEN311}/{report_id}.xml")
    assert f"/api/v1/evidence/{stored.id}</media_url>" in xml.get_data(as_text=True)
    staff = make_token(session, make_user(session, "dispatcher"))
    session.commit()
    photo = client.get(f"/api/v1/evidence/{stored.id}", headers=bearer(staff))
    assert photo.status_code == 200 and images.CAMERA.encode() not in photo.data
    assert files_under(tmp_path) == 2


@pytest.mark.parametrize(
    ("media", "status"),
    [((b"GIF89a not really", "x.gif"), 415), ((images.bomb_png(9000), "b.png"), 413)],
    ids=["not-an-image", "too-many-pixels"],
)
def test_open311_bad_media_is_refused_in_the_specs_error_shape(
    client: FlaskClient,
    session: Session,
    reporter: str,
    tmp_path: Path,
    media: tuple[bytes, str],
    status: int,
) -> None:
    before = counts(session)
    form = open311_form(reporter, media=(io.BytesIO(media[0]), media[1]))
    response = client.post(f"{OPEN311}.json", data=form, content_type="multipart/form-data")
    assert response.status_code == status
    [error] = response.get_json()
    assert error["code"] == status
    assert counts(session) == before and files_under(tmp_path) == 0


def test_open311_media_and_media_url_together_are_refused(client: FlaskClient, reporter: str) -> None:
    form = open311_form(
        reporter, media=(io.BytesIO(images.jpeg()), "a.jpg"), media_url="https://img.example.com/1.jpg"
    )
    response = client.post(f"{OPEN311}.xml", data=form, content_type="multipart/form-data")
    assert response.status_code == 400 and b"<errors>" in response.data
