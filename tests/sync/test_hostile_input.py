"""Every input has a clear answer, never a 500 (issue 11).

Hostile strings, numbers, dates and shapes in every field of a pushed version, in the push's
envelope and in every query parameter and path id of the JSON API, on whichever database the
suite runs on (``OBSERVE_TEST_DATABASE_URL``): nothing answers 5xx, a push's good versions are
stored whatever its bad one holds, and a bad one is rejected naming the field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, RejectedVersion
from observe.sync.push import MAX_REJECTED_PAYLOAD
from tests.conftest import edit_of


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


HOSTILE_TEXT = st.sampled_from(
    [
        "\x00",
        "notes\x00with a NUL",
        "\ud800",
        "lone \udfff surrogate",
        "",
        " ",
        "²",
        "٣",
        "9" * 30,
        "-1",
        "$\\frac$",
        '=HYPERLINK("http://evil.example/","x")',
        "\u202eright-to-left",
        "x" * 25_000,
    ]
) | st.text(max_size=12)
HOSTILE_NUMBERS = (
    st.sampled_from(
        [0, -1, 1, 2**31 - 1, 2**31, 2**40, 2**63, 2**70, -(2**70), 1.5, float("nan"), float("inf")]
    )
    | st.integers()
)
HOSTILE_DATES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2024-02-30T10:00:00Z",
        "2024-01-01T10:00:00",
        "1999-12-31T10:00:00Z",
        "not a date",
    ]
)
HOSTILE_SHAPES = st.sampled_from(
    [
        None,
        True,
        [],
        {},
        ["x"] * 300,
        _deep(40),
        {"\x00": 1},
        {"\ud800": "key"},
        {"grouping": _deep(30)},
        {"grouping": ["Whole class", 2**70]},
        {"grouping": "Pairs", "k" * 150: "x"},
    ]
)
HOSTILE = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBERS, HOSTILE_DATES, HOSTILE_SHAPES)

VERSION_FIELDS = [
    "observation_id",
    "version_id",
    "base_version_id",
    "rubric_version_id",
    "school_id",
    "classroom_id",
    "observed_at",
    "saved_at",
    "duration_seconds",
    "state",
    "context",
    "ratings",
    "notes",
    "strengths",
    "next_step",
    "calibration_session_id",
    "an_unknown_field",
]
RATING_FIELDS = ["criterion", "level", "not_observed", "evidence", "an_unknown_field"]

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _stored(version_id: str) -> bool:
    return bool(db.session.scalar(select(func.count()).where(Observation.id == version_id)))


def _names(errors: list[dict[str, str]], field: str) -> bool:
    return any(
        e["field"] == field or e["field"].startswith((f"{field}.", f"{field}[")) for e in errors
    )


def _check_push(client, headers, make_version, bad: dict[str, Any], field: str) -> None:
    first, last = make_version(), make_version()
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "tablet-1", "app_version": "1", "versions": [first, bad, last]},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    results = response.get_json()["results"]
    assert [results[0]["status"], results[2]["status"]] == ["applied", "applied"], results
    assert _stored(first["observation_id"]) and _stored(last["observation_id"])
    if results[1]["status"] == "rejected":
        assert _names(results[1]["errors"], field), (field, results[1])
    else:
        assert results[1]["status"] == "applied", results[1]


@FUZZ
@given(field=st.sampled_from(VERSION_FIELDS), value=HOSTILE)
def test_a_hostile_field_rejects_its_version_only(
    client, bearer, setting, make_version, field, value
):
    headers = bearer(setting.observer)
    _check_push(client, headers, make_version, make_version(**{field: value}), field)


@FUZZ
@given(field=st.sampled_from(RATING_FIELDS), value=HOSTILE)
def test_a_hostile_rating_rejects_its_version_only(
    client, bearer, setting, make_version, field, value
):
    headers = bearer(setting.observer)
    bad = make_version()
    bad["ratings"][0][field] = value
    _check_push(client, headers, make_version, bad, "ratings")


@FUZZ
@given(field=st.sampled_from(["device_id", "app_version", "versions"]), value=HOSTILE)
def test_a_hostile_envelope_answers_422_naming_the_field(
    client, bearer, setting, make_version, field, value
):
    body: dict[str, Any] = {"device_id": "tablet-1", "app_version": "1", "versions": []}
    body[field] = value
    response = client.post("/api/v1/sync/push", json=body, headers=bearer(setting.observer))
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:500]
    if response.status_code == 422:
        assert field in response.get_json()["error"]["details"], response.get_json()


# ---- query parameters and path ids of the JSON API ---------------------------------------------

QUERY_PARAMETERS = {
    "/api/v1/sync/pull": ["cursor", "limit"],
    "/api/v1/reports/summary": [
        "rubric_version_id",
        "from",
        "to",
        "school",
        "observer",
        "by",
        "at_least",
    ],
    "/api/v1/exports/observations": ["format", "from", "to", "school"],
    "/api/v1/calibration/trends": ["anything"],
}
PATHS_WITH_IDS = [
    ("GET", "/api/v1/rubric-versions/{}"),
    ("GET", "/api/v1/calibration/sessions/{}"),
    ("GET", "/api/v1/calibration/sessions/{}/report"),
    ("POST", "/api/v1/calibration/sessions/{}/reveal"),
    ("PUT", "/api/v1/calibration/sessions/{}/consensus"),
    ("DELETE", "/api/v1/goals/{}"),
    ("GET", "/api/v1/observations/{}"),
    ("DELETE", "/api/v1/observations/{}"),
    ("POST", "/api/v1/observations/{}/reconcile"),
]
QUERY_VALUES = st.one_of(
    HOSTILE_TEXT,
    HOSTILE_NUMBERS.map(str),
    HOSTILE_DATES,
    st.sampled_from(["0001-01-01", "9999-12-31", "2024-13-01", "²", "1e3", "0x10"]),
)


def _encoded(text: str) -> str:
    # As a browser would send it; an unpaired surrogate cannot be UTF-8, so its bytes go as
    # they would from a careless client.
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@FUZZ
@given(
    endpoint=st.sampled_from(sorted(QUERY_PARAMETERS)),
    data=st.data(),
    value=QUERY_VALUES,
)
def test_hostile_query_parameters_answer_4xx_naming_them(
    client, bearer, admin, setting, endpoint, data, value
):
    name = data.draw(st.sampled_from(QUERY_PARAMETERS[endpoint]))
    response = client.get(f"{endpoint}?{name}={_encoded(value)}", headers=bearer(admin))
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:500]
    if response.status_code in (400, 422):
        assert name in body, body[:500]
    else:
        assert response.status_code == 200, body[:500]


@FUZZ
@given(route=st.sampled_from(PATHS_WITH_IDS), value=QUERY_VALUES)
def test_hostile_path_ids_answer_4xx(client, bearer, admin, setting, route, value):
    method, template = route
    response = client.open(
        template.format(_encoded(value) or "x"), method=method, json={}, headers=bearer(admin)
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]


# ---- the findings of issue 11, one by one ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"notes": "a\x00b"}, "notes"),
        ({"notes": "\ud800"}, "notes"),
        ({"strengths": "a\x00b"}, "strengths"),
        ({"next_step": "\ud800"}, "next_step"),
        ({"an_unknown_field": "a\x00b"}, "an_unknown_field"),
        ({"observed_at": "0001-01-01T00:00:00+14:00"}, "observed_at"),
        ({"saved_at": "9999-12-31T23:59:59-14:00"}, "saved_at"),
        ({"school_id": 2**40}, "school_id"),
        ({"classroom_id": 2**70}, "classroom_id"),
        ({"rubric_version_id": 2**40}, "rubric_version_id"),
        ({"calibration_session_id": 2**70}, "calibration_session_id"),
        ({"context": {"grouping": _deep(50)}}, "context.grouping"),
        ({"context": {"gro\x00uping": "Pairs"}}, "context.gro\\u0000uping"),
    ],
)
def test_what_no_database_stores_is_rejected_by_name(push, make_version, changes, field):
    good, bad = make_version(), make_version(**changes)
    results = push(good, bad)["results"]
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "rejected"
    assert field in [e["field"] for e in results[1]["errors"]], results[1]
    kept = db.session.scalars(select(RejectedVersion)).one()
    assert kept.version_id == bad["version_id"]


def test_a_nul_in_evidence_is_rejected_by_name(push, make_version):
    bad = make_version()
    bad["ratings"][0]["evidence"] = "pairs\x00argued"
    result = push(bad)["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == [
        {
            "field": "ratings[0].evidence",
            "message": "contains a NUL character, which cannot be stored",
        }
    ]


def test_a_nul_in_the_envelope_is_a_422(client, bearer, setting):
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "tab\x00let", "app_version": "\ud800", "versions": []},
        headers=bearer(setting.observer),
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {"device_id", "app_version"}


def test_json_nested_too_deeply_to_read_is_a_422(client, bearer, setting):
    deep = "[" * 5000 + "]" * 5000
    body = '{"device_id": "t", "versions": [{"context": {"grouping": ' + deep + "}}]}"
    response = client.post(
        "/api/v1/sync/push",
        data=body,
        content_type="application/json",
        headers=bearer(setting.observer),
    )
    assert response.status_code == 422


def test_a_rejected_version_is_stored_bounded(push, make_version):
    junk = make_version(junk="x" * (2 * MAX_REJECTED_PAYLOAD))
    result = push(junk)["results"][0]
    assert result["status"] == "rejected"
    kept = db.session.scalars(select(RejectedVersion)).one()
    assert len(json.dumps(kept.payload)) < 2048
    assert kept.payload["version_id"] == junk["version_id"]
    assert kept.payload["school_id"] == junk["school_id"]
    assert "bytes of JSON" in kept.payload["_truncated"]


def test_a_rejected_version_keeps_hostile_text_escaped(push, make_version):
    bad = make_version(notes="a\x00b", extra={"\ud800": float("inf")})
    assert push(bad)["results"][0]["status"] == "rejected"
    kept = db.session.scalars(select(RejectedVersion)).one()
    assert kept.payload["notes"] == "a\\u0000b"
    assert kept.payload["extra"] == {"\\ud800": "inf"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/calibration/sessions/99999999999999999999999",
        "/api/v1/calibration/sessions/2147483648",
        "/api/v1/rubric-versions/99999999999999999999999",
        "/api/v1/rubric-versions/%C2%B2",
        "/api/v1/observations/%00",
        "/rubrics/99999999999999999999999",
    ],
)
def test_path_ids_beyond_any_row_are_404(client, bearer, sign_in, admin, path):
    if path.startswith("/api/"):
        assert client.get(path, headers=bearer(admin)).status_code == 404
    else:  # a page: for signed-in people, not tokens
        sign_in(admin)
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=%C2%B2", "cursor"),
        ("limit=%C2%B2", "limit"),
        ("cursor=99999999999999999999999", "cursor"),
        ("cursor=-1", "cursor"),
    ],
)
def test_pull_names_a_bad_cursor_or_limit(client, bearer, setting, query, field):
    response = client.get(f"/api/v1/sync/pull?{query}", headers=bearer(setting.observer))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("rubric_version_id=%C2%B2", "rubric_version_id"),
        ("at_least=%C2%B2", "at_least"),
        ("from=0001-01-01&to=9999-12-31", "from"),
        ("to=9999-12-31", "to"),
        ("school=%00", "school"),
    ],
)
def test_summary_names_a_bad_parameter(client, bearer, admin, setting, query, field):
    response = client.get(f"/api/v1/reports/summary?{query}", headers=bearer(admin))
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert field in response.get_json()["error"]["message"]


def test_forms_read_unicode_digits_as_text(client, sign_in, create_user, setting):
    leader = create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[setting.school])
    sign_in(leader)
    goal = client.post_form(
        "/reports/goals",
        {"title": "More talk", "rubric_version_id": "²", "at_least": "²", "deadline": "2030-01-01"},
    )
    assert goal.status_code == 422
    session = client.post_form(
        "/calibration/new",
        {"title": "Norming", "rubric_version_id": "²", "school_id": "99999999999999999999"},
    )
    assert session.status_code == 422
    nul = client.post_form("/reports/goals", {"title": "a\x00b"})
    assert nul.status_code == 422
    assert "title" in nul.get_data(as_text=True)


def test_a_body_over_the_limit_is_a_413_in_the_apis_shape(
    app, client, bearer, setting, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "t", "versions": [], "padding": "x" * 2048},
        headers=bearer(setting.observer),
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


# ---- the JSON bodies of the other write routes -------------------------------------------------


def _goal(setting, admin) -> dict[str, Any]:
    return {
        "title": "Every student explains",
        "rubric_version_id": setting.version.id,
        "target_kind": "criterion",
        "target_key": "ct-explain-reasoning",
        "at_least": 3,
        "target_share": 0.7,
        "school_code": None,
        "deadline": "2030-01-01",
    }


def _session(setting, admin) -> dict[str, Any]:
    return {
        "title": "Number talk",
        "team": "",
        "rubric_version_id": setting.version.id,
        "school_id": setting.school.id,
        "classroom_id": setting.classroom.id,
        "lesson_reference": "",
        "held_on": "2026-10-05",
        "participant_ids": [setting.observer.id, admin.id],
        "anchor_id": None,
    }


BODIES = {"/api/v1/goals": _goal, "/api/v1/calibration/sessions": _session}


@FUZZ
@given(path=st.sampled_from(sorted(BODIES)), data=st.data(), value=HOSTILE)
def test_hostile_json_bodies_answer_4xx_naming_the_field(
    client, bearer, admin, setting, path, data, value
):
    body = BODIES[path](setting, admin)
    field = data.draw(st.sampled_from([*body, "an_unknown_field"]))
    body[field] = value
    response = client.post(path, json=body, headers=bearer(admin))
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text[:500]
    if response.status_code == 422:
        assert field in response.get_json()["error"]["message"], text[:500]


@pytest.mark.parametrize("version_id", ["\x00", "a\x00b", "\ud800", 2**70, ["x"], {"a": 1}])
def test_a_hostile_version_to_reconcile_is_named(client, bearer, setting, make_version, version_id):
    headers = bearer(setting.observer)
    first = make_version()
    mine, theirs = edit_of(first, notes="mine"), edit_of(first, notes="theirs")
    for version in (first, mine, theirs):
        client.post(
            "/api/v1/sync/push",
            json={"device_id": "t", "versions": [version]},
            headers=headers,
        )
    response = client.post(
        f"/api/v1/observations/{first['observation_id']}/reconcile",
        json={"version_id": version_id},
        headers=headers,
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert "version_id" in response.get_json()["error"]["details"]
