"""The OpenAPI description is valid, covers every API route, and matches real responses."""

from __future__ import annotations

import re

import jsonschema
from openapi_spec_validator import validate

from tests.conftest import edit_of


def test_the_description_is_valid_openapi(client):
    response = client.get("/api/v1/openapi.json")  # no sign-in needed to read it
    assert response.status_code == 200
    validate(response.get_json())


def test_every_api_route_is_described(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    described = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }
    routed = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == described


def schema(spec, name):
    """A component schema as plain JSON Schema, with references resolved from the spec."""
    return {**spec["components"]["schemas"][name], "components": spec["components"]}


def test_push_results_and_changes_match_their_schemas(client, push, make_version):
    spec = client.get("/api/v1/openapi.json").get_json()
    first = make_version()
    results = push(first, edit_of(first), make_version(school_id=12345))["results"]
    for version in (first, edit_of(first)):
        jsonschema.validate(version, schema(spec, "Version"))
    for result in results:
        jsonschema.validate(result, schema(spec, "PushResult"))
    error = client.get("/api/v1/sync/pull?cursor=x").get_json()
    jsonschema.validate(error, schema(spec, "Error"))
