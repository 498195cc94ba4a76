"""The authorization table (tests/authz/table.py), checked cell by cell against the app.

Every route of the URL map, six requesters, by session cookie and by bearer token: the answer is
the table's; a refused unsafe request changes nothing; and no response body — page, JSON,
CSV or printed report — holds a blind calibration score, another school's walkthrough or
teacher, or a group the summary suppresses, unless the requester may see it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from observe.accounts.models import ApiToken
from observe.core.models import utcnow
from observe.extensions import db
from tests.authz import district
from tests.authz.table import ROUTES, accepts, parse_answers, token_answer

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that end the requester's sessions on purpose and then send them to the sign-in page.
SIGN_OUTS = {"POST /sign-out", "POST /settings/sign-out-everywhere"}
# Where a classroom's attributes are part of the answer: the roster, the device's copy of it,
# and exports of the walkthroughs (one row per rating, with its classroom's attributes).
ROSTER_ROUTES = {
    "GET /schools/<code>",
    "GET /api/v1/schools",
    "GET /api/v1/bootstrap",
    "GET /api/v1/exports/observations",
    "GET /reports/export/download",
}
SEES_SCHOOL_A = {"observer", "leader_a", "admin"}
# A suppressed group is named, and said to be hidden, right there.
_SUPPRESSED_NEARBY = re.compile(r'"suppressed":\s*true|not shown', re.IGNORECASE)


def _cells() -> list[Any]:
    cells = []
    for key, row in ROUTES.items():
        for case in row.cases:
            answers = parse_answers(case.answers) if case.answers else {}
            for role in district.ROLES:
                cookie = answers.get(role, row.answers[role])
                for mode in district.MODES:
                    answer = cookie if mode == "cookie" else token_answer(key, row, role, cookie)
                    label = f"[{case.label}]" if case.label else ""
                    name = f"{key}{label}-{role}-{mode}"
                    cells.append(pytest.param(key, case, role, mode, answer, id=name))
    return cells


def _rules(app: Flask) -> dict[str, Any]:
    return {
        f"{method} {rule.rule}": rule
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }


def test_every_route_has_a_row(app: Flask) -> None:
    routes = set(_rules(app))
    assert sorted(routes - set(ROUTES)) == [], "routes without a row in tests/authz/table.py"
    assert sorted(set(ROUTES) - routes) == [], "rows for routes the app no longer has"


def _request(app: Flask, world, key: str, case, role: str, mode: str):
    d = world.current()
    method, _, _ = key.partition(" ")
    rule = _rules(app)[key]
    path = app.url_map.bind("localhost").build(rule.endpoint, case.args(d), method=method)
    if case.query:
        path += ("&" if "?" in path else "?") + case.query
    client = app.test_client()
    headers: dict[str, str] = {}
    body = case.body(d) if case.body else None
    if mode == "cookie":
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], world.cookies[role])
        if method in UNSAFE:
            headers["X-CSRFToken"] = world.csrf[role]
            if body is not None and not key.split(" ", 1)[1].startswith("/api/"):
                body = {**body, "csrf_token": world.csrf[role]}
            elif body is None and not key.split(" ", 1)[1].startswith("/api/"):
                body = {"csrf_token": world.csrf[role]}
    elif role != "anonymous":
        headers["Authorization"] = f"Bearer {d.tokens[role]}"
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):  # a file's bytes (a photo), as the tablet sends them
        kwargs.update(data=body, content_type="image/png")
    elif body is not None:
        kwargs["json" if key.split(" ", 1)[1].startswith("/api/") else "data"] = body
    return client.open(path, method=method, **kwargs)


@pytest.mark.parametrize(("key", "case", "role", "mode", "answer"), _cells())
def test_cell(app: Flask, world, key: str, case, role: str, mode: str, answer) -> None:
    may_see = world.current().may_see[role]
    unsafe = key.split(" ", 1)[0] in UNSAFE
    before = world.fingerprint() if unsafe else None
    response = _request(app, world, key, case, role, mode)
    body = response.get_data().decode("utf-8", "replace")  # a workbook download is binary
    response.close()
    status, location = response.status_code, response.headers.get("Location", "")
    if unsafe:
        after = world.fingerprint()
        changed = after != before
        if changed:
            world.changed()
        if status >= 400 or (location.startswith("/sign-in") and key not in SIGN_OUTS):
            assert not changed, (
                f"{key} was refused ({status}) but changed the database: "
                + (repr([a for a, b in zip(before, after, strict=True) if a != b])[:2000])
            )

    assert accepts(answer, status, location), (
        f"{key} as {role} by {mode}: expected {answer}, got {status} {location} {body[:300]}"
    )

    for marker in district.MARKERS:
        if marker not in may_see:
            assert marker not in body, f"{key} as {role} shows {marker!r}"
    roster = key in ROSTER_ROUTES and role in SEES_SCHOOL_A
    if not roster:
        for found in re.finditer(re.escape(district.TINY_GROUP), body):
            following = body[found.end() : found.end() + 200]
            assert _SUPPRESSED_NEARBY.search(following), (
                f"{key} as {role} shows the tiny group {district.TINY_GROUP!r} unsuppressed: "
                f"…{body[max(0, found.start() - 200) : found.end() + 200]}…"
            )


def test_revoked_token_is_refused_everywhere(app: Flask, world) -> None:
    """A revoked or unknown token gets 401 from every route, public ones included: a program
    whose token was revoked learns so at once, whatever it asks for."""
    d = world.current()
    revoked = d.tokens["observer"]
    for token in db.session.query(ApiToken).filter_by(user_id=d.user_id("observer")):
        token.revoked_at = utcnow()
    db.session.commit()
    world.changed()
    rules = _rules(app)
    for key, row in ROUTES.items():
        method = key.split(" ", 1)[0]
        path = app.url_map.bind("localhost").build(
            rules[key].endpoint, row.cases[0].args(d), method=method
        )
        for secret in (revoked, "obs_not-a-token-at-all"):
            response = app.test_client().open(
                path, method=method, headers={"Authorization": f"Bearer {secret}"}
            )
            assert response.status_code == 401, (key, response.status_code)


def test_the_planted_values_are_there_to_be_found(app: Flask, world, monkeypatch) -> None:
    """The searches above can fail: each planted value is in the answers of someone who may
    see it (and the tiny group in the summary, marked as suppressed)."""
    d = world.current()
    # The world's groups are a classroom or two: count walkthroughs only, so the split shows.
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 1)

    def get(role: str, path: str) -> str:
        return (
            app.test_client()
            .get(path, headers={"Authorization": f"Bearer {d.tokens[role]}"})
            .get_data(as_text=True)
        )

    assert district.BLIND_A in get("observer", "/api/v1/sync/pull?cursor=0")
    assert district.BLIND_B in get("observer_b", f"/api/v1/observations/{d.ids['blind_b']}")
    assert district.WALK_A in get("leader_a", f"/api/v1/observations/{d.ids['walk_a']}")
    assert district.TEACHER_B in get("leader_b", "/api/v1/schools")
    summary = app.test_client().get(
        "/api/v1/reports/summary?by=classroom:pathway",
        headers={"Authorization": f"Bearer {d.tokens['admin']}"},
    )
    rows = {row["label"]: row for row in summary.get_json()["groups"]["rows"]}
    assert rows[district.TINY_GROUP] == {
        "key": district.TINY_GROUP,
        "label": district.TINY_GROUP,
        "suppressed": True,
        "reason": "too few walkthroughs",
    }
    assert rows["General"]["suppressed"] is False  # the split is shown, but for small groups
