"""Declare API operations once: `endpoint` parses and validates a request with the route's pydantic
models, calls the view, commits the request's session and renders the answer; coordinator.openapi
builds the OpenAPI 3 document from the same declarations (`Operation`).

Why not spectree / flask-openapi3 / apiflask: they bring their own error bodies and CDN-hosted docs
pages; we need exactly one error shape and a docs page that works offline (a district intranet), and
the glue below is small: parse query/body with pydantic, call the view, commit once, serialize.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import orjson
from flask import Response, jsonify, request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from coordinator.errors import BadRequest, ValidationFailed
from coordinator.extensions import commit_request_session
from coordinator.validation import MAX_ROW_ID, NUL_MESSAGE, nul_fields

GEOJSON = "application/geo+json"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

ViewFunc = Callable[..., Any]


class ErrorDetail(BaseModel):
    """The body of an error."""

    code: str = Field(description="Stable machine-readable error code, e.g. `validation_failed`.")
    message: str = Field(description="Human-readable explanation.")
    details: Any = Field(description="Structured context: failing fields, hints, …; null if none.")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the service has this shape."""

    error: ErrorDetail


class RowIdConverter(IntegerConverter):
    """`<id:name>` in a route: a positive row id that fits the id columns; any other number is no match
    (the JSON 404 of every unknown path) rather than a value the database cannot take."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ROW_ID)


class TextConverter(UnicodeConverter):
    """The default path segment converter, without U+0000: a segment holding it names nothing, and
    PostgreSQL could not even compare it (its text type cannot hold NUL), so the route does not match."""

    def __init__(
        self, map: Map, minlength: int = 1, maxlength: int | None = None, length: int | None = None
    ) -> None:
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\x00]")


@dataclass(frozen=True)
class FilePart:
    """Files a multipart request may carry in one field (the view checks what they are)."""

    name: str
    description: str
    media_types: tuple[str, ...]
    max_items: int = 1


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route."""

    summary: str
    tags: tuple[str, ...]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_type: str = JSON
    status: int = 200
    errors: tuple[int, ...] = ()
    description: str = ""
    extra_responses: dict[int, str] = field(default_factory=dict)
    # An outside standard (Open311) may fix its own error body and answer invalid input with 400.
    error_model: type[BaseModel] | None = None
    validation_status: int = 422
    # Other media types the success answer can take (e.g. GeoJSON with `format=geojson`), each its model.
    alternatives: dict[str, type[BaseModel]] = field(default_factory=dict)
    # Files the success answer can be (CSV, XLSX, HTML, iCalendar): media type → what it holds.
    files: dict[str, str] = field(default_factory=dict)

    @property
    def has_success_body(self) -> bool:
        """Whether the success answer has a body (a model, an alternative or a file)."""
        return self.response is not None or bool(self.alternatives) or bool(self.files)

    # The media type of error answers (Open311's XML routes answer their errors in XML too).
    error_media_type: str = JSON
    # Renders the view's result when it is not JSON (`media_type` names what it makes).
    render: Callable[[Any], Response] | None = None
    # The view answers through coordinator.httpcache.conditional: validators, 304, byte ranges (206/416).
    conditional: bool = False
    # multipart/form-data: the file fields the request may carry. With `body`, the JSON body then comes
    # in the part named `json_part`; with `form`, the form's fields come as plain parts beside the files
    # (and with `multipart_only`, a form-encoded body is not taken).
    file_parts: tuple[FilePart, ...] = ()
    json_part: str | None = None
    multipart_only: bool = False

    @property
    def multipart(self) -> bool:
        """Whether the route takes multipart/form-data."""
        return bool(self.file_parts)


def documented_model(op: Operation, status: int, media_type: str) -> type[BaseModel] | None:
    """The model the OpenAPI document names for an answer of `op` with `status` and `media_type`.

    The success status answers `op.response` in `op.media_type` or an `alternatives` model in its
    media type (a file in `op.files` has no model: see `documented_file`); 4xx/5xx answer the error
    body (`ErrorBody`, or `op.error_model`) as JSON. None: that answer is documented without a body
    (e.g. 204). LookupError: the operation documents no such answer. Which error statuses an operation
    documents is the OpenAPI document's business (it adds 401/403 for protected routes, 400/422 for
    parsed input): look the status up there.
    """
    if status == op.status:
        if not op.has_success_body:
            return None
        if op.response is not None and media_type == op.media_type:
            return op.response
        if media_type in op.alternatives:
            return op.alternatives[media_type]
    elif status >= 400 and media_type == op.error_media_type:
        return op.error_model or ErrorBody
    raise LookupError(f"no {status} answer in {media_type} is documented for {op.summary!r}")


def documented_file(op: Operation, status: int, media_type: str) -> str | None:
    """What a file answer of `op` (CSV, XLSX, HTML, iCalendar) with `status` in `media_type` holds, as
    the OpenAPI document describes it; None if that answer is not a documented file."""
    return op.files.get(media_type) if status == op.status else None


def _reject_nul(raw: Any, what: str) -> None:
    fields = nul_fields(raw)
    if fields:
        raise ValidationFailed(
            f"invalid {what}",
            details=[{"field": f, "message": NUL_MESSAGE, "type": "nul_character"} for f in fields],
        )


def _validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against `model`; 422 with per-field details on failure."""
    raw = {key: values if len(values) > 1 else values[0] for key, values in request.args.lists()}
    _reject_nul(raw, "query parameters")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed("invalid query parameters", details=_validation_details(exc)) from exc


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON Schema's `integer` is any number without a fraction (`7.0` too); strict pydantic wants `7`.
    The same object back when nothing changed."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        items = [_integral_floats_as_ints(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        fields = {k: _integral_floats_as_ints(v) for k, v in value.items()}
        return value if all(fields[k] is v for k, v in value.items()) else fields
    return value


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate a JSON body against `model`, strictly: no value is coerced from another JSON type (a
    number is never read from a string or a boolean, a datetime never from a number). 400 if the body is
    not JSON, 422 if it breaks the schema."""
    if not request.is_json:
        raise BadRequest("expected a JSON body with Content-Type: application/json")
    return _validate_json(model, request.get_data(), what="request body")


def _validate_json(model: type[BaseModel], raw: bytes, *, what: str) -> BaseModel:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(f"the {what} is not valid JSON (UTF-8, RFC 8259)") from None
    _reject_nul(data, what)
    integral = _integral_floats_as_ints(data)
    if integral is not data:
        raw = orjson.dumps(integral)
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ValidationFailed(f"invalid {what}", details=_validation_details(exc)) from exc


def _form_values() -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in request.form:
        values = request.form.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    return raw


def parse_form(model: type[BaseModel], *, multipart: bool = False, form_encoded: bool = True) -> BaseModel:
    """Validate an `application/x-www-form-urlencoded` body (with `multipart`, or the plain fields of a
    multipart/form-data body) against `model`; 400 / 422 like `parse_body`."""
    accepted = [m for m, ok in ((FORM, form_encoded), (MULTIPART, multipart)) if ok]
    if request.mimetype not in accepted:
        raise BadRequest(f"expected a form body with Content-Type: {' or '.join(accepted)}")
    raw = _form_values()
    _reject_nul(raw, "form fields")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed("invalid form fields", details=_validation_details(exc)) from exc


def is_multipart() -> bool:
    """Whether the request body is multipart/form-data."""
    return request.mimetype == MULTIPART


def parse_json_part(model: type[BaseModel], name: str) -> BaseModel:
    """Validate the JSON in part `name` of a multipart body (a plain field, or a file part of type
    application/json) against `model`, as strictly as `parse_body` does a JSON body."""
    if name in request.files:
        raw = request.files[name].stream.read()
    elif name in request.form:
        raw = request.form[name].encode("utf-8")
    else:
        raise BadRequest(f"a multipart request needs the JSON body in its part {name!r}")
    return _validate_json(model, raw, what=f"part {name!r}")


def uploaded_files(op: Operation) -> dict[str, list[FileStorage]]:
    """The files of a multipart request by field: 422 for a file field the route does not take or for
    more files than it takes. Empty file inputs (a form sent without choosing a file) are left out."""
    files: dict[str, list[FileStorage]] = {part.name: [] for part in op.file_parts}
    known = {part.name: part for part in op.file_parts}
    problems = []
    for name, storage in request.files.items(multi=True):
        if name == op.json_part:
            continue
        if name not in known:
            problems.append({"field": name, "message": "no such file field", "type": "extra_forbidden"})
            continue
        if not storage.filename and storage.content_length in (0, None) and not storage.stream.read(1):
            continue
        storage.stream.seek(0)
        files[name].append(storage)
    for name, items in files.items():
        if len(items) > known[name].max_items:
            problems.append(
                {"field": name, "message": f"at most {known[name].max_items} files", "type": "too_long"}
            )
    if problems:
        raise ValidationFailed("invalid files", details=problems)
    return files


def _render(result: Any, op: Operation) -> Response:
    if isinstance(result, Response):
        return result
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json", by_alias=True)
    if op.render is not None:
        rendered = op.render(result)
        rendered.status_code = status
        return rendered
    response = jsonify(result)
    response.status_code = status
    response.mimetype = op.media_type
    return response


def add_link_headers(response: Response, links: list[dict[str, str]]) -> None:
    """The `next` and `prev` links of a page as `Link` headers (RFC 8288), beside those in the body."""
    for page in links:
        if page["rel"] in ("next", "prev"):
            response.headers.add("Link", f'<{page["href"]}>; rel="{page["rel"]}"')


def endpoint(
    *,
    summary: str,
    tags: tuple[str, ...] | list[str],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    media_type: str = JSON,
    status: int = 200,
    errors: tuple[int, ...] = (),
    description: str = "",
    error_model: type[BaseModel] | None = None,
    validation_status: int = 422,
    alternatives: dict[str, type[BaseModel]] | None = None,
    files: dict[str, str] | None = None,
    error_media_type: str = JSON,
    render: Callable[[Any], Response] | None = None,
    conditional: bool = False,
    file_parts: tuple[FilePart, ...] = (),
    json_part: str | None = None,
    multipart_only: bool = False,
) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view as an API operation.

    The view receives `query=` / `body=` / `form=` (validated pydantic instances; `body` is JSON, `form`
    is form-encoded) besides its path arguments and returns a model, a dict, `(payload, status)` or a
    Response. The request's session is committed here, once, after the view succeeded.
    `error_model` / `validation_status` only change what the OpenAPI document says about errors (the
    error body itself is rendered by the handlers in coordinator.errors); `alternatives` documents
    other media types of the success answer, which the view returns as a Response itself; `files` the
    non-JSON answers (media type → description), also returned as a Response by the view. `render`
    turns the view's result into the `media_type` answer (default: JSON); `error_media_type` says in
    which media type the errors of the route come (their renderer is registered in coordinator.errors).
    `conditional` documents the validators, 304 and byte ranges of coordinator.httpcache.conditional.
    `file_parts` makes the route take multipart/form-data: the view then also receives `uploads=` (file
    field → its files); the JSON `body` comes in the part `json_part` (a JSON request still works), the
    `form` fields as plain parts (`multipart_only`: only so).
    """
    op = Operation(
        summary=summary,
        tags=tuple(tags),
        query=query,
        body=body,
        form=form,
        response=response,
        media_type=media_type,
        status=status,
        errors=errors,
        description=description,
        error_model=error_model,
        validation_status=validation_status,
        alternatives=dict(alternatives or {}),
        files=dict(files or {}),
        error_media_type=error_media_type,
        render=render,
        conditional=conditional,
        file_parts=tuple(file_parts),
        json_part=json_part,
        multipart_only=multipart_only,
    )

    def decorate(fn: ViewFunc) -> ViewFunc:
        @wraps(fn)
        def view(*args: Any, **kwargs: Any) -> Response:
            if op.query is not None:
                kwargs["query"] = parse_query(op.query)
            multipart = op.multipart and is_multipart()
            if op.body is not None:
                if multipart and op.json_part is not None:
                    kwargs["body"] = parse_json_part(op.body, op.json_part)
                else:
                    kwargs["body"] = parse_body(op.body)
            if op.form is not None:
                kwargs["form"] = parse_form(
                    op.form, multipart=op.multipart, form_encoded=not op.multipart_only
                )
            if op.multipart:
                if op.multipart_only and not multipart:
                    raise BadRequest(f"expected a body with Content-Type: {MULTIPART}")
                kwargs["uploads"] = uploaded_files(op) if multipart else {p.name: [] for p in op.file_parts}
            result = fn(*args, **kwargs)
            commit_request_session()
            return _render(result, op)

        view.__api_operation__ = op  # type: ignore[attr-defined]
        return view

    return decorate
