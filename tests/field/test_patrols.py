"""Patrollers: grid workers and volunteers, scoped to a town, record clean checks and findings at a
hotspot; a finding becomes a routed case through the normal intake; the hotspot shows its checks;
patrollers see only their own checks and reported cases; dispatchers see each patroller's work."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.auth import services as auth
from coordinator.cases.models import Case, Report
from coordinator.errors import ValidationFailed
from coordinator.evidence.models import Evidence
from coordinator.field.models import PatrolCheck
from coordinator.hotspots.models import Hotspot
from tests.factories import bearer, make_token, make_user
from tests.field.conftest import LAST_NIGHT, NANQIAO, ZHELIN, jpeg

CHECKS = "/api/v1/patrol-checks"


def check(hotspot: Hotspot, outcome: str = "clean", **extra: object) -> dict[str, object]:
    return {
        "lon": ZHELIN[0] + 0.0005,
        "lat": ZHELIN[1],
        "checked_at": LAST_NIGHT.isoformat(),
        "outcome": outcome,
        "hotspot_id": hotspot.id,
        "accuracy_m": 8.0,
        **extra,
    }


def test_a_patroller_records_a_clean_check_and_a_finding_that_becomes_a_routed_case(
    client: FlaskClient, session: Session, hotspot: Hotspot, dispatcher_token: str
) -> None:
    worker = make_user(session, "grid_worker", town="310120118")
    token = make_token(session, worker)
    session.commit()
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["role"] == "grid_worker" and me["town"] == "310120118" and me["district"] == "310120"

    clean = client.post(CHECKS, json=check(hotspot, note="沟渠无异常"), headers=bearer(token))
    assert clean.status_code == 201, clean.get_json()
    assert clean.get_json()["outcome"] == "clean" and clean.get_json()["case_id"] is None
    found = client.post(
        CHECKS,
        json=check(
            hotspot,
            "found",
            category="01-11",
            note="沟渠边新倒建筑垃圾约 3 方",
            photos=["https://img.example.cn/p/1.jpg"],
            checked_at=(LAST_NIGHT + timedelta(hours=1)).isoformat(),
        ),
        headers=bearer(token),
    )
    assert found.status_code == 201, found.get_json()
    finding = found.get_json()
    assert finding["case_number"].startswith("JJ-") and finding["case_status"] == "routed"
    case = session.get_one(Case, finding["case_id"])
    assert case.routing["lead"]["code"] == "SQ-310120118"
    assert [p["code"] for p in case.routing["partners"]] == ["SQ-310116112"]
    report = session.get_one(Report, finding["report_id"])
    assert report.source == "grid_worker" and report.submitted_by_id == worker.id

    # From a phone: the check as JSON in the part `check`, the photos as files (kept as evidence, named
    # on the check and on the finding's report, so the case shows them).
    multipart = client.post(
        CHECKS,
        data={
            "check": json.dumps(check(hotspot, "found", category="01-11", note="又倒了")),
            "photos": [(io.BytesIO(jpeg()), "ditch.jpg")],
        },
        content_type="multipart/form-data",
        headers=bearer(token),
    )
    assert multipart.status_code == 201, multipart.get_json()
    [photo_url] = multipart.get_json()["photos"]
    photo = session.scalars(select(Evidence).where(Evidence.subject_type == "patrol_check")).one()
    assert photo_url.endswith(f"/api/v1/evidence/{photo.id}") and photo.uploaded_by_id == worker.id
    assert session.get_one(Report, multipart.get_json()["report_id"]).photos == [photo_url]
    assert multipart.get_json()["case_id"] == finding["case_id"]  # the same pile: it joins the case
    not_an_image = client.post(
        CHECKS,
        data={"check": json.dumps(check(hotspot)), "photos": [(io.BytesIO(b"not an image"), "x.jpg")]},
        content_type="multipart/form-data",
        headers=bearer(token),
    )
    assert not_an_image.status_code == 415

    # The hotspot shows the checks: last checked, checks a week, the recent checks.
    shown = client.get(f"/api/v1/hotspots/{hotspot.id}/checks", headers=bearer(dispatcher_token)).get_json()
    assert (
        shown["checks_4_weeks"] == 3 and shown["findings_4_weeks"] == 2 and shown["checks_per_week"] == 0.75
    )
    assert shown["last_checked_at"] == (LAST_NIGHT + timedelta(hours=1)).isoformat()
    assert [c["outcome"] for c in shown["recent"]] == ["found", "found", "clean"]

    # The patroller's own cases; the dispatcher's view of each patroller's work.
    mine = client.get("/api/v1/patrollers/me/cases", headers=bearer(token)).get_json()["cases"]
    assert [c["number"] for c in mine] == [finding["case_number"]]
    stats = client.get("/api/v1/patrollers", headers=bearer(dispatcher_token)).get_json()["patrollers"]
    row = next(p for p in stats if p["username"] == worker.username)
    assert (row["checks"], row["clean"], row["findings"], row["confirmed_findings"]) == (3, 1, 2, 0)
    case.status = "verified"
    session.commit()
    stats = client.get("/api/v1/patrollers", headers=bearer(dispatcher_token)).get_json()["patrollers"]
    assert next(p for p in stats if p["username"] == worker.username)["confirmed_findings"] == 2


def test_patrollers_see_only_their_own_checks_and_cases(
    client: FlaskClient, session: Session, hotspot: Hotspot, dispatcher_token: str
) -> None:
    worker = make_token(session, make_user(session, "grid_worker"))
    volunteer_user = make_user(session, "volunteer")
    volunteer = make_token(session, volunteer_user)
    session.commit()
    client.post(CHECKS, json=check(hotspot), headers=bearer(worker))
    found = client.post(CHECKS, json=check(hotspot, "found", category="01-51"), headers=bearer(volunteer))
    assert found.status_code == 201
    report = session.get_one(Report, found.get_json()["report_id"])
    assert report.source == "volunteer"

    theirs = client.get(CHECKS, headers=bearer(volunteer)).get_json()["checks"]
    assert [c["patroller"] for c in theirs] == [volunteer_user.username]
    # Asking for someone else's checks still shows only one's own.
    other = client.get(f"{CHECKS}?patroller=someone", headers=bearer(volunteer)).get_json()["checks"]
    assert [c["patroller"] for c in other] == [volunteer_user.username]
    assert client.get("/api/v1/patrollers/me/cases", headers=bearer(worker)).get_json()["cases"] == []
    # Staff see every check; patrollers see no case list.
    assert len(client.get(CHECKS, headers=bearer(dispatcher_token)).get_json()["checks"]) == 2
    assert client.get("/api/v1/cases", headers=bearer(volunteer)).status_code == 403
    by_hotspot = client.get(f"{CHECKS}?hotspot_id={hotspot.id}", headers=bearer(dispatcher_token)).get_json()
    assert len(by_hotspot["checks"]) == 2


def test_checks_are_scoped_to_the_patroller_s_town(
    client: FlaskClient, session: Session, hotspot: Hotspot
) -> None:
    token = make_token(session, make_user(session, "grid_worker", town="310120118"))
    session.commit()
    far = check(hotspot, hotspot_id=None, lon=NANQIAO[0], lat=NANQIAO[1])
    outside = client.post(CHECKS, json=far, headers=bearer(token))
    assert outside.status_code == 403 and outside.get_json()["error"]["code"] == "outside_town"
    away = client.post(CHECKS, json=check(hotspot, lon=ZHELIN[0] + 0.01), headers=bearer(token))
    assert away.status_code == 422 and away.get_json()["error"]["code"] == "not_at_hotspot"
    no_category = client.post(CHECKS, json=check(hotspot, "found"), headers=bearer(token))
    assert no_category.status_code == 422 and no_category.get_json()["error"]["code"] == "category_required"
    assert client.get(CHECKS, headers=bearer(token)).get_json()["checks"] == []


def test_a_hotspot_id_beyond_the_row_id_range_is_refused_not_a_server_error(
    client: FlaskClient, session: Session, hotspot: Hotspot, dispatcher_token: str
) -> None:
    """On PostgreSQL the id column is 32 bits: the fuzzer's `hotspot_id=28085130449867` was a 500."""
    listed = client.get(f"{CHECKS}?hotspot_id=28085130449867", headers=bearer(dispatcher_token))
    assert listed.status_code == 422 and listed.get_json()["error"]["details"][0]["field"] == "hotspot_id"
    worker = make_token(session, make_user(session, "grid_worker"))
    session.commit()
    posted = client.post(CHECKS, json=check(hotspot, hotspot_id=2**31), headers=bearer(worker))
    assert posted.status_code == 422
    assert session.scalar(select(func.count()).select_from(PatrolCheck)) == 0


def test_a_patroller_needs_a_town(session: Session) -> None:
    with pytest.raises(ValidationFailed) as no_town:
        auth.create_user(session, username="gw_no_town", role="grid_worker")
    assert "--town" in str(no_town.value.details)
    with pytest.raises(ValidationFailed):
        auth.create_user(session, username="gw_bad_town", role="volunteer", town="999999999")
    with pytest.raises(ValidationFailed):
        auth.create_user(session, username="rep_town", role="reporter", town="310120118")
    user = auth.create_user(session, username="gw_ok", role="volunteer", town="310120118")
    assert user.town_code == "310120118" and user.scope_district == "310120"
