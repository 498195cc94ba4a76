"""Who may use which route: every rule of the URL map, every kind of requester: the answer.

Read docs/authorization.md first. A row is keyed ``"METHOD /rule"`` exactly as Flask's URL map
spells the rule; ``tests/authz/test_table.py`` fails for any route of the app without a row,
and for any row without a route. Each row holds one or more cases (a real object of the
district in tests/authz/district.py behind each id) and the answer of each requester:

  ``200`` … a status code;  ``sign-in`` — a redirect to the sign-in page;  ``a|b`` — either
  (used only where another branch decides between equally safe answers).

Columns, in order: anonymous, observer (of school A), observer_b (an observer of school B),
leader_a, leader_b (school leaders of A and of B), admin (a district admin). The columns hold the
answers to a browser (session cookie, with a valid CSRF token). What a program sending a bearer
token gets is derived (see ``token_answer``): the same as the browser on the JSON API, refused
(401 or 403) on HTML pages and on the token settings; with no credentials at all, 401 on the API
and the sign-in page (or a refused form) elsewhere.

Refusals say as little as they can: 404 for an object the requester may not know of (another
school's walkthrough, a session of another team, someone else's token), 403 for one they may
see but not change, or for a page their role may not use at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.authz import district
from tests.authz.district import ROLES, District

SIGN_IN = "sign-in"
# A bearer token on an HTML page or the token settings: refused, whichever of the two.
TOKEN_REFUSED = frozenset({401, 403})
# A form posted with no session at all: the CSRF check or the sign-in redirect refuses it.
ANONYMOUS_FORM = frozenset({400, SIGN_IN})

Answer = int | str | frozenset


@dataclass
class Case:
    """One request to a route: its path arguments, query string and body, from the district."""

    label: str = ""
    args: Callable[[District], dict[str, Any]] = lambda d: {}
    query: str = ""
    body: Callable[[District], dict[str, Any] | bytes] | None = None  # bytes: a file's
    # The answers for this case when they differ from the row's, written as a row's are.
    answers: str | None = None


@dataclass
class Row:
    kind: str  # "page" (HTML, and the token settings), "api", or "public"
    answers: dict[str, Answer]
    cases: list[Case] = field(default_factory=lambda: [Case()])


def parse_answers(text: str) -> dict[str, Answer]:
    """``"sign-in 200 404 200 404 200"`` → each column's answer; ``a|b`` is either."""

    def one(word: str) -> Answer:
        if "|" in word:
            return frozenset(one(w) for w in word.split("|"))
        return SIGN_IN if word == SIGN_IN else int(word)

    words = text.split()
    assert len(words) == len(ROLES), f"{text!r}: one answer for each of {ROLES}"
    return dict(zip(ROLES, map(one, words), strict=True))


def _person_form(d: District) -> dict[str, Any]:
    """Bob, as he is (an admin saving him changes nothing)."""
    return {
        "name": "Bob Observer",
        "email": "bob@authz.example",
        "role": "observer",
        "school": "AUTHZ-B",
        "schools_shown": "1",
        "active": "yes",
    }


def page(answers: str, *cases: Case) -> Row:
    return Row("page", parse_answers(answers), list(cases) or [Case()])


def api(answers: str, *cases: Case) -> Row:
    return Row("api", parse_answers(answers), list(cases) or [Case()])


def public(answers: str, *cases: Case) -> Row:
    """Needs no sign-in."""
    return Row("public", parse_answers(answers), list(cases) or [Case()])


EVERYONE = "sign-in 200 200 200 200 200"
API_EVERYONE = "401 200 200 200 200 200"


def _walk_a(d: District) -> dict[str, Any]:
    return {"observation_id": d.ids["walk_a"]}


def _new_photo(d: District) -> dict[str, Any]:
    return {"observation_id": d.ids["photo_walk"], "sha256": district.OTHER_PHOTO_SHA}


def _blind_b(d: District) -> dict[str, Any]:
    return {"observation_id": d.ids["blind_b"]}


def _send_body(d: District) -> dict[str, Any]:
    return {"send_id": "5b0c1a9e-8f3d-4c2b-9a7e-1d2c3b4a5f60"}


def _forged_link(d: District) -> dict[str, Any]:
    return {"token": "ImZvcmdlZCI.aAAAAA.forged-signature"}


def _confirmed(d: District) -> dict[str, Any]:
    """The body of a confirmation page's form (observe/core/confirm.py)."""
    return {"confirmed": "yes"}


def _open(d: District) -> dict[str, Any]:
    return {"session_id": d.ids["open_session"]}


def _revealed(d: District) -> dict[str, Any]:
    return {"session_id": d.ids["revealed_session"]}


def _session_body(d: District) -> dict[str, Any]:
    return {
        "title": "Another session",
        "team": "Alder team",
        "rubric_version_id": d.ids["rubric_version"],
        "school_id": d.ids["school_a_id"],
        "classroom_id": d.ids["classroom_a1"],
        "held_on": "2026-11-02",
        "participant_ids": [d.user_id("observer"), d.user_id("observer_b")],
    }


def _goal_body(d: District) -> dict[str, Any]:
    return {
        "title": "Another goal",
        "rubric_version_id": d.ids["rubric_version"],
        "target_kind": "criterion",
        "target_key": "ct-rigorous-task",
        "at_least": 3,
        "target_share": 0.5,
        "school_code": d.ids["school_a"],
        "deadline": "2030-06-01",
    }


def _goal_form(d: District) -> dict[str, Any]:
    body = {k: str(v) for k, v in _goal_body(d).items() if k != "target_share"}
    return {**body, "target_percent": "50"}


def _push_body(d: District) -> dict[str, Any]:
    return {
        "device_id": "table-tablet",
        "versions": [
            {
                "observation_id": "7d1f8d52-5a55-4f7e-9a53-6c6f3c1d2a10",
                "version_id": "0b8f2b8e-3f7c-4d6a-8f0e-2c3a5b7d9e11",
                "rubric_version_id": d.ids["rubric_version"],
                "school_id": d.ids["school_a_id"],
                "classroom_id": d.ids["classroom_a1"],
                "observed_at": "2026-11-02T09:00:00+00:00",
                "saved_at": "2026-11-02T09:10:00+00:00",
                "state": "submitted",
                "ratings": [{"criterion": "ct-explain-reasoning", "level": 2}],
            }
        ],
    }


_SUMMARY = "by=classroom:pathway"
_COVERAGE = "from=2026-11-01&to=2026-11-30"
_COVERAGE_A = _COVERAGE + "&school=AUTHZ-A"

ROUTES: dict[str, Row] = {
    # ---- public: no sign-in needed ---------------- anon  obs  obs_b lead_a lead_b admin
    "GET /health": public("200 200 200 200 200 200"),
    "GET /favicon.ico": public("301 301 301 301 301 301"),
    "GET /static/<path:filename>": public(
        "200 200 200 200 200 200", Case(args=lambda d: {"filename": "css/app.css"})
    ),
    "GET /app/": public("200 200 200 200 200 200"),
    "GET /sw.js": public("200 200 200 200 200 200"),
    "GET /manifest.webmanifest": public("200 200 200 200 200 200"),
    "GET /api/v1/openapi.json": public("200 200 200 200 200 200"),
    # The sign-in page sends a signed-in person home.
    "GET /sign-in": public("200 302 302 302 302 302"),
    # Posted empty: refused without counting as a failed attempt.
    "POST /sign-in": public(
        "401 401 401 401 401 401", Case(body=lambda d: {"email": "", "password": ""})
    ),
    # Single sign-on: public, and absent (404) in an app without it, as here. With it on
    # (tests/accounts/test_single_sign_on.py), the start only redirects (to the provider, or a
    # signed-in person onwards) and the callback opens no session without a valid flow (400).
    "GET /sign-in/sso": public("404 404 404 404 404 404"),
    "GET /sign-in/sso/callback": public(
        "404 404 404 404 404 404", Case(query="code=forged&state=forged")
    ),
    # The teacher's feedback from the e-mailed link: the signed link is the credential, so a
    # forged one is unknown to everyone (tests/observations/test_sending.py has real links).
    "GET /feedback/t/<token>": public("404 404 404 404 404 404", Case(args=_forged_link)),
    "POST /feedback/t/<token>": public(
        "404 404 404 404 404 404", Case(args=_forged_link, body=lambda d: {"reflection": "x"})
    ),
    # ---- pages: any signed-in person --------------- anon  obs  obs_b lead_a lead_b admin
    "GET /": page(EVERYONE),
    "POST /sign-out": page("sign-in sign-in sign-in sign-in sign-in sign-in"),
    "GET /settings": page(EVERYONE),
    # Asked first (core/confirm.py); confirmed, it ends every session of the person (the
    # district is signed in again afterwards). Unconfirmed, it only asks (303).
    "GET /settings/sign-out-everywhere": page(EVERYONE),
    "POST /settings/sign-out-everywhere": page(
        "sign-in sign-in sign-in sign-in sign-in sign-in",
        Case("confirmed", body=_confirmed),
        Case("unconfirmed", answers="sign-in 303 303 303 303 303"),
    ),
    # One's own language: anyone signed in sets their own (back to the settings page).
    "POST /settings/language": page(
        "sign-in 302 302 302 302 302", Case(body=lambda d: {"language": "es"})
    ),
    # Two new passwords that differ: refused on the settings page, nothing changes.
    "POST /settings/password": page(
        "sign-in 302 302 302 302 302",
        Case(
            body=lambda d: {
                "current_password": "not the password",
                "new_password": "a long enough passphrase",
                "confirm_password": "another long passphrase",
            }
        ),
    ),
    "POST /settings/tokens": page(
        EVERYONE, Case(body=lambda d: {"name": "laptop", "password": district.PASSWORD})
    ),
    # Only the owner's own tokens; anyone else's is unknown to them.
    "GET /settings/tokens/<int:token_id>/revoke": page(
        "sign-in 200 404 404 404 404", Case(args=lambda d: {"token_id": d.ids["spare_token"]})
    ),
    "POST /settings/tokens/<int:token_id>/revoke": page(
        "sign-in 302 404 404 404 404",
        Case("confirmed", args=lambda d: {"token_id": d.ids["spare_token"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"token_id": d.ids["spare_token"]},
            answers="sign-in 303 404 404 404 404",
        ),
    ),
    "GET /rubrics": page(EVERYONE),
    "GET /rubrics/<int:version_id>": page(
        EVERYONE, Case(args=lambda d: {"version_id": d.ids["rubric_version"]})
    ),
    # What anyone may read, they may download: a rubric as a workbook or YAML, the template.
    "GET /rubrics/<int:version_id>/download.<form>": page(
        EVERYONE,
        Case("xlsx", args=lambda d: {"version_id": d.ids["rubric_version"], "form": "xlsx"}),
        Case("yaml", args=lambda d: {"version_id": d.ids["rubric_version"], "form": "yaml"}),
    ),
    "GET /rubrics/template.xlsx": page(EVERYONE),
    # Loading a rubric from the web: district admins only. No file: 422; no preview: 400.
    "GET /rubrics/load": page("sign-in 403 403 403 403 200"),
    "POST /rubrics/load": page("sign-in 403 403 403 403 422"),
    "POST /rubrics/load/confirm": page("sign-in 403 403 403 403 400"),
    # Retiring a version and bringing it back: district admins, asked first (core/confirm.py).
    "GET /rubrics/<int:version_id>/retire": page(
        "sign-in 403 403 403 403 200", Case(args=lambda d: {"version_id": d.ids["rubric_version"]})
    ),
    "POST /rubrics/<int:version_id>/retire": page(
        "sign-in 403 403 403 403 302",
        Case("confirmed", args=lambda d: {"version_id": d.ids["rubric_version"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"version_id": d.ids["rubric_version"]},
            answers="sign-in 403 403 403 403 303",
        ),
    ),
    "GET /rubrics/<int:version_id>/unretire": page(
        "sign-in 403 403 403 403 200", Case(args=lambda d: {"version_id": d.ids["rubric_version"]})
    ),
    "POST /rubrics/<int:version_id>/unretire": page(
        "sign-in 403 403 403 403 302",
        Case("confirmed", args=lambda d: {"version_id": d.ids["rubric_version"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"version_id": d.ids["rubric_version"]},
            answers="sign-in 403 403 403 403 303",
        ),
    ),
    "GET /schools": page(EVERYONE),
    # A school's roster: its own people and admins; for anyone else the school is not there.
    "GET /schools/<code>": page(
        "sign-in 200 404 200 404 200", Case(args=lambda d: {"code": d.ids["school_a"]})
    ),
    # ---- walkthroughs: the author, the school's leaders, admins -------------------------
    # The list: everyone signed in, each their own scope (the markers check what shows).
    "GET /walkthroughs/": page(EVERYONE, Case(), Case("filtered", query="state=conflict")),
    # One walkthrough: as its feedback page (never a calibration score, never a deleted one).
    "GET /walkthroughs/<observation_id>": page(
        "sign-in 200 404 200 404 200",
        Case("walkthrough", args=_walk_a),
        Case("blind score", args=_blind_b, answers="sign-in 404 404 404 404 404"),
    ),
    "GET /walkthroughs/conflicts": page(EVERYONE),
    # Deleting from its page: asked first; the author or an admin, as the API.
    "GET /walkthroughs/<observation_id>/delete": page(
        "sign-in 200 404 403 404 200", Case(args=_walk_a)
    ),
    "POST /walkthroughs/<observation_id>/delete": page(
        "sign-in 302 404 403 404 302",
        Case("confirmed", args=_walk_a, body=_confirmed),
        Case("unconfirmed", args=_walk_a, answers="sign-in 303 404 403 404 303"),
    ),
    "GET /walkthroughs/<observation_id>/reconcile": page(
        "sign-in 200 404 200 404 200", Case(args=_walk_a)
    ),
    "POST /walkthroughs/<observation_id>/reconcile": page(
        "sign-in 302 404 302 404 302",
        Case(args=_walk_a, body=lambda d: {"version_id": d.ids["walk_a_leaf"]}),
    ),
    # Feedback: never on a calibration score, whoever asks (its author included).
    "GET /walkthroughs/<observation_id>/feedback": page(
        "sign-in 200 404 200 404 200",
        Case("walkthrough", args=_walk_a),
        Case("blind score", args=_blind_b, answers="sign-in 404 404 404 404 404"),
    ),
    "GET /walkthroughs/<observation_id>/feedback.pdf": page(
        "sign-in 200 404 200 404 200", Case(args=_walk_a)
    ),
    # ---- calibration: the team (participants, facilitator), admins ----------------------
    "GET /calibration/": page(EVERYONE),
    "GET /calibration/trends": page(EVERYONE),
    "GET /calibration/new": page("sign-in 403 403 200 200 200"),
    # School B's leader may create sessions, but not for school A's lesson: named as invalid.
    "POST /calibration/new": page("sign-in 403 403 302 422 302", Case(body=_session_body)),
    "GET /calibration/<int:session_id>": page(
        "sign-in 200 200 200 404 200",
        Case("open", args=_open),
        Case("revealed", args=_revealed),
    ),
    # The reveal is asked first, naming who has not submitted.
    "GET /calibration/<int:session_id>/reveal": page(
        "sign-in 403 403 200 404 200",
        Case("open", args=_open),
        Case("revealed", args=_revealed, answers="sign-in 403 403 302 404 302"),
    ),
    "POST /calibration/<int:session_id>/reveal": page(
        "sign-in 403 403 302 404 302",
        Case("confirmed", args=_open, body=_confirmed),
        Case("unconfirmed", args=_open, answers="sign-in 403 403 303 404 303"),
    ),
    # Remind a participant: the facilitator or an admin. Both have scored here, so the page
    # says so (a redirect with the message) and nothing is sent.
    "POST /calibration/<int:session_id>/remind/<int:user_id>": page(
        "sign-in 403 403 302 404 302",
        Case(args=lambda d: {**_open(d), "user_id": d.user_id("observer")}),
    ),
    "POST /calibration/<int:session_id>/consensus": page(
        "sign-in 403 403 302 404 302",
        Case(
            args=_revealed,
            body=lambda d: {"criterion": "ct-rigorous-task", "level-ct-rigorous-task": "2"},
        ),
    ),
    "GET /calibration/<int:session_id>/report.pdf": page(
        "sign-in 200 200 200 404 200",
        Case("revealed", args=_revealed),
        # Before the reveal there is no report, for the team either (409 Conflict).
        Case("open", args=_open, answers="sign-in 409 409 409 404 409"),
    ),
    # ---- reports: exports (of what each may see) for all, summaries for leaders ---------
    "GET /reports/export": page(EVERYONE),
    "GET /reports/export/download": page(EVERYONE),
    "GET /reports/summary": page("sign-in 403 403 200 200 200", Case(query=_SUMMARY)),
    "GET /reports/summary.pdf": page("sign-in 403 403 200 200 200", Case(query=_SUMMARY)),
    # Coverage: for leaders (their schools) and admins; a school not one's own is refused (400).
    "GET /reports/coverage": page(
        "sign-in 403 403 200 200 200",
        Case(),
        Case("school A", query=_COVERAGE_A, answers="sign-in 403 403 200 400 200"),
    ),
    "GET /reports/coverage.pdf": page(
        "sign-in 403 403 200 200 200",
        Case(query=_COVERAGE),
        Case("school A", query=_COVERAGE_A, answers="sign-in 403 403 200 400 200"),
    ),
    # School years: closing one and carrying its goals are a district admin's.
    "GET /reports/years/<int:year_id>/close": page(
        "sign-in 403 403 403 403 200", Case(args=lambda d: {"year_id": d.ids["year_last"]})
    ),
    "POST /reports/years/<int:year_id>/close": page(
        "sign-in 403 403 403 403 302",
        Case("confirmed", args=lambda d: {"year_id": d.ids["year_last"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"year_id": d.ids["year_last"]},
            answers="sign-in 403 403 403 403 303",
        ),
    ),
    "GET /reports/years/<int:year_id>/carry": page(
        "sign-in 403 403 403 403 200", Case(args=lambda d: {"year_id": d.ids["year_this"]})
    ),
    "POST /reports/years/<int:year_id>/carry": page(
        "sign-in 403 403 403 403 302",
        Case("confirmed", args=lambda d: {"year_id": d.ids["year_this"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"year_id": d.ids["year_this"]},
            answers="sign-in 403 403 403 403 303",
        ),
    ),
    "GET /reports/goals": page(EVERYONE),
    "POST /reports/goals": page("sign-in 403 403 302 422 302", Case(body=_goal_form)),
    "GET /reports/goals/<int:goal_id>/delete": page(
        "sign-in 404 404 200 404 200", Case(args=lambda d: {"goal_id": d.ids["goal_a"]})
    ),
    "POST /reports/goals/<int:goal_id>/delete": page(
        "sign-in 404 404 302 404 302",
        Case("confirmed", args=lambda d: {"goal_id": d.ids["goal_a"]}, body=_confirmed),
        Case(
            "unconfirmed",
            args=lambda d: {"goal_id": d.ids["goal_a"]},
            answers="sign-in 404 404 303 404 303",
        ),
    ),
    # ---- the audit log: district admins only ---------- anon  obs  obs_b lead_a lead_b admin
    "GET /admin/audit": page("sign-in 403 403 403 403 200"),
    "GET /admin/audit/export.csv": page("sign-in 403 403 403 403 200"),
    # ---- people: district admins only ------------------ anon  obs  obs_b lead_a lead_b admin
    "GET /admin/people": page("sign-in 403 403 403 403 200"),
    "GET /admin/people/<int:user_id>": page(
        "sign-in 403 403 403 403 200", Case(args=lambda d: {"user_id": d.user_id("observer")})
    ),
    "POST /admin/people/<int:user_id>": page(
        "sign-in 403 403 403 403 302",
        Case(args=lambda d: {"user_id": d.user_id("observer_b")}, body=_person_form),
    ),
    # ---- the JSON API ------------------------------ anon  obs  obs_b lead_a lead_b admin
    "GET /api/v1/me": api(API_EVERYONE),
    "GET /api/v1/session": api(API_EVERYONE),
    "GET /api/v1/bootstrap": api(API_EVERYONE),
    "POST /api/v1/sync/push": api(API_EVERYONE, Case(body=_push_body)),
    "POST /api/v1/device": api(
        API_EVERYONE, Case(body=lambda d: {"database_id": "table-tablet", "persisted": "no"})
    ),
    "GET /api/v1/sync/pull": api(API_EVERYONE, Case(query="cursor=0")),
    "GET /api/v1/rubrics": api(API_EVERYONE),
    "GET /api/v1/rubric-versions/<int:version_id>": api(
        API_EVERYONE, Case(args=lambda d: {"version_id": d.ids["rubric_version"]})
    ),
    "GET /api/v1/schools": api(API_EVERYONE),
    # The list: each their own scope; a bad filter is named (422), whoever asks.
    "GET /api/v1/observations": api(
        API_EVERYONE,
        Case(),
        Case("filtered", query="state=submitted&limit=2"),
        Case("bad filter", query="state=maybe", answers="401 422 422 422 422 422"),
    ),
    "GET /api/v1/observations/<observation_id>": api(
        "401 200 404 200 404 200",
        Case("walkthrough", args=_walk_a),
        # A score not yet revealed: its author only; not the facilitator, not an admin.
        Case("blind score", args=_blind_b, answers="401 404 200 404 404 404"),
    ),
    # Deleting: the author or an admin; school A's leader knows the walkthrough but may not.
    "DELETE /api/v1/observations/<observation_id>": api(
        "401 200 404 403 404 200",
        Case("walkthrough", args=_walk_a),
        Case("blind score", args=_blind_b, answers="401 404 200 404 404 200"),
    ),
    "POST /api/v1/observations/<observation_id>/reconcile": api(
        "401 200 404 200 404 200",
        Case(args=_walk_a, body=lambda d: {"version_id": d.ids["walk_a_leaf"]}),
    ),
    # Photos: the author adds them; whoever reads the walkthrough sees them.
    "PUT /api/v1/observations/<observation_id>/photos/<sha256>": api(
        "401 201 404 403 404 403", Case(args=_new_photo, body=lambda d: district.OTHER_PHOTO)
    ),
    "GET /api/v1/observations/<observation_id>/photos/<sha256>": api(
        "401 200 404 200 404 200",
        Case(args=lambda d: {"observation_id": d.ids["photo_walk"], "sha256": d.ids["photo_sha"]}),
    ),
    # Sending the feedback: the author or a leader of its school (not an admin as such). The
    # room of walk_a has no teacher, so those allowed are told so (422) and nothing is sent.
    "POST /api/v1/observations/<observation_id>/send-feedback": api(
        "401 422 404 422 404 403",
        Case("walkthrough", args=_walk_a, body=_send_body),
        Case("blind score", args=_blind_b, body=_send_body, answers="401 404 404 404 404 404"),
    ),
    "GET /api/v1/observations/<observation_id>/feedback-sends": api(
        "401 200 404 200 404 200",
        Case("walkthrough", args=_walk_a),
        Case("blind score", args=_blind_b, answers="401 404 404 404 404 404"),
    ),
    "GET /api/v1/exports/observations": api(API_EVERYONE),
    "GET /api/v1/reports/summary": api("401 403 403 200 200 200", Case(query=_SUMMARY)),
    "GET /api/v1/reports/coverage": api(
        "401 403 403 200 200 200",
        Case(query=_COVERAGE),
        Case("school A", query=_COVERAGE_A, answers="401 403 403 200 400 200"),
        Case("bad date", query="from=2026-02-30", answers="401 403 403 400 400 400"),
    ),
    "GET /api/v1/goals": api(API_EVERYONE),
    "GET /api/v1/years": api(API_EVERYONE),
    "POST /api/v1/goals": api("401 403 403 201 422 201", Case(body=_goal_body)),
    "DELETE /api/v1/goals/<int:goal_id>": api(
        "401 404 404 200 404 200",
        Case("school goal", args=lambda d: {"goal_id": d.ids["goal_a"]}),
        # Every leader sees the district's goal; only an admin removes it.
        Case(
            "district goal",
            args=lambda d: {"goal_id": d.ids["goal_district"]},
            answers="401 404 404 403 403 200",
        ),
    ),
    "GET /api/v1/calibration/sessions": api(API_EVERYONE),
    "POST /api/v1/calibration/sessions": api("401 403 403 201 422 201", Case(body=_session_body)),
    "GET /api/v1/calibration/sessions/<int:session_id>": api(
        "401 200 200 200 404 200",
        Case("open", args=_open),
        Case("revealed", args=_revealed),
    ),
    "POST /api/v1/calibration/sessions/<int:session_id>/reveal": api(
        "401 403 403 200 404 200", Case(args=_open)
    ),
    "PUT /api/v1/calibration/sessions/<int:session_id>/consensus": api(
        "401 403 403 200 404 200",
        Case(
            args=_revealed,
            body=lambda d: {"scores": [{"criterion": "ct-rigorous-task", "level": 2}]},
        ),
    ),
    "GET /api/v1/calibration/sessions/<int:session_id>/report": api(
        "401 200 200 200 404 200",
        Case("revealed", args=_revealed),
        Case("open", args=_open, answers="401 409 409 409 404 409"),
    ),
    "GET /api/v1/calibration/trends": api(API_EVERYONE),
}


def token_answer(key: str, row: Row, role: str, cookie: Answer) -> Answer:
    """What a program with a bearer token (or, for ``anonymous``, with no credentials) gets."""
    method = key.split(" ", 1)[0]
    unsafe = method in ("POST", "PUT", "PATCH", "DELETE")
    if row.kind == "api":
        return 401 if role == "anonymous" else cookie
    if row.kind == "public":
        if role == "anonymous":
            # No session: a posted form fails the CSRF check first.
            return frozenset({cookie, 400}) if unsafe else cookie
        # A token on a page needing no sign-in: served as to anyone, or refused as a token on
        # a page; either is safe.
        return frozenset({*_as_set(cookie), *TOKEN_REFUSED, 200})
    if role == "anonymous":
        return ANONYMOUS_FORM if unsafe else SIGN_IN
    return TOKEN_REFUSED


def _as_set(answer: Answer) -> frozenset:
    return answer if isinstance(answer, frozenset) else frozenset({answer})


def accepts(answer: Answer, status: int, location: str) -> bool:
    to_sign_in = status == 302 and location.startswith("/sign-in")
    for wanted in _as_set(answer):
        if wanted == SIGN_IN and to_sign_in:
            return True
        if wanted == status and not (status == 302 and to_sign_in):
            return True
    return False
