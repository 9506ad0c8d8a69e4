"""The OpenAPI 3.1 document, built from the routes declared with `coordinator.api.endpoint` (their
pydantic models, status codes and the policy's public/protected split), and an offline docs page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from coordinator import __version__, access_rules, security
from coordinator.api import FORM, JSON, MULTIPART, ErrorBody, Operation
from coordinator.validation import MAX_ROW_ID

bp = Blueprint("openapi", __name__)
REF_TEMPLATE = "#/components/schemas/{model}"

TITLE = "Jiaojie Coordinator API"  # ASCII: generated clients name their package after it
DESCRIPTION = (
    "交界协同 (Jiaojie Coordinator) — joint enforcement in the border zones (交界地带) of 奉贤, 金山, 松江 "
    "and 浦东. "
    "Geometries are GeoJSON (RFC 7946) in WGS-84 longitude/latitude. Every error has the shape "
    '`{"error": {"code", "message", "details"}}`. Send `Authorization: Bearer <token>` to every operation '
    "marked with a lock (401 without valid credentials, 403 when the role may not). Values are never "
    "coerced across types: JSON numbers, booleans and RFC 3339 datetime strings in bodies; in query "
    "strings booleans are `true`/`false`, numbers are written as JSON writes them and datetimes as RFC "
    "3339 with an offset. An empty query value means the parameter is absent."
)


_PATH_PARAM = re.compile(r"<(?:(?P<conv>[^:<>]+):)?(?P<name>[^<>]+)>")
_CONVERTER_SCHEMA = {
    "int": {"type": "integer"},
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
    "float": {"type": "number"},
}


def _add_component(components: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    # Components are named after their models: two different models of one name would silently
    # document one of them twice.
    if components.setdefault(name, definition) != definition:
        raise ValueError(f"two different schemas are both named {name!r}: rename one of the models")


class RequestSchema(GenerateJsonSchema):
    """JSON schemas of what requests carry: text holds no U+0000, which the server refuses (the databases
    cannot store it; coordinator.validation), so a string without a pattern of its own says so."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        json_schema.setdefault("pattern", NO_NUL_PATTERN)
        return json_schema


NO_NUL_PATTERN = "^[^\\u0000]*$"


def _schema_of(
    model: type[BaseModel], components: dict[str, Any], *, request: bool = False
) -> dict[str, Any]:
    generator = RequestSchema if request else GenerateJsonSchema
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=generator)
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(components, name, definition)
    _add_component(components, model.__name__, schema)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=RequestSchema)
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(components, name, definition)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop["description"]
        if name not in required:
            param["allowEmptyValue"] = True  # an empty value means absent (coordinator.validation)
        param["schema"] = {k: v for k, v in prop.items() if k not in {"description", "title"}}
        params.append(param)
    return params


def _form_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """A form body's schema: as in a query string, an optional field sent empty is absent."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=RequestSchema)
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(components, name, definition)
    required = set(schema.get("required", []))
    schema["properties"] = {
        name: prop if name in required else {"anyOf": [prop, {"const": ""}]}
        for name, prop in schema.get("properties", {}).items()
    }
    _add_component(components, model.__name__, schema)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _multipart(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    """The multipart/form-data request body of `op`: its JSON part (the `body` model) or its form fields,
    and its file fields (binary strings of the media types the route takes)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    encoding: dict[str, Any] = {}
    if op.body is not None and op.json_part is not None:
        properties[op.json_part] = _schema_of(op.body, components, request=True)
        required.append(op.json_part)
        encoding[op.json_part] = {"contentType": JSON}
    if op.form is not None:
        schema = op.form.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=RequestSchema)
        for name, definition in schema.pop("$defs", {}).items():
            _add_component(components, name, definition)
        form_required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            properties[name] = prop if name in form_required else {"anyOf": [prop, {"const": ""}]}
        required += sorted(form_required)
    for part in op.file_parts:
        item = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
        properties[part.name] = {
            "type": "array",
            "items": item,
            "maxItems": part.max_items,
            "description": part.description,
        }
        encoding[part.name] = {"contentType": ", ".join(part.media_types)}
    content: dict[str, Any] = {"schema": {"type": "object", "properties": properties}}
    if required:
        content["schema"]["required"] = required
    if encoding:
        content["encoding"] = encoding
    return content


CONDITIONAL_HEADERS = {
    "ETag": {"description": "Strong validator: a hash of the content (`…-gzip` for the gzip encoding).",
             "schema": {"type": "string"}},
    "Last-Modified": {"description": "When the content last changed: the geography (boundaries, zones, "
                               "squads) or, for a stored file, its upload.",
                      "schema": {"type": "string"}},
}  # fmt: skip


def _conditional_responses(media_type: str) -> dict[str, Any]:
    return {
        "206": {
            "description": "A byte range of the identity-encoded answer (`Range: bytes=…`; Accept-Ranges: "
            "bytes), for clients such as GDAL's /vsicurl/",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {
            "description": "Not modified since the ETag (If-None-Match) or date (If-Modified-Since) sent"
        },
    }


_STATUS_TEXT = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Too large: the request body (answered before it is read), or a file over the size or pixel limit",
    415: "Unsupported media type: a file that is not an image (or PDF) by its content",
    416: "Range not satisfiable",
    422: "Validation failed",
    429: "Too many attempts; wait Retry-After seconds",
    503: "Database unavailable (lost or restarting); retry after Retry-After seconds",
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


def file_schema(media_type: str, what: str) -> dict[str, Any]:
    """The schema of a file answer (CSV, XLSX, HTML, iCalendar): a string of that media type."""
    return {"type": "string", "contentMediaType": media_type, "description": what}


def build_openapi(
    app: Flask,
    *,
    title: str,
    version: str,
    description: str,
    protected: Callable[[str], bool] = lambda endpoint: False,
    rate_limited: Callable[[str], bool] = lambda endpoint: False,
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
        content: dict[str, Any] = {}
        if op.response is not None:
            content[op.media_type] = {"schema": _schema_of(op.response, components)}
        for media_type, model in op.alternatives.items():
            content[media_type] = {"schema": _schema_of(model, components)}
        for media_type, what in op.files.items():
            content[media_type] = {"schema": file_schema(media_type, what)}
        if content:
            success["content"] = content
        responses: dict[str, Any] = {str(op.status): success}
        secured = protected(rule.endpoint)
        errors = {*op.errors, 401, 403} if secured else set(op.errors)
        # Any operation may meet a lost or restarting database (coordinator.errors: 503, Retry-After).
        errors.add(503)
        if op.conditional:
            success["headers"] = CONDITIONAL_HEADERS
            responses.update(_conditional_responses(op.media_type if not op.files else "*/*"))
            errors.add(416)
        if op.query or op.body or op.form:
            errors.add(op.validation_status)
        if op.body or op.form or op.multipart:
            errors.add(400)  # not JSON / not a form at all (parse_body, parse_form)
        if op.multipart:
            errors.add(op.validation_status)  # too many files, or a file field the route does not take
        if rule.methods and rule.methods & {"POST", "PUT", "PATCH"}:
            errors.add(413)  # any body over MAX_REQUEST_BYTES (coordinator.security)
        if rate_limited(rule.endpoint):
            errors.add(429)
        op_error_ref = error_ref if op.error_model is None else _schema_of(op.error_model, components)
        for status in sorted(errors):
            responses[str(status)] = {
                "description": _STATUS_TEXT.get(status, "Error"),
                "content": {op.error_media_type: {"schema": op_error_ref}},
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
                "content": {JSON: {"schema": _schema_of(op.body, components, request=True)}},
            }
        if op.form is not None and not op.multipart_only:
            operation["requestBody"] = {
                "required": True,
                "content": {FORM: {"schema": _form_schema(op.form, components)}},
            }
        if op.multipart:
            body = operation.setdefault("requestBody", {"required": True, "content": {}})
            body["content"][MULTIPART] = _multipart(op, components)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": SECURITY_SCHEMES},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the running app."""
    return build_openapi(
        current_app,
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        protected=access_rules.is_protected,
        rate_limited=security.is_rate_limited,
    )


@bp.get("/api/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return openapi_document()


@bp.get("/api/docs")
def docs() -> ResponseReturnValue:
    # A self-contained page (no CDN): it must work on a district intranet without internet access.
    html = resources.files("coordinator").joinpath("static/api-docs.html").read_text(encoding="utf-8")
    return Response(html, mimetype="text/html")
