"""Each event docs/audit.md lists is recorded by the entry points people use (pages, the API,
``observe`` commands) with who, what and a useful detail; a refused attempt records nothing."""

# The roster's and sync's fixtures are imported below and named as parameters.
# ruff: noqa: F811

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from observe.accounts import operations as accounts
from observe.accounts.models import ApiToken
from observe.calibration import views as calibration_views
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics.models import RubricVersion
from tests.calibration.test_sessions import SCORES
from tests.conftest import PASSWORD, edit_of, make_version, push, setting  # noqa: F401 (fixtures)
from tests.roster.conftest import simple, write  # noqa: F401 (fixtures)
from tests.rubrics.conftest import VALID

NEW_PASSWORD = "purple tractor lanterns"


@pytest.fixture
def cli(app):
    """Run an ``observe`` command as an operator at a shell would."""
    runner = app.test_cli_runner()

    def invoke(*args: str, **env: str):
        return runner.invoke(args=list(args), env=env or None)

    return invoke


def from_the_command_line(event) -> bool:
    return event.actor_id is None and bool(re.fullmatch(r"command line \(.+\)", event.actor_email))


def what(event) -> tuple[str, str, str]:
    return (event.action, event.object_type, event.object_id)


# ---- rubrics -------------------------------------------------------------------------------


def _preview(client, text: str, name: str) -> str:
    response = client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _confirm(client, preview: str):
    fields = {
        field: html.unescape(re.search(rf'name="{field}" value="([^"]*)"', preview).group(1))
        for field in ("upload", "content_hash")
    }
    return client.post_form("/rubrics/load/confirm", fields, token_from="/rubrics/load")


def test_loading_a_rubric_is_recorded_once_per_new_version(
    cli, client, sign_in, admin, create_user, create_school, events, tmp_path
):
    broken = tmp_path / "broken.yaml"
    broken.write_text(VALID.replace("title: Test Rubric\n", ""), encoding="utf-8")
    assert cli("rubrics", "load", str(broken)).exit_code == 1
    assert events("rubric.loaded") == []

    path = tmp_path / "test.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = cli("rubrics", "load", str(path))
    assert result.exit_code == 0, result.output
    [loaded] = events("rubric.loaded")
    first = db.session.scalar(select(RubricVersion))
    assert what(loaded) == ("rubric.loaded", "rubric_version", str(first.id))
    assert from_the_command_line(loaded)
    assert loaded.detail == {"title": "Test Rubric", "number": 1, "source": first.source_name}
    assert first.source_name.endswith("test.yaml")
    # The same file again stores nothing, so records nothing.
    assert cli("rubrics", "load", str(path)).output.startswith("unchanged: Test Rubric")
    assert len(events("rubric.loaded")) == 1

    # The upload page: a previewed file is not loaded; a confirmed one is, by the admin.
    edited = VALID.replace("Students explain their reasoning.", "Students justify it.")
    sign_in(create_user(Role.SCHOOL_LEADER, schools=[create_school()]))
    refused = client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(edited.encode()), "edited.yaml")},
        content_type="multipart/form-data",
        token_from="/",
    )
    assert refused.status_code == 403
    client.post_form("/sign-out", {}, token_from="/")
    sign_in(admin)
    preview = _preview(client, edited, "edited.yaml")
    assert len(events("rubric.loaded")) == 1  # a preview loads nothing
    assert _confirm(client, preview).status_code == 302
    second = db.session.scalar(select(RubricVersion).where(RubricVersion.number == 2))
    assert [(what(e), e.actor_id, e.detail) for e in events("rubric.loaded")][1:] == [
        (
            ("rubric.loaded", "rubric_version", str(second.id)),
            admin.id,
            {"title": "Test Rubric", "number": 2, "source": "edited.yaml"},
        )
    ]
    # The same preview confirmed twice, and the unchanged file previewed again: nothing stored,
    # nothing recorded.
    assert _confirm(client, preview).status_code == 409
    assert 'name="upload"' not in _preview(client, edited, "again.yaml")
    assert len(events("rubric.loaded")) == 2


# ---- the roster ----------------------------------------------------------------------------


def test_a_roster_import_is_recorded_with_its_counts(cli, events, simple, write):
    bad = write("bad.csv", "classroom_id,school_code,name\nB-1,NOPE,Room\n")
    result = cli("roster", "import", str(simple / "schools.csv"), str(bad))
    assert result.exit_code == 1 and "Nothing was imported" in result.stderr
    assert events("roster.imported") == []

    files = (str(simple / "schools.csv"), str(simple / "classrooms.csv"))
    assert cli("roster", "import", *files).exit_code == 0
    assert cli("roster", "import", *files).exit_code == 0  # an import, though nothing changed
    first, again = events("roster.imported")
    assert from_the_command_line(first) and what(first) == ("roster.imported", "", "")
    assert first.detail == {
        "schools_created": 3,
        "schools_updated": 0,
        "schools_unchanged": 0,
        "teachers_created": 5,
        "teachers_updated": 0,
        "teachers_unchanged": 0,
        "classrooms_created": 6,
        "classrooms_updated": 0,
        "classrooms_unchanged": 0,
        "course_levels_inferred": 0,
    }
    assert again.detail["schools_unchanged"] == 3 and again.detail["classrooms_created"] == 0


# ---- calibration ---------------------------------------------------------------------------


def test_a_reveal_and_reads_and_prints_of_the_report_are_recorded(
    cli, client, sign_in, bearer, new_session, score, team, events, tmp_path, monkeypatch
):
    # The report is built and checked as ever; only WeasyPrint's typesetting (seconds, and
    # tested in tests/calibration) is left out.
    printed: list[int] = []

    def typeset(session, built, paper):
        printed.append(session.id)
        return b"%PDF-1.7 (a test)"

    monkeypatch.setattr(calibration_views, "print_session_report", typeset)
    session = new_session()
    sid = str(session["id"])
    page, pdf = f"/calibration/{sid}", f"/calibration/{sid}/report.pdf"
    api = f"/api/v1/calibration/sessions/{sid}/report"
    observer = team.observers[0]
    # Before the reveal there is no report to read, and too few scores to reveal.
    assert client.get(api, headers=bearer(observer)).status_code == 409
    sign_in(team.facilitator)
    assert "Download the report" not in client.get(page).get_data(as_text=True)  # none yet
    assert client.get(pdf).status_code == 409
    assert (
        client.post_form(f"{page}/reveal", {"confirmed": "yes"}, token_from="/").status_code == 302
    )
    assert cli("report", "calibration", sid, "-o", str(tmp_path / "early.pdf")).exit_code == 1
    assert [e.action for e in events() if e.action.startswith("calibration.")] == []

    for person in team.observers:
        score(person, session, SCORES[person.name])
    refused = client.post(f"/api/v1/calibration/sessions/{sid}/reveal", headers=bearer(observer))
    assert refused.status_code == 403
    assert events("calibration.revealed") == []
    assert (
        client.post_form(f"{page}/reveal", {"confirmed": "yes"}, token_from="/").status_code == 302
    )
    # Revealed once: a second reveal is refused and records nothing.
    assert (
        client.post_form(f"{page}/reveal", {"confirmed": "yes"}, token_from="/").status_code == 302
    )
    [revealed] = events("calibration.revealed")
    assert what(revealed) == ("calibration.revealed", "calibration_session", sid)
    assert revealed.actor_id == team.facilitator.id

    assert "Download the report" in client.get(page).get_data(as_text=True)
    assert client.get(pdf).status_code == 200
    assert client.get(api, headers=bearer(observer)).status_code == 200
    assert client.get(api, headers=bearer(team.outsider)).status_code == 404
    output = tmp_path / "report.pdf"
    result = cli("report", "calibration", sid, "-o", str(output))
    assert result.exit_code == 0, result.output
    assert printed == [session["id"]] * 2 and output.read_bytes() == b"%PDF-1.7 (a test)"
    reads = [e for e in events() if e.action.startswith("calibration.report_")]
    assert [(what(e), e.actor_id) for e in reads] == [
        (("calibration.report_viewed", "calibration_session", sid), team.facilitator.id),
        (("calibration.report_printed", "calibration_session", sid), team.facilitator.id),
        (("calibration.report_viewed", "calibration_session", sid), observer.id),
        (("calibration.report_printed", "calibration_session", sid), None),
    ]
    assert reads[2].detail == {"via": "api token"}
    assert from_the_command_line(reads[3]) and reads[3].detail == {"output": str(output)}


# ---- reconciling ---------------------------------------------------------------------------


def test_reconciling_is_recorded_with_the_version_chosen(
    client, sign_in, bearer, push, make_version, setting, create_user, events
):
    first = make_version(notes="First.")
    mine, theirs = edit_of(first, notes="On the tablet."), edit_of(first, notes="On the laptop.")
    assert [r["status"] for r in push(first, mine, theirs)["results"]][-1] == "conflict"
    walkthrough = first["observation_id"]
    api = f"/api/v1/observations/{walkthrough}/reconcile"
    bad = client.post(api, json={"version_id": "nope"}, headers=bearer(setting.observer))
    assert bad.status_code == 422
    stranger = create_user(Role.OBSERVER, schools=[setting.school])
    other = client.post(api, json={"version_id": mine["version_id"]}, headers=bearer(stranger))
    assert other.status_code == 404
    assert events("walkthrough.reconciled") == []

    principal = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    sign_in(principal)
    path = f"/walkthroughs/{walkthrough}/reconcile"
    assert client.post_form(path, {"version_id": theirs["version_id"]}).status_code == 302
    # Settled: choosing again is refused and records nothing.
    again = client.post(api, json={"version_id": mine["version_id"]}, headers=bearer(principal))
    assert again.status_code == 409
    [reconciled] = events("walkthrough.reconciled")
    head = db.session.get(Observation, walkthrough).head_version_id
    assert what(reconciled) == ("walkthrough.reconciled", "observation", walkthrough)
    assert reconciled.actor_id == principal.id
    assert reconciled.detail == {"chosen_version": theirs["version_id"], "new_version": head}


# ---- accounts ------------------------------------------------------------------------------


def _change_password(client, current: str, new: str, confirm: str | None = None):
    fields = {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }
    return client.post_form("/settings/password", fields, token_from="/settings")


def test_password_changes_are_recorded_and_refused_ones_are_not(
    cli, client, sign_in, create_user, events
):
    user = create_user(email="ann@example.org")
    assert cli("users", "set-password", user.email, OBSERVE_PASSWORD="short").exit_code == 1
    unknown = cli("users", "set-password", "nobody@example.org", OBSERVE_PASSWORD=NEW_PASSWORD)
    assert unknown.exit_code == 1
    assert events("user.password_set") == []
    result = cli("users", "set-password", user.email, OBSERVE_PASSWORD=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    [by_operator] = events("user.password_set")
    assert from_the_command_line(by_operator)
    assert what(by_operator) == ("user.password_set", "user", str(user.id))
    assert by_operator.detail == {"email": "ann@example.org"}

    sign_in(user, NEW_PASSWORD)
    before = len(events())
    _change_password(client, NEW_PASSWORD, PASSWORD, confirm="something else entirely")
    _change_password(client, NEW_PASSWORD, "short")
    assert accounts.authenticate(user.email, NEW_PASSWORD) is not None  # unchanged
    assert len(events()) == before  # a mismatch and a weak password: refused, nothing recorded
    _change_password(client, "not my password", PASSWORD)
    [wrong] = events()[before:]
    assert (wrong.action, wrong.actor_email, wrong.detail) == (
        "sign_in.failed",
        "ann@example.org",
        {"reason": "wrong current password when changing it"},
    )
    _change_password(client, NEW_PASSWORD, PASSWORD)
    by_owner = events("user.password_set")[-1]
    assert what(by_owner) == ("user.password_set", "user", str(user.id))
    assert by_owner.actor_id == user.id and by_owner.detail == {"email": "ann@example.org"}
    assert len(events()) == before + 2
    assert accounts.authenticate(user.email, PASSWORD) is not None


def test_signing_out_everywhere_is_recorded_with_each_token_revoked(
    cli, client, sign_in, create_user, events
):
    user = create_user(email="ben@example.org")
    sign_in(user)
    response = client.post_form(
        "/settings/sign-out-everywhere", {"confirmed": "yes"}, token_from="/settings"
    )
    assert response.status_code == 302
    [by_owner] = events("user.signed_out_everywhere")
    assert what(by_owner) == ("user.signed_out_everywhere", "user", str(user.id))
    assert by_owner.actor_id == user.id and by_owner.detail == {"email": "ben@example.org"}

    tokens = [accounts.create_token(user, name)[0] for name in ("R script", "laptop", "old")]
    accounts.revoke_token(user, tokens[2].id)
    db.session.commit()
    live = sorted(str(token.id) for token in tokens[:2])
    before = len(events("token.revoked"))
    assert cli("users", "sign-out-everywhere", "nobody@example.org").exit_code == 1
    assert len(events("user.signed_out_everywhere")) == 1
    result = cli("users", "sign-out-everywhere", user.email, "--revoke-tokens")
    assert result.exit_code == 0 and "2 API tokens revoked" in result.output
    by_operator = events("user.signed_out_everywhere")[-1]
    assert from_the_command_line(by_operator) and by_operator.object_id == str(user.id)
    revoked = events("token.revoked")[before:]
    assert sorted(e.object_id for e in revoked) == live
    assert all(from_the_command_line(e) and e.object_type == "api_token" for e in revoked)
    assert sorted(e.detail["name"] for e in revoked) == ["R script", "laptop"]
    assert db.session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None))) is None


def test_deactivating_and_reactivating_are_recorded(cli, create_user, events):
    user = create_user(email="cy@example.org")
    assert cli("users", "deactivate", "nobody@example.org").exit_code == 1
    assert cli("users", "activate", "nobody@example.org").exit_code == 1
    assert cli("users", "deactivate", user.email).exit_code == 0
    assert cli("users", "activate", user.email).exit_code == 0
    changed = [e for e in events() if e.action in ("user.deactivated", "user.activated")]
    assert [what(e) for e in changed] == [
        ("user.deactivated", "user", str(user.id)),
        ("user.activated", "user", str(user.id)),
    ]
    assert all(from_the_command_line(e) and e.detail == {"email": user.email} for e in changed)
