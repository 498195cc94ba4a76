"""Printed reports: the calibration report and a walkthrough's feedback, as PDF, from the
pages and the command line, with the same permissions as the pages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from observe.core.permissions import Role
from tests.calibration.test_sessions import SCORES, _scored_and_revealed


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def revealed(client, bearer, new_session, score, team):
    return _scored_and_revealed(client, bearer, new_session, score, team)


def test_the_calibration_report_prints(client, sign_in, revealed, team, tmp_path):
    sign_in(team.facilitator)
    response = client.get(f"/calibration/{revealed['id']}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response.data, tmp_path)
    assert "Test District · Riverside instructional team · 5 October 2026" in text  # running header
    assert "Calibration report: Grade 3 number talk" in text
    assert "Discussion agenda" in text and "Ann Ames saw (ct-rigorous-task)" in text
    assert "Agreement per look-for, least first" in text  # the chart, drawn as vector text
    assert "Page 1 of" in text
    assert "Consensus" in text  # the form is not printed, the column is
    assert "Save the consensus" not in text
    assert "(letter)" in pdf_info(response.data, tmp_path)

    a4 = client.get(f"/calibration/{revealed['id']}/report.pdf?paper=a4")
    assert "(A4)" in pdf_info(a4.data, tmp_path)
    legal = client.get(f"/calibration/{revealed['id']}/report.pdf?paper=legal")
    assert legal.status_code == 422
    assert "paper must be letter or a4" in legal.get_data(as_text=True)


def test_no_calibration_pdf_before_the_reveal_or_outside_the_team(
    client, sign_in, new_session, score, team
):
    session = new_session()
    score(team.observers[0], session, SCORES["Ann Ames"])
    sign_in(team.facilitator)
    assert client.get(f"/calibration/{session['id']}/report.pdf").status_code == 409
    client.post_form("/sign-out", {}, token_from="/")
    sign_in(team.outsider)
    assert client.get(f"/calibration/{session['id']}/report.pdf").status_code == 404


@pytest.fixture
def visit(push_as, team):
    """A walkthrough of Grade 3 by Ann, with a level, a not-observed look-for and evidence."""
    return push_as(
        team.observers[0],
        {
            "ratings": [
                {"criterion": "ct-explain-reasoning", "level": 3,
                 "evidence": 'Pairs argued <img src="http://example.com/x.png">'},
                {"criterion": "ct-rigorous-task", "level": None, "not_observed": True},
            ],
            "notes": "Lively discussion; ask about the exit ticket.",
            "duration_seconds": 720,
        },
    )  # fmt: skip


def test_the_feedback_page_and_its_pdf(client, sign_in, visit, team, tmp_path):
    sign_in(team.observers[0])
    page = client.get(f"/walkthroughs/{visit}/feedback").get_data(as_text=True)
    assert "Walkthrough feedback" in page and "Grade 3, Riverside Elementary" in page
    assert "Proficient" in page and '<span class="seen-of">3/4</span>' in page
    # The level's stock descriptor, once: in the scale, not under the look-for.
    assert page.count("Seen for most students for most of the visit") == 1
    response = client.get(f"/walkthroughs/{visit}/feedback.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "Walkthrough feedback" in text and "12 minutes" in text
    assert "Not observed in these minutes" in text
    assert "Lively discussion; ask about the exit ticket." in text
    # Evidence is text: markup in it is printed, never fetched or drawn.
    assert '<img src="http://example.com/x.png">' in " ".join(text.split())
    assert "not an evaluation of the teacher" in text


def test_who_may_see_feedback(client, sign_in, visit, team, create_user, new_session, score):
    colleague = create_user(Role.OBSERVER, schools=[team.school])
    principal = create_user(Role.SCHOOL_LEADER, schools=[team.school])
    sign_in(colleague)
    assert client.get(f"/walkthroughs/{visit}/feedback").status_code == 404
    client.post_form("/sign-out", {}, token_from="/")
    sign_in(principal)
    assert client.get(f"/walkthroughs/{visit}/feedback.pdf").status_code == 200
    # A calibration score is not a visit: no feedback page, even for its author.
    session = new_session()
    practice = score(team.observers[0], session, SCORES["Ann Ames"])
    client.post_form("/sign-out", {}, token_from="/")
    sign_in(team.observers[0])
    assert client.get(f"/walkthroughs/{practice['observation_id']}/feedback").status_code == 404


def test_the_command_line_prints_both(app, revealed, visit, team, tmp_path):
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["report", "calibration"])
    assert listing.exit_code == 0
    assert f"{revealed['id']}\t2026-10-05\trevealed\tGrade 3 number talk" in listing.output

    out = tmp_path / "cal.pdf"
    result = runner.invoke(args=["report", "calibration", str(revealed["id"]), "-o", str(out),
                                 "--paper", "a4"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Calibration report: Grade 3 number talk" in pdf_text(out.read_bytes(), tmp_path)

    feedback = tmp_path / "feedback.pdf"
    result = runner.invoke(args=["report", "observation", visit, "-o", str(feedback)])
    assert result.exit_code == 0, result.output
    assert "Walkthrough feedback" in pdf_text(feedback.read_bytes(), tmp_path)

    missing = runner.invoke(args=["report", "observation", "nope", "-o", str(feedback)])
    assert missing.exit_code == 1 and "no walkthrough nope" in missing.output


def test_the_command_line_keeps_unrevealed_scores_hidden(app, new_session, score, team, tmp_path):
    session = new_session()
    score(team.observers[0], session, SCORES["Ann Ames"])
    out = tmp_path / "cal.pdf"
    result = app.test_cli_runner().invoke(
        args=["report", "calibration", str(session["id"]), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "has not been revealed" in result.output
    assert not out.exists()
