"""Declare API operations once: the same pydantic models validate requests and generate OpenAPI 3.

Why not spectree / flask-openapi3 / apiflask: they bring their own error bodies and CDN-hosted docs
pages; we need exactly one error shape and a docs page that works offline (a district intranet), and
the glue below is small: parse query/body with pydantic, call the view, commit once, serialize.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from coordinator.errors import BadRequest, ValidationFailed
from coordinator.extensions import commit_request_session

GEOJSON = "application/geo+json"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
REF_TEMPLATE = "#/components/schemas/{model}"

ViewFunc = Callable[..., Any]


class ErrorDetail(BaseModel):
    """The body of an error."""

    code: str = Field(description="Stable machine-readable error code, e.g. `validation_failed`.")
    message: str = Field(description="Human-readable explanation.")
    details: Any = Field(description="Structured context: failing fields, hints, …; null if none.")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the service has this shape."""

    error: ErrorDetail


class QueryModel(BaseModel):
    """Base for query-string models: unknown parameters are an error (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


# Row ids are INTEGER columns (32 bits on PostgreSQL): a larger number cannot name a row, and binding it
# would overflow the driver (SQLite raises OverflowError beyond 64 bits) instead of answering 404.
MAX_ROW_ID = 2**31 - 1
# Page numbers stay small enough that the row offset, (page - 1) * page size, is a 64-bit integer.
MAX_PAGE = 1_000_000_000


# Datetimes a request may carry: wide enough for any filter, narrow enough that converting to UTC or
# adding the Open311 90-day span never leaves Python's datetime range (years 1 … 9999), and that a
# stored time never shows in Asia/Shanghai's pre-1901 local mean time (+08:05:43, not RFC 3339).
EARLIEST_INPUT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INPUT = datetime(9000, 1, 1, tzinfo=UTC)


def check_input_datetime(value: datetime | None) -> datetime | None:
    """For an aware datetime's field validator: ValueError (a 4xx) outside EARLIEST_INPUT … LATEST_INPUT."""
    if value is not None and not EARLIEST_INPUT <= value < LATEST_INPUT:
        raise ValueError("must be between 1970-01-01 and 9000-01-01")
    return value


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


def documented_model(op: Operation, status: int, media_type: str) -> type[BaseModel] | None:
    """The model the OpenAPI document names for an answer of `op` with `status` and `media_type`.

    The success status answers `op.response` in `op.media_type` or an `alternatives` model in its
    media type; 4xx/5xx answer the error body (`ErrorBody`, or `op.error_model`) as JSON. None: that
    answer is documented without a body (e.g. 204). LookupError: the operation documents no such
    answer. Which error statuses an operation documents is the OpenAPI document's business (it adds
    401/403 for protected routes, 400/422 for parsed input): look the status up there.
    """
    if status == op.status:
        if op.response is None:
            return None
        if media_type == op.media_type:
            return op.response
        if media_type in op.alternatives:
            return op.alternatives[media_type]
    elif status >= 400 and media_type == JSON:
        return op.error_model or ErrorBody
    raise LookupError(f"no {status} answer in {media_type} is documented for {op.summary!r}")


NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def nul_fields(value: Any, path: str = "") -> list[str]:
    """The dotted paths of the strings (values or keys) in parsed input that hold U+0000.

    PostgreSQL's text cannot store NUL (psycopg refuses the value, a 500 if it reaches a query), so
    input is checked once at the edge and answered 4xx on every backend alike.
    """
    if isinstance(value, str):
        return [path or "(input)"] if NUL in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if NUL in str(key) else nul_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_fields(item, f"{path}.{index}" if path else str(index))
    return found


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


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate a JSON body against `model`; 400 if it is not JSON, 422 if it breaks the schema."""
    if not request.is_json:
        raise BadRequest("expected a JSON body with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("the request body is not valid JSON")
    _reject_nul(data, "request body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid request body", details=_validation_details(exc)) from exc


def _form_values() -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in request.form:
        values = request.form.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    return raw


def parse_form(model: type[BaseModel]) -> BaseModel:
    """Validate an `application/x-www-form-urlencoded` body against `model`; 400 / 422 like `parse_body`."""
    if request.mimetype != FORM:
        raise BadRequest(f"expected a form body with Content-Type: {FORM}")
    raw = _form_values()
    _reject_nul(raw, "form fields")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed("invalid form fields", details=_validation_details(exc)) from exc


def _render(result: Any, op: Operation) -> Response:
    if isinstance(result, Response):
        return result
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json", by_alias=True)
    response = jsonify(result)
    response.status_code = status
    response.mimetype = op.media_type
    return response


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
) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view as an API operation.

    The view receives `query=` / `body=` / `form=` (validated pydantic instances; `body` is JSON, `form`
    is form-encoded) besides its path arguments and returns a model, a dict, `(payload, status)` or a
    Response. The request's session is committed here, once, after the view succeeded.
    `error_model` / `validation_status` only change what the OpenAPI document says about errors (the
    error body itself is rendered by the handlers in coordinator.errors); `alternatives` documents
    other media types of the success answer, which the view returns as a Response itself.
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
    )

    def decorate(fn: ViewFunc) -> ViewFunc:
        @wraps(fn)
        def view(*args: Any, **kwargs: Any) -> Response:
            if op.query is not None:
                kwargs["query"] = parse_query(op.query)
            if op.body is not None:
                kwargs["body"] = parse_body(op.body)
            if op.form is not None:
                kwargs["form"] = parse_form(op.form)
            result = fn(*args, **kwargs)
            commit_request_session()
            return _render(result, op)

        view.__api_operation__ = op  # type: ignore[attr-defined]
        return view

    return decorate


_PATH_PARAM = re.compile(r"<(?:(?P<conv>[^:<>]+):)?(?P<name>[^<>]+)>")
_CONVERTER_SCHEMA = {
    "int": {"type": "integer"},
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
    "float": {"type": "number"},
}


def _schema_of(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop["description"]
        param["schema"] = {k: v for k, v in prop.items() if k not in {"description", "title"}}
        params.append(param)
    return params


_STATUS_TEXT = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Validation failed",
    429: "Too many attempts; wait Retry-After seconds",
    503: "Database unavailable",
}


SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`jj_…`) from `flask users create` / `flask users token`.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "jiaojie_session",
        "description": "Browser session from POST /api/v1/auth/login; unsafe methods also need the "
        "`X-CSRF-Token` header.",
    },
}


def build_openapi(
    app: Flask,
    *,
    title: str,
    version: str,
    description: str,
    protected: Callable[[str], bool] = lambda endpoint: False,
) -> dict[str, Any]:
    """Generate the OpenAPI 3.1 document from the routes declared with `endpoint`.

    `protected(endpoint_name)` says which operations need credentials: they get the security
    requirement and the 401/403 answers.
    """
    components: dict[str, Any] = {}
    error_ref = _schema_of(ErrorBody, components)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        op: Operation | None = getattr(view, "__api_operation__", None)
        if op is None:
            continue
        path = _PATH_PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        parameters = [
            {
                "name": m.group("name"),
                "in": "path",
                "required": True,
                "schema": _CONVERTER_SCHEMA.get(m.group("conv") or "", {"type": "string"}),
            }
            for m in _PATH_PARAM.finditer(rule.rule)
        ]
        if op.query is not None:
            parameters += _query_parameters(op.query, components)
        success: dict[str, Any] = {"description": op.summary}
        if op.response is not None:
            success["content"] = {op.media_type: {"schema": _schema_of(op.response, components)}}
            for media_type, model in op.alternatives.items():
                success["content"][media_type] = {"schema": _schema_of(model, components)}
        responses: dict[str, Any] = {str(op.status): success}
        secured = protected(rule.endpoint)
        errors = {*op.errors, 401, 403} if secured else set(op.errors)
        if op.query or op.body or op.form:
            errors.add(op.validation_status)
        if op.body or op.form:
            errors.add(400)  # not JSON / not a form at all (parse_body, parse_form)
        op_error_ref = error_ref if op.error_model is None else _schema_of(op.error_model, components)
        for status in sorted(errors):
            responses[str(status)] = {
                "description": _STATUS_TEXT.get(status, "Error"),
                "content": {JSON: {"schema": op_error_ref}},
            }
        operation: dict[str, Any] = {
            "operationId": rule.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": list(op.tags),
            "parameters": parameters,
            "responses": responses,
        }
        if secured:
            operation["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
        if op.description:
            operation["description"] = op.description
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": _schema_of(op.body, components)}},
            }
        if op.form is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {FORM: {"schema": _schema_of(op.form, components)}},
            }
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": SECURITY_SCHEMES},
    }
