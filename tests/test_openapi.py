"""The OpenAPI document is valid, complete, and the docs page needs no network."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from pydantic import BaseModel, create_model

from coordinator.api import endpoint
from coordinator.openapi import build_openapi


def test_document_is_valid_openapi_3(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") or rule.rule == "/healthz":
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            assert path in spec["paths"], f"{rule.rule} missing from OpenAPI"


def test_query_schemas_come_from_the_validating_models(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/boundaries"]["get"]["parameters"]}
    assert set(params) == {"level", "member"}
    assert "district" in str(params["level"]["schema"])
    assert "422" in spec["paths"]["/api/v1/boundaries"]["get"]["responses"]


def test_docs_page_is_self_contained(client: FlaskClient) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    assert "/api/openapi.json" in html
    assert "http://" not in html and "https://" not in html  # no CDN: works on an intranet


def test_protected_operations_declare_bearer_security(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    squads = spec["paths"]["/api/v1/squads"]["get"]
    assert {"bearerAuth": []} in squads["security"]
    assert {"401", "403"} <= set(squads["responses"])
    assert "security" not in spec["paths"]["/api/v1/boundaries"]["get"]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert me == {"$ref": "#/components/schemas/Me"}


def test_documented_answers_cover_what_the_views_return(client: FlaskClient) -> None:
    # Gaps schemathesis found: 400 for a body that is not JSON, the GeoJSON variant of the case list,
    # and the range of row ids in paths.
    spec = client.get("/api/openapi.json").get_json()
    for path, method in (("/api/v1/reports", "post"), ("/api/v1/cases/{case_id}/verify", "post")):
        assert "400" in spec["paths"][path][method]["responses"], path
    listed = spec["paths"]["/api/v1/cases"]["get"]["responses"]["200"]["content"]
    assert listed["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/CaseFeatureCollection"}
    assert listed["application/json"]["schema"] == {"$ref": "#/components/schemas/CasePage"}
    (case_id,) = spec["paths"]["/api/v1/cases/{case_id}"]["get"]["parameters"]
    assert case_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_two_different_models_of_one_name_fail_the_build() -> None:
    # The document names components after their models: a second model of the same name must not
    # silently replace the first (cases and auth both had a `SquadRef`, cases and squads a `DistrictRef`).
    def model(description: str) -> type[BaseModel]:
        return create_model("SquadBrief", __doc__=description, code=(str, ...))

    app = Flask(__name__)
    for rule, described in (("/a", "A squad."), ("/b", "A squad with a difference.")):
        view = endpoint(summary=rule, tags=["t"], response=model(described))(lambda: {"code": "x"})
        app.add_url_rule(rule, endpoint=rule, view_func=view)
    with pytest.raises(ValueError, match="SquadBrief"):
        build_openapi(app, title="t", version="1", description="d")


def _unbounded_integers(spec: dict, schema: object, where: str, seen: frozenset[str]) -> list[str]:
    """The places under `schema` where a request may carry an integer with no maximum."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded_integers(spec, spec["components"]["schemas"][name], where, seen | {name})
    found = []
    if schema.get("type") == "integer" and "maximum" not in schema:
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found += _unbounded_integers(spec, part, where, seen)
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded_integers(spec, prop, f"{where}.{name}", seen)
    found += _unbounded_integers(spec, schema.get("items"), f"{where}[]", seen)
    return found


def test_every_integer_a_request_carries_has_a_maximum(client: FlaskClient) -> None:
    """Row ids are 32-bit columns on PostgreSQL: an unbounded integer reaching a query is a 500 there
    (the fuzzer found `?hotspot_id=28085130449867`), so every integer input is bounded at the edge."""
    spec = client.get("/api/openapi.json").get_json()
    unbounded = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", []) + item.get("parameters", []):
                where = f"{method.upper()} {path} {param['in']}:{param['name']}"
                unbounded += _unbounded_integers(spec, param.get("schema"), where, frozenset())
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                where = f"{method.upper()} {path} body({media})"
                unbounded += _unbounded_integers(spec, content.get("schema"), where, frozenset())
    assert unbounded == []
