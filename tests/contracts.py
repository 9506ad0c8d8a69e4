"""Response contracts: every answer a test gets from the app is checked against what the OpenAPI document
promises for it, and against the pydantic model that document is generated from.

`ContractClient` (the test client class of every app the tests build, see tests/conftest.py) passes each
answer to `check_answer`, which fails the request at once with `ContractViolation` when:
- the route is not declared with `coordinator.api.endpoint` (and not one of NON_API_ENDPOINTS);
- the status, or the Content-Type for that status, is not in the operation's documented responses;
- the OpenAPI document does not name the model `coordinator.api.documented_model` picks, or its schema
  of that model (or of a model nested in it) differs in shape from the model's own;
- the body is not valid for the model (`model_validate_json(strict=True)`: types, required, nullable,
  literals), or differs from the validated model dumped back to JSON — which catches every field the
  server sends but the model does not document, at any depth;
- a GeoJSON answer holds a polygon not wound as RFC 7946 §3.1.6 says (exterior rings counter-clockwise,
  holes clockwise): `winding_problems`;
- an XML answer (Open311) is not UTF-8 with the XML declaration, or its elements are not the model's
  fields under the spec's names (coordinator.open311.xml); and for a GET, its content differs from the
  JSON route's answer to the same request (the client fetches that twin and compares them);
- a file answer (`files=` of the endpoint: CSV, XLSX, HTML, iCalendar, JPEG) is documented with another
  schema than `coordinator.openapi.file_schema`, is empty, or is not a readable file of its media type
  (FILE_READERS: each is opened with the library a user's program would use).

Success answers are recorded in `checked`; the run fails at the end (tests/conftest.py) if a documented
success answer of some route was never checked.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, get_args, get_origin
from weakref import WeakKeyDictionary

import icalendar
import numpy as np
import openpyxl
import orjson
import shapely
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from coordinator.api import GEOJSON, JSON, ErrorBody, Operation, documented_file, documented_model
from coordinator.errors import RENDERERS_KEY, ErrorRenderer
from coordinator.open311 import views as open311
from coordinator.open311 import xml as open311_xml
from coordinator.open311.schemas import Open311Errors
from coordinator.openapi import REF_TEMPLATE, file_schema, openapi_document

# Routes that are not API operations: their answers are not JSON documents of a model.
NON_API_ENDPOINTS = {
    "static": "files of the web UI",
    "openapi.openapi_json": "the OpenAPI document itself (tests/test_openapi.py validates it)",
    "openapi.docs": "the HTML page of the API docs",
    **{
        f"web.{name}": "a page of the web app (HTML; tests/web checks it)"
        for name in (
            "static",
            "index",
            "login",
            "set_language",
            "inbox",
            "case_page",
            "map_page",
            "desk_page",
            "dashboard_page",
            "meetings_page",
            "meeting_page",
            "rosters_page",
            "roster_page",
            "report_page",
            "status_page",
            "patrol_page",
            "rewards_page",
            "filings_page",
            "new_filing_page",
            "filing_page",
            "compounds_page",
            "my_reports_page",
            "alerts_page",
            "devices_page",
        )
    },
}
# The model of each error body that replaces ours under a path prefix.
ERROR_RENDERER_MODELS: dict[ErrorRenderer, type[BaseModel]] = {open311.render_error: Open311Errors}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def _read_csv(body: bytes) -> None:
    # Excel needs the BOM to read UTF-8 (Chinese) correctly: every CSV of the service starts with one.
    text = body.decode("utf-8")
    if not text.startswith(BOM):
        raise ValueError("no UTF-8 byte order mark")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        raise ValueError("no header row, or rows of another width than the header")


def _read_xlsx(body: bytes) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        if not any(sheet.max_row for sheet in workbook.worksheets):
            raise ValueError("no worksheet with rows")
    finally:
        workbook.close()


def _read_calendar(body: bytes) -> None:
    calendar = icalendar.Calendar.from_ical(body)
    if calendar.name != "VCALENDAR":
        raise ValueError(f"a {calendar.name}, not a VCALENDAR")


def _read_html(body: bytes) -> None:
    if not body.decode("utf-8").lstrip().lower().startswith("<!doctype html>"):
        raise ValueError("no <!doctype html>")


def _read_image(body: bytes) -> None:
    with Image.open(io.BytesIO(body)) as image:
        image.load()
        if image.getexif():  # what the service serves carries no EXIF (no GPS position)
            raise ValueError("the image carries EXIF metadata")


def _read_pdf(body: bytes) -> None:
    if not body.startswith(b"%PDF-"):
        raise ValueError("no %PDF- header")


def _read_prometheus(body: bytes) -> None:
    # The only text/plain answer is /metrics: Prometheus's own parser reads every family of it.
    families = list(text_string_to_metric_families(body.decode("utf-8")))
    if not families:
        raise ValueError("no metric families")


# How each media type of a file answer is opened: the check that it is a file of that type at all.
FILE_READERS: dict[str, Callable[[bytes], None]] = {
    "text/csv": _read_csv,
    XLSX: _read_xlsx,
    "text/calendar": _read_calendar,
    "text/html": _read_html,
    "image/jpeg": _read_image,
    "image/png": _read_image,
    "image/webp": _read_image,
    "application/pdf": _read_pdf,
    "text/plain": _read_prometheus,
}
# Automatic answers of Flask: HEAD has no body, OPTIONS lists the allowed methods.
UNCHECKED_METHODS = frozenset({"HEAD", "OPTIONS"})
# Schema keywords that document rather than constrain (the structure check ignores them).
_ANNOTATIONS = frozenset({"title", "description", "examples"})

# (endpoint, media type or None for no body) of every success answer checked in this run.
checked: set[tuple[str, str | None]] = set()
_tolerated: dict[int, str] = {}
_lock = threading.Lock()


@dataclass
class Tally:
    """What the checks did in this run (tests/conftest.py reports it at the end)."""

    answers: int = 0
    seconds: float = 0.0
    rings: int = 0  # polygon rings of GeoJSON answers checked for their winding
    partial_run: bool = False  # tests were deselected: route coverage is not asserted
    unchecked: list[str] | None = None  # set when coverage was asserted


tally = Tally()


class ContractViolation(AssertionError):
    """An answer of the app does not match its documented response."""


@dataclass(frozen=True)
class Answer:
    """What the client got: enough to find the operation and check the body."""

    method: str
    path: str
    status: int
    media_type: str
    body: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status} {self.media_type or '(no Content-Type)'}"


@contextmanager
def undocumented_status(status: int, reason: str) -> Iterator[None]:
    """While active, an answer with `status` passes although no operation documents it, if its body has
    the operation's error shape. For tests that inject a failure (a 500 on purpose); say why."""
    assert reason, "say why this status may go undocumented"
    _tolerated[status] = reason
    try:
        yield
    finally:
        del _tolerated[status]


class ContractClient(FlaskClient):
    """The Flask test client, checking every answer with `check_answer`."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        body = response.data
        if response.headers.get("Content-Encoding") == "gzip":  # the document is what was compressed
            body = gzip.decompress(body)
        answer = Answer(request.method, request.path, response.status_code, response.mimetype, body)
        started = time.perf_counter()
        try:
            check_answer(self.application, answer)
        finally:
            with _lock:
                tally.answers += 1
                tally.seconds += time.perf_counter() - started
        if answer.media_type == open311_xml.XML and answer.method == "GET":
            self._compare_with_json_twin(answer, response)
        return response

    def _compare_with_json_twin(self, answer: Answer, response: TestResponse) -> None:
        """An XML answer says what the JSON route answers to the same request."""
        request = response.request
        twin_path = request.path.removesuffix(".xml") + ".json"
        query = request.query_string.decode()
        twin = self.open(f"{twin_path}?{query}" if query else twin_path, headers=dict(request.headers))
        model = _xml_model(self.application, answer)
        sent = open311_xml.parse(model, answer.body)
        expected = open311_xml.as_text(orjson.loads(twin.data))
        if twin.status_code != answer.status or sent != expected:
            lines = differences(sent, expected) or [
                f"status {answer.status}, the JSON twin {twin.status_code}"
            ]
            raise ContractViolation(f"{answer}: differs from {twin_path}'s answer:" + _listing(lines))


def check_answer(app: Flask, answer: Answer) -> None:
    """Raise ContractViolation unless `answer` is what the OpenAPI document and its models promise."""
    if answer.method in UNCHECKED_METHODS:
        return
    try:
        endpoint, _ = app.url_map.bind("localhost").match(answer.path, answer.method)
    except HTTPException:  # no route (404/405) or a redirect: the error handlers' answer
        if answer.media_type in (JSON, open311_xml.XML):
            _check_body(answer, _routing_error_model(app, answer.path), "no route")
        return
    op: Operation | None = getattr(app.view_functions[endpoint], "__api_operation__", None)
    if op is None:
        if endpoint not in NON_API_ENDPOINTS:
            raise ContractViolation(
                f"{answer} ({endpoint}): the route is not declared with coordinator.api.endpoint, "
                "so its answers are documented nowhere"
            )
        return
    responses = _operation(app, endpoint, answer.method)["responses"]
    documented = responses.get(str(answer.status))
    if documented is None:
        reason = _tolerated.get(answer.status)
        if reason is None:
            raise ContractViolation(
                f"{answer} ({endpoint}): status {answer.status} is not documented "
                f"(documented: {', '.join(sorted(responses))})"
            )
        _check_body(answer, op.error_model or ErrorBody, endpoint)
        return
    if answer.status == 206:  # a byte range of the documented answer: no document of its own
        return
    content = documented.get("content")
    if content is None:
        if answer.body:
            raise ContractViolation(f"{answer} ({endpoint}): documented without a body, but one was sent")
        _record(op, endpoint, answer, None)
        return
    if answer.media_type not in content:
        raise ContractViolation(
            f"{answer} ({endpoint}): Content-Type {answer.media_type!r} is not documented for "
            f"{answer.status} (documented: {', '.join(sorted(content))})"
        )
    what = documented_file(op, answer.status, answer.media_type)
    if what is not None:
        _check_file(answer, endpoint, content[answer.media_type]["schema"], what)
        _record(op, endpoint, answer, answer.media_type)
        return
    try:
        model = documented_model(op, answer.status, answer.media_type)
    except LookupError as exc:
        raise ContractViolation(
            f"{answer} ({endpoint}): the document and the operation disagree: {exc}"
        ) from None
    if model is None:
        raise ContractViolation(
            f"{answer} ({endpoint}): the document gives this answer a body, the operation not"
        )
    ref = content[answer.media_type]["schema"]
    if ref != {"$ref": REF_TEMPLATE.format(model=model.__name__)}:
        raise ContractViolation(f"{answer} ({endpoint}): the OpenAPI document names {ref}, the route {model}")
    problems = document_mismatches(app, model)
    if problems:
        raise ContractViolation(
            f"{answer} ({endpoint}): the OpenAPI document's schemas differ from {model.__name__}'s:"
            + _listing(problems)
        )
    _check_body(answer, model, endpoint)
    if answer.media_type == GEOJSON:
        problems = winding_problems(orjson.loads(answer.body))
        if problems:
            raise ContractViolation(f"{answer} ({endpoint}): not RFC 7946 §3.1.6:" + _listing(problems))
    _record(op, endpoint, answer, answer.media_type)


def documented_success_answers(app: Flask) -> set[tuple[str, str | None]]:
    """(endpoint, media type) of every success answer the app's operations document (None: no body)."""
    wanted: set[tuple[str, str | None]] = set()
    for endpoint, view in app.view_functions.items():
        op: Operation | None = getattr(view, "__api_operation__", None)
        if op is not None:
            if not op.has_success_body:
                wanted.add((endpoint, None))
            elif op.response is not None:
                wanted.add((endpoint, op.media_type))
            wanted |= {(endpoint, media_type) for media_type in [*op.alternatives, *op.files]}
    return wanted


def _routing_error_model(app: Flask, path: str) -> type[BaseModel]:
    """The error body of a path no route matches: the one shape, or that of the renderer registered
    for its prefix (coordinator.errors.register_error_renderer)."""
    for prefix, renderer in app.extensions.get(RENDERERS_KEY, []):
        if path.startswith(prefix):
            if renderer not in ERROR_RENDERER_MODELS:
                raise ContractViolation(f"{path}: no model is known for the error renderer of {prefix}")
            return ERROR_RENDERER_MODELS[renderer]
    return ErrorBody


def _check_file(answer: Answer, endpoint: str, schema: dict[str, Any], what: str) -> None:
    """A file answer: documented as a file of its media type, and readable as one."""
    if schema != file_schema(answer.media_type, what):
        raise ContractViolation(f"{answer} ({endpoint}): the OpenAPI document describes the file as {schema}")
    if not answer.body:
        raise ContractViolation(f"{answer} ({endpoint}): a file is documented, but the body is empty")
    reader = FILE_READERS.get(answer.media_type)
    if reader is None:
        raise ContractViolation(
            f"{answer} ({endpoint}): no reader for {answer.media_type} files: add one to FILE_READERS"
        )
    try:
        reader(answer.body)
    except Exception as exc:  # whatever the library raises for a file it cannot read
        raise ContractViolation(
            f"{answer} ({endpoint}): the body is not a readable {answer.media_type} file: {exc!r}"
        ) from None


def _record(op: Operation, endpoint: str, answer: Answer, media_type: str | None) -> None:
    if answer.status == op.status:
        with _lock:
            checked.add((endpoint, media_type))


def _xml_model(app: Flask, answer: Answer) -> type[BaseModel]:
    """The model an XML answer renders (that of the route's answer, or the error list)."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(answer.path, answer.method)
    except HTTPException:
        return _routing_error_model(app, answer.path)
    op: Operation = app.view_functions[endpoint].__api_operation__
    model = documented_model(op, answer.status, answer.media_type)
    assert model is not None
    return model


def _check_xml(answer: Answer, model: type[BaseModel], endpoint: str) -> None:
    try:
        data = open311_xml.parse(model, answer.body)
    except (ValueError, SyntaxError) as exc:  # ElementTree.ParseError is a SyntaxError
        raise ContractViolation(
            f"{answer} ({endpoint}): not an XML answer of {model.__name__}: {exc}"
        ) from None
    item = model.model_fields["root"].annotation if "root" in model.model_fields else model
    if get_origin(item) is list:
        item = get_args(item)[0]
    fields = {f.alias or name for name, f in item.model_fields.items()}  # type: ignore[union-attr]
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        if set(record) != fields:
            raise ContractViolation(
                f"{answer} ({endpoint}): record {index} has the elements {sorted(record)}, "
                f"{model.__name__} the fields {sorted(fields)}"
            )


def _check_body(answer: Answer, model: type[BaseModel], endpoint: str) -> None:
    if answer.media_type == open311_xml.XML:
        _check_xml(answer, model, endpoint)
        return
    # Parsing a large body (boundaries: ~1e5 objects) would start full garbage collections of the whole
    # test process, ten times the cost of the check; what is built here holds no reference cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _compare_body(answer, model, endpoint)
    finally:
        if collecting:
            gc.enable()


def _compare_body(answer: Answer, model: type[BaseModel], endpoint: str) -> None:
    try:
        sent = orjson.loads(answer.body)
    except orjson.JSONDecodeError as exc:
        raise ContractViolation(f"{answer} ({endpoint}): the body is not JSON: {exc}") from exc
    try:
        instance = model.model_validate_json(answer.body, strict=True)
    except ValidationError as exc:
        lines = [
            f"{_path(err['loc'])}: {err['msg']} (sent {_short(err.get('input'))})"
            for err in exc.errors(include_url=False)
        ]
        raise ContractViolation(
            f"{answer} ({endpoint}): the body does not validate as {model.__name__}:{_listing(lines)}"
        ) from None
    expected = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if sent != expected:
        lines = differences(sent, expected)
        raise ContractViolation(
            f"{answer} ({endpoint}): the body differs from {model.__name__} as the model renders it:"
            + _listing(lines or ["(values differ)"])
        )


def differences(sent: Any, expected: Any, path: str = "") -> list[str]:
    """Where the body sent differs from the validated model rendered back to JSON, field by field."""
    if isinstance(sent, dict) and isinstance(expected, dict):
        found = [
            f"{_join(path, key)}: sent, but the model does not document it"
            for key in sent
            if key not in expected
        ]
        found += [
            f"{_join(path, key)}: the model renders it, the body does not have it"
            for key in expected
            if key not in sent
        ]
        for key in sent.keys() & expected.keys():
            found += differences(sent[key], expected[key], _join(path, key))
        return found
    if isinstance(sent, list) and isinstance(expected, list) and len(sent) == len(expected):
        found = []
        for index, (a, b) in enumerate(zip(sent, expected, strict=True)):
            found += differences(a, b, _join(path, index))
        return found
    if sent == expected:
        return []
    return [f"{path or '(body)'}: sent {_short(sent)}, the model renders {_short(expected)}"]


def _listing(lines: list[str], limit: int = 12) -> str:
    shown = lines[:limit] + ([f"… and {len(lines) - limit} more"] if len(lines) > limit else [])
    return "".join(f"\n  {line}" for line in shown)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(body)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ------------------------------------------------------------------------------- RFC 7946 winding


def winding_problems(document: Any, path: str = "") -> list[str]:
    """Where the polygons of a GeoJSON document break RFC 7946 §3.1.6: an exterior ring that is not
    counter-clockwise, or a hole that is not clockwise (by the signed area in lon/lat, as the RFC says)."""
    if isinstance(document, list):
        return [p for index, item in enumerate(document) for p in winding_problems(item, _join(path, index))]
    if not isinstance(document, dict):
        return []
    kind = document.get("type")
    if kind in ("Polygon", "MultiPolygon") and isinstance(document.get("coordinates"), list):
        polygons = document["coordinates"] if kind == "MultiPolygon" else [document["coordinates"]]
        return _ring_problems(polygons, path)
    return [
        p
        for key, value in document.items()
        if isinstance(value, dict | list) and key != "coordinates"
        for p in winding_problems(value, _join(path, key))
    ]


def _ring_problems(polygons: list[Any], path: str) -> list[str]:
    rings = [(p, r, ring) for p, polygon in enumerate(polygons) for r, ring in enumerate(polygon)]
    ccw = shapely.is_ccw([shapely.linearrings(np.asarray(ring, dtype=float)[:, :2]) for _, _, ring in rings])
    with _lock:
        tally.rings += len(rings)
    return [
        f"{_join(path, 'coordinates')}[{p}][{r}]: the {'exterior' if r == 0 else 'hole'} is "
        f"{'counter-clockwise' if counter else 'clockwise'}"
        for (p, r, _), counter in zip(rings, ccw, strict=True)
        if bool(counter) != (r == 0)
    ]


# ------------------------------------------------------------------------ the OpenAPI document

_document: dict[str, Any] | None = None
_index: dict[tuple[str, str], dict[str, Any]] = {}
_own_index: WeakKeyDictionary[Flask, dict[tuple[str, str], dict[str, Any]]] = WeakKeyDictionary()
_model_mismatches: dict[type[BaseModel], list[str]] = {}


def _build_index(app: Flask) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    with app.app_context():
        document = openapi_document()
    index = {
        (operation["operationId"], method.upper()): operation
        for item in document["paths"].values()
        for method, operation in item.items()
    }
    return document, index


def _openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI document. Every app of the run has the same routes, so it is built once."""
    global _document, _index
    with _lock:
        if _document is None:
            _document, _index = _build_index(app)
        return _document


def _operation(app: Flask, endpoint: str, method: str) -> dict[str, Any]:
    """The OpenAPI operation of `endpoint` and `method` (an app to which a test added a route gets a
    document of its own)."""
    _openapi(app)
    key = (endpoint.replace(".", "_"), method)
    with _lock:
        operation = _index.get(key)
        if operation is None:
            if app not in _own_index:
                _own_index[app] = _build_index(app)[1]
            operation = _own_index[app].get(key)
    if operation is None:
        raise ContractViolation(f"{method} {endpoint}: the operation is missing from the OpenAPI document")
    return operation


def document_mismatches(app: Flask, model: type[BaseModel]) -> list[str]:
    """Schemas of the OpenAPI document (`components`) that differ in what they constrain from `model`'s
    or a nested model's own (descriptions may differ: models of one name in two domains share one)."""
    with _lock:
        known = _model_mismatches.get(model)
    if known is not None:
        return known
    components = _openapi(app)["components"]["schemas"]
    own = model.model_json_schema(ref_template=REF_TEMPLATE)
    schemas = {model.__name__: own, **own.pop("$defs", {})}
    problems = [
        f"#/components/schemas/{name} is not the schema of {name} in {model.__name__}"
        for name, schema in schemas.items()
        if _shape(components.get(name)) != _shape(schema)
    ]
    with _lock:
        _model_mismatches[model] = problems
    return problems


def _shape(schema: Any) -> Any:
    """A JSON schema without its annotations (titles, descriptions): what it constrains."""
    if isinstance(schema, dict):
        return {
            key: {name: _shape(sub) for name, sub in value.items()} if key == "properties" else _shape(value)
            for key, value in schema.items()
            if key not in _ANNOTATIONS
        }
    if isinstance(schema, list):
        return [_shape(item) for item in schema]
    return schema


# --------------------------------------------------------------------------- precise models

# Fields of response models that may hold any JSON, and why; every other field has an exact schema.
FREE_FORM_FIELDS = {
    "ErrorDetail.details": "structured context that differs per error (failing fields, hints, …)",
    "EventOut.payload": "details of an audit-trail event; their keys depend on the event's kind",
    "FilingEventOut.payload": "details of a renovation filing's trail entry; their keys depend on its kind",
    "Geometry.coordinates": "GeoJSON coordinates, nested to the depth of the geometry's type",
}


def documented_models(app: Flask) -> set[type[BaseModel]]:
    """Every model the app's operations answer with (success, alternatives, errors)."""
    models: set[type[BaseModel]] = set()
    for view in app.view_functions.values():
        op: Operation | None = getattr(view, "__api_operation__", None)
        if op is not None:
            models |= {op.error_model or ErrorBody, *op.alternatives.values()}
            if op.response is not None:
                models.add(op.response)
    return models


def free_form_fields(model: type[BaseModel]) -> set[str]:
    """`Model.field` names in `model` (and the models in it) whose schema admits any JSON value or an
    object of any keys: what the contract check cannot hold an answer to."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    found: set[str] = set()
    for name, definition in {model.__name__: schema, **schema.get("$defs", {})}.items():
        for field, sub in definition.get("properties", {}).items():
            if _admits_anything(sub):
                found.add(f"{name}.{field}")
    return found


def _admits_anything(schema: Any) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    constraints = {key: value for key, value in schema.items() if key not in {*_ANNOTATIONS, "default"}}
    if not constraints:  # Any
        return True
    if constraints.get("type") == "object" and "properties" not in constraints:
        return _admits_anything(constraints.get("additionalProperties", True))  # a dict of what?
    subschemas = [
        sub
        for key in ("items", "anyOf", "oneOf", "allOf", "prefixItems")
        for sub in (constraints[key] if isinstance(constraints.get(key), list) else [constraints.get(key)])
    ]
    return any(_admits_anything(sub) for sub in subschemas)
