"""Filing documents and inspection photos go through coordinator/evidence: bad files get a clear 4xx
and store nothing; the filing's readers (its property manager, the district's dispatchers, the town's
squad) see them, nobody else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.evidence.models import Evidence
from coordinator.settings import SETTINGS_KEY, get_settings
from tests.community.conftest import People
from tests.community.test_renovation import FILING, setup_compound
from tests.evidence import images
from tests.factories import bearer

Files = list[tuple[bytes, str]]


def upload(people: People, who: str, url: str, field: str, files: Files, **form: str) -> TestResponse:
    data: dict[str, object] = {**form, field: [(io.BytesIO(body), name) for body, name in files]}
    return people.client.post(
        url, data=data, headers=bearer(people.tokens[who]), content_type="multipart/form-data"
    )


def stored(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]


def make_filing(people: People, session: Session) -> int:
    compound_id = setup_compound(people, session)
    filed = people.call("pm", "POST", "/api/v1/renovation-filings", {**FILING, "compound_id": compound_id})
    return int(filed.get_json()["id"])


def test_documents_are_seen_by_the_filings_readers_only(people: People, session: Session) -> None:
    fid = make_filing(people, session)
    url = f"/api/v1/renovation-filings/{fid}/documents"
    sent = upload(
        people,
        "pm",
        url,
        "documents",
        [(images.pdf(), "平面图.pdf"), (images.png(), "现场.png")],
        purpose="drawing",
    )
    assert sent.status_code == 201, sent.get_json()
    rows = sent.get_json()["evidence"]
    assert [(e["kind"], e["purpose"], e["subject_type"]) for e in rows] == [
        ("document", "drawing", "renovation_filing"),
        ("image", "drawing", "renovation_filing"),
    ]
    pdf_url = rows[0]["url"]
    for who in ("pm", "dispatcher", "member"):
        assert people.call(who, "GET", pdf_url).status_code == 200, who
        assert [e["id"] for e in people.call(who, "GET", url).get_json()["evidence"]] == [
            r["id"] for r in rows
        ]
    for who in ("other_pm", "committee", "citizen"):
        assert people.call(who, "GET", pdf_url).status_code == 403, who
    assert people.call("other_pm", "GET", url).status_code == 403
    assert people.call("member", "GET", f"/api/v1/renovation-filings/{fid}").get_json()["documents"] == [
        r["id"] for r in rows
    ]
    # Only the property manager and the dispatcher add documents.
    assert (
        upload(people, "member", url, "documents", [(images.pdf(), "x.pdf")], purpose="document").status_code
        == 403
    )


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([(b"MZ\x90\x00 an executable", "图纸.pdf")], 415, "unsupported_media_type"),
        (
            [(images.pdf(), "ok.pdf"), (b"<html><script>alert(1)</script>", "b.pdf")],
            415,
            "unsupported_media_type",
        ),
        ([(images.pdf(), "ok.pdf"), (b"%PDF-1.4\n" + b"x" * 5000, "big.pdf")], 413, "payload_too_large"),
    ],
    ids=["executable", "one-bad-of-two", "over-size"],
)
def test_bad_documents_get_a_clear_4xx_and_store_nothing(
    app: Flask, people: People, session: Session, tmp_path: Path, files: Files, status: int, code: str
) -> None:
    app.extensions[SETTINGS_KEY] = get_settings(app).with_overrides({"evidence_max_bytes": 4000})
    fid = make_filing(people, session)
    response = upload(
        people, "pm", f"/api/v1/renovation-filings/{fid}/documents", "documents", files, purpose="document"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert session.scalar(select(func.count(Evidence.id))) == 0
    assert stored(tmp_path) == []


def test_inspection_photos(people: People, session: Session, tmp_path: Path) -> None:
    fid = make_filing(people, session)
    assert (
        people.call("dispatcher", "POST", f"/api/v1/renovation-filings/{fid}/accept", {}).status_code == 200
    )
    inspection = people.call(
        "member",
        "POST",
        f"/api/v1/renovation-filings/{fid}/inspections",
        {"kind": "spot_check", "result": "pass"},
    )
    iid = inspection.get_json()["id"]
    url = f"/api/v1/renovation-inspections/{iid}/photos"
    assert (
        upload(people, "pm", url, "photos", [(images.jpeg(), "a.jpg")]).status_code == 403
    )  # not the pm's check
    bad = upload(people, "member", url, "photos", [(images.pdf(), "a.jpg")])
    assert bad.status_code == 415 and stored(tmp_path) == []
    sent = upload(people, "member", url, "photos", [(images.jpeg(), "a.jpg")])
    assert sent.status_code == 201
    photo = sent.get_json()["evidence"][0]
    detail = people.call("pm", "GET", f"/api/v1/renovation-filings/{fid}").get_json()
    assert detail["inspections"][0]["photos"] == [photo["id"]]
    assert people.call("pm", "GET", photo["url"]).status_code == 200
    assert people.call("committee", "GET", photo["url"]).status_code == 403
