"""schemathesis against the API's own description (/api/v1/openapi.json), in process.

Every operation, with schema-valid (positive) and schema-invalid (negative) data, each example
as one of the five signed-in requesters of the authorization table's district (by bearer
token): no 5xx; every status, content type and body as documented; invalid data refused; and
valid data refused only for what no schema can say (see ``_NOT_FOR_A_SCHEMA``), so the
description is as strict as the server. A bounded number of examples per operation keeps the
run under two minutes on either database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from observe import api
from tests.authz import district as planted
from tests.authz.district import ROLES

SIGNED_IN = [role for role in ROLES if role != "anonymous"]
DOCUMENT = yaml.safe_load((Path(api.__file__).parent / "openapi.yaml").read_text("utf-8"))
MODES = list(schemathesis.GenerationMode)


def _operations(schema) -> dict:
    return {op.label: op for op in (found.ok() for found in schema.get_all_operations())}


# Labels ("GET /bootstrap") to name the tests by; the operations themselves come from the app.
LABELS = sorted(_operations(schemathesis.openapi.from_dict(DOCUMENT)))


@pytest.fixture(scope="module")
def operations(app: Flask) -> dict:
    """The API's operations as the app describes them (/api/v1/openapi.json), called in
    process through WSGI."""
    return _operations(schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app))


# Why the server may refuse a request the description calls valid: what no schema can say
# (ids that name nothing, or something not the requester's; dates in the wrong order; a level
# the rubric does not have). Any other refusal of schema-valid data means the description is
# looser than the server, and fails.
_NOT_FOR_A_SCHEMA = re.compile(
    r"unknown |not one of your schools|one of their schools|not an observer in your schools"
    r"|is not a level|is not a (criterion|competency|dimension) of|is not in "
    r"|must come after|before the start|anchor rater|no rubric is loaded"
    r"|deactivated accounts|listed more than once"
    # Said once in the description's introduction, not in every schema: text without NUL or
    # unpaired surrogates; integers without a fraction (JSON Schema's integer includes 1.0).
    r"|which cannot be stored|Not a valid integer"
)


def _refused_only_for_what_no_schema_says(case, response) -> None:
    if not case.meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return
    details = response.json()["error"].get("details") or {}
    shape = {f: m for f, m in details.items() if not _NOT_FOR_A_SCHEMA.search(str(m))}
    assert details and not shape, (
        f"{case.operation.label}: schema-valid data refused ({response.status_code}); the "
        f"description is looser than the server about {shape or response.json()}"
    )


# What each requester may never read, whatever the fuzzer's requests change (a session it
# happens to reveal shows its scores to the team, so only those outside it are listed).
NEVER = {
    "observer": {planted.TEACHER_B},
    "observer_b": {planted.WALK_A},
    "leader_a": {planted.TEACHER_B},
    "leader_b": {planted.BLIND_A, planted.BLIND_B, planted.WALK_A},
    "admin": set(),
}


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
@pytest.mark.parametrize("label", LABELS)
def test_operation(app: Flask, world, operations, label: str, mode) -> None:
    district = world.current()
    world.changed()  # whatever the fuzzer did is undone before the next operation
    operation = operations[label]

    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(SIGNED_IN))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case, role) -> None:
        headers = {"Authorization": f"Bearer {district.tokens[role]}"}
        response = case.call(headers=headers)
        # ignored_auth sends the request again without credentials, but with the headers given
        # here, so it cannot take ours away; tests/authz checks every route without them.
        # positive_data_acceptance is replaced by the finer check below.
        excluded = [positive_data_acceptance, ignored_auth]
        if label == "POST /sync/push":
            # Each version is answered on its own (one bad version never blocks the batch): an
            # invalid one is "rejected" with its field errors inside a 200.
            excluded.append(negative_data_rejection)
        case.validate_response(response, headers=headers, excluded_checks=excluded)
        _refused_only_for_what_no_schema_says(case, response)
        for marker in NEVER[role]:
            assert marker not in response.text, f"{case.operation.label} as {role}: {marker}"

    fuzz()
