"""The response-contract check (tests/contracts.py) catches each kind of drift between what a route
answers and what its OpenAPI document and pydantic models promise; the models leave nothing untyped."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel, create_model

from coordinator import access_rules, create_app
from coordinator.api import GEOJSON, JSON, ErrorBody, Operation, documented_file, documented_model, endpoint
from coordinator.cases.schemas import CaseFeatureCollection, CasePage
from coordinator.health import Liveness
from coordinator.open311.schemas import Open311Errors
from coordinator.review.schemas import CaseExportCollection
from tests.contracts import (
    FREE_FORM_FIELDS,
    XLSX,
    Answer,
    ContractClient,
    ContractViolation,
    check_answer,
    document_mismatches,
    documented_models,
    documented_success_answers,
    free_form_fields,
    undocumented_status,
)

CATEGORY = {
    "code": "01-11",
    "name": "积存垃圾渣土",
    "name_en": "Dumped construction waste",
    "major_class": "市容环境",
    "dedup_radius_m": 50.0,
    "dedup_window_h": 24.0,
    "claim_limit": "2 work_hours",
    "resolve_limit": "1 work_days",
}
NOT_FOUND = {"error": {"code": "not_found", "message": "no such case", "details": None}}


def answer(path: str, body: Any, *, status: int = 200, media_type: str = JSON, method: str = "GET") -> Answer:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Answer(method, path, status, media_type, raw)


def categories(**changes: Any) -> dict[str, Any]:
    return {"categories": [{**CATEGORY, **changes}]}


def operation(app: Flask, endpoint_name: str) -> Operation:
    op: Operation = app.view_functions[endpoint_name].__api_operation__  # type: ignore[attr-defined]
    return op


def test_a_documented_answer_passes(app: Flask) -> None:
    check_answer(app, answer("/api/v1/categories", categories()))
    check_answer(app, answer("/api/v1/cases/1", NOT_FOUND, status=404))
    check_answer(app, answer("/api/v1/auth/logout", b"", status=204, media_type="", method="POST"))


def test_a_field_the_model_does_not_document_fails_with_its_path(app: Flask) -> None:
    with pytest.raises(
        ContractViolation, match=r"categories\.0\.icon: sent, but the model does not document"
    ):
        check_answer(app, answer("/api/v1/categories", categories(icon="trash")))
    with pytest.raises(ContractViolation, match=r"error\.hint: sent, but the model does not document"):
        check_answer(
            app, answer("/api/v1/cases/1", {"error": {**NOT_FOUND["error"], "hint": "x"}}, status=404)
        )


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"dedup_radius_m": "50"}, r"categories\.0\.dedup_radius_m: Input should be a valid number"),
        ({"name_en": None}, r"categories\.0\.name_en: Input should be a valid string"),
        ({"code": 111}, r"categories\.0\.code: Input should be a valid string"),
    ],
)
def test_a_value_of_the_wrong_type_fails(app: Flask, changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ContractViolation, match=complaint):
        check_answer(app, answer("/api/v1/categories", categories(**changes)))


def test_a_missing_field_fails(app: Flask) -> None:
    body = categories()
    del body["categories"][0]["claim_limit"]
    with pytest.raises(ContractViolation, match=r"categories\.0\.claim_limit: Field required"):
        check_answer(app, answer("/api/v1/categories", body))


def test_an_undocumented_status_or_media_type_fails(app: Flask) -> None:
    with pytest.raises(ContractViolation, match="status 404 is not documented"):
        check_answer(app, answer("/livez", NOT_FOUND, status=404))
    with pytest.raises(ContractViolation, match=r"Content-Type 'application/geo\+json' is not documented"):
        check_answer(app, answer("/livez", {"status": "ok"}, media_type=GEOJSON))
    with pytest.raises(ContractViolation, match="documented without a body"):
        check_answer(app, answer("/api/v1/auth/logout", {}, status=204, method="POST"))


def test_errors_have_the_shape_of_their_standard(app: Flask) -> None:
    open311_404 = [{"code": 404, "description": "no such request"}]
    check_answer(app, answer("/open311/v2/requests/9.json", open311_404, status=404))
    with pytest.raises(ContractViolation, match="does not validate as Open311Errors"):
        check_answer(app, answer("/open311/v2/requests/9.json", NOT_FOUND, status=404))
    # no route at all: the error handlers' shape, per prefix
    check_answer(app, answer("/api/v1/nowhere", NOT_FOUND, status=404))
    check_answer(app, answer("/open311/nowhere", open311_404, status=404))
    with pytest.raises(ContractViolation, match="does not validate as ErrorBody"):
        check_answer(app, answer("/api/v1/nowhere", open311_404, status=404))


def test_an_injected_failure_may_answer_an_undocumented_status_in_the_error_shape(app: Flask) -> None:
    failure = {"error": {"code": "internal_error", "message": "logged", "details": None}}
    with pytest.raises(ContractViolation, match="status 500 is not documented"):
        check_answer(app, answer("/livez", failure, status=500))
    with undocumented_status(500, "this test"):
        check_answer(app, answer("/livez", failure, status=500))
        with pytest.raises(ContractViolation, match="does not validate as ErrorBody"):
            check_answer(app, answer("/livez", {"status": "broken"}, status=500))


def test_routes_outside_the_api_are_listed_and_every_other_route_must_be_declared(app: Flask) -> None:
    check_answer(app, answer("/api/docs", b"<html></html>", media_type="text/html"))
    app.add_url_rule("/api/v1/undeclared", "undeclared", lambda: {"status": "ok"})
    with pytest.raises(ContractViolation, match=r"not declared with coordinator\.api\.endpoint"):
        check_answer(app, answer("/api/v1/undeclared", {"status": "ok"}))


def test_every_client_of_every_app_checks_what_it_gets(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    drifting = endpoint(summary="Answers more than documented", tags=["test"], response=Liveness)(
        lambda: {"status": "ok", "uptime_s": 12}
    )
    app.add_url_rule("/drifting", "drifting", drifting)
    monkeypatch.setitem(access_rules.RULES, "drifting", access_rules.PUBLIC)
    with pytest.raises(ContractViolation, match=r"GET /drifting → 200 .*\n  uptime_s: sent, but the model"):
        client.get("/drifting")
    other = create_app({"database_url": "sqlite://", "testing": True, "secret_key": "test"})
    assert isinstance(other.test_client(), ContractClient)
    other.extensions["coordinator.engine"].dispose()
    other.extensions["coordinator.counter_engine"].dispose()


def test_the_document_must_give_each_model_its_own_schema(app: Flask) -> None:
    for model in documented_models(app):
        assert document_mismatches(app, model) == [], model
    # Same fields, other docs: one component may serve both. Other fields: the document would lie.
    same = create_model("DeskRef", __doc__="Another desk.", code=(str, ...), name=(str, ...))
    other = create_model("DeskRef", code=(str, ...), name=(int, ...))
    assert document_mismatches(app, same) == []
    assert document_mismatches(app, other) == [
        "#/components/schemas/DeskRef is not the schema of DeskRef in DeskRef"
    ]


def test_documented_model_per_status_and_media_type(app: Flask) -> None:
    cases = operation(app, "cases.list_cases")
    assert documented_model(cases, 200, JSON) is CasePage
    assert documented_model(cases, 200, GEOJSON) is CaseFeatureCollection
    assert documented_model(cases, 403, JSON) is ErrorBody
    assert documented_model(operation(app, "open311.get_request"), 404, JSON) is Open311Errors
    assert documented_model(operation(app, "auth.logout"), 204, JSON) is None
    for status, media_type in ((201, JSON), (200, "text/csv"), (404, "text/html")):
        with pytest.raises(LookupError):
            documented_model(cases, status, media_type)


def test_a_file_answer_passes_in_its_documented_media_type_and_not_empty(app: Flask) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    check_answer(app, answer("/api/v1/rosters/1.ics", ics, media_type="text/calendar"))
    with pytest.raises(ContractViolation, match="a file is documented, but the body is empty"):
        check_answer(app, answer("/api/v1/rosters/1.ics", b"", media_type="text/calendar"))
    with pytest.raises(ContractViolation, match="Content-Type 'text/csv' is not documented"):
        check_answer(app, answer("/api/v1/rosters/1.ics", b"a,b", media_type="text/csv"))
    check_answer(app, answer("/api/v1/rosters/1.ics", NOT_FOUND, status=404))


def test_coverage_counts_every_media_type_of_every_success_answer(app: Flask) -> None:
    wanted = documented_success_answers(app)
    assert {("cases.list_cases", JSON), ("cases.list_cases", GEOJSON), ("auth.logout", None)} <= wanted
    # a route that answers only a file is covered by that file, not by an answer without a body
    assert ("rosters.roster_calendar", "text/calendar") in wanted
    assert ("rosters.roster_calendar", None) not in wanted
    assert ("openapi.docs", "text/html") not in {(e, m) for e, m in wanted}


def test_response_models_type_every_field_but_the_listed_free_form_ones(app: Flask) -> None:
    models: set[type[BaseModel]] = documented_models(app)
    found = set().union(*(free_form_fields(model) for model in models))
    assert found == set(FREE_FORM_FIELDS)


def test_a_file_answer_must_be_a_readable_file_of_its_media_type(app: Flask) -> None:
    export, report, feed = (
        "/api/v1/review/summary/export",
        "/api/v1/review/report",
        "/api/v1/meetings/calendar.ics",
    )
    table = "交界区对,新立案件\r\n奉贤-金山,3\r\n".encode()
    check_answer(app, answer(export, b"\xef\xbb\xbf" + table, media_type="text/csv"))
    with pytest.raises(ContractViolation, match=r"not a readable text/csv file: .*byte order mark"):
        check_answer(app, answer(export, table, media_type="text/csv"))
    with pytest.raises(ContractViolation, match=r"not a readable application/vnd\.openxml"):
        check_answer(app, answer(export, b"not a workbook", media_type=XLSX))
    with pytest.raises(ContractViolation, match="not a readable text/html file"):
        check_answer(app, answer(report, b"<p>no page</p>", media_type="text/html"))
    with pytest.raises(ContractViolation, match="not a readable text/calendar file"):
        check_answer(app, answer(feed, b"BEGIN:VEVENT\r\n", media_type="text/calendar"))
    with pytest.raises(ContractViolation, match="Content-Type 'text/calendar' is not documented"):
        check_answer(app, answer(export, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", media_type="text/calendar"))


def test_documented_file_and_model_of_an_export(app: Flask) -> None:
    export = operation(app, "review.export_cases")
    assert documented_model(export, 200, GEOJSON) is CaseExportCollection
    assert documented_file(export, 200, "text/csv") == export.files["text/csv"]
    assert documented_file(export, 200, GEOJSON) is None
    assert documented_file(export, 422, "text/csv") is None
    with pytest.raises(LookupError):
        documented_model(export, 200, "text/csv")
    wanted = documented_success_answers(app)
    assert {
        ("review.export_cases", "text/csv"),
        ("review.export_cases", XLSX),
        ("review.export_cases", GEOJSON),
        ("meetings.calendar_feed", "text/calendar"),
        ("review.report", "text/html"),
    } <= wanted
    assert ("review.export_cases", None) not in wanted
