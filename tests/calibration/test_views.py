"""The calibration pages: forms that fail write nothing and say why; blind until the reveal."""

from __future__ import annotations

from sqlalchemy import func, select

from observe.calibration.models import CalibrationSession, ConsensusScore
from observe.extensions import db
from tests.calibration.test_sessions import SCORES, _scored_and_revealed


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_session_made_on_the_page(client, sign_in, team):
    sign_in(team.facilitator)
    response = client.post_form(
        "/calibration/new",
        {
            "title": "Grade 3 number talk",
            "team": "Riverside instructional team",
            "held_on": "2026-10-05",
            "rubric_version_id": str(team.version.id),
            "school_id": str(team.school.id),
            "classroom_id": str(team.classroom.id),
            "participant_ids": [str(o.id) for o in team.observers],
            "anchor_id": "",
        },
    )
    assert response.status_code == 302
    session = db.session.scalars(select(CalibrationSession)).one()
    assert [p.name for p in session.participants] == sorted(o.name for o in team.observers)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Who has submitted" in page and "Reveal the scores" in page


def test_a_bad_session_form_names_the_problems_and_writes_nothing(client, sign_in, team):
    sign_in(team.facilitator)
    response = client.post_form(
        "/calibration/new",
        {
            "title": "   ",
            "held_on": "someday",
            "rubric_version_id": str(team.version.id),
            "school_id": str(team.school.id),
            "participant_ids": [str(team.observers[0].id)],
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The session was not created." in page
    assert "Not a valid date." in page
    assert "from 2 to 60 participants" in page
    assert _count(CalibrationSession) == 0


def test_observers_cannot_open_the_new_session_form(client, sign_in, team):
    sign_in(team.observers[0])
    assert client.get("/calibration/new").status_code == 403


def test_the_page_hides_scores_until_the_reveal_then_shows_the_report(
    client, sign_in, bearer, new_session, score, team
):
    session = new_session()
    score(team.observers[0], session, SCORES["Ann Ames"], evidence="SECRET-EVIDENCE")
    sign_in(team.facilitator)
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "SECRET-EVIDENCE" not in page and "Discussion agenda" not in page
    assert "1 of 4 participants have submitted" in page


def test_a_bad_consensus_form_saves_nothing(client, sign_in, bearer, new_session, score, team):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    sign_in(team.facilitator)
    path = f"/calibration/{session['id']}"
    page = client.get(path).get_data(as_text=True)
    assert "Ann Ames saw (ct-rigorous-task)" in page  # revealed: the agenda shows the evidence
    response = client.post_form(
        f"{path}/consensus",
        {
            "criterion": ["ct-rigorous-task", "ct-explain-reasoning"],
            "level-ct-rigorous-task": "2",
            "level-ct-explain-reasoning": "9",
        },
        token_from=path,
    )
    assert response.status_code == 302
    assert _count(ConsensusScore) == 0
    page = client.get(path).get_data(as_text=True)
    assert "No consensus score was saved" in page
    assert "9 is not a level of" in page


def test_the_reveal_is_asked_first_and_names_who_has_not_submitted(
    client, sign_in, team, new_session, score
):
    session = new_session()
    ann, ben = team.observers[0], team.observers[1]
    score(ann, session, SCORES["Ann Ames"])
    score(ben, session, SCORES["Ben Boyd"])
    sign_in(team.facilitator)
    page = f"/calibration/{session['id']}"
    # The session page's button only opens the confirmation; posting without it asks too.
    assert f'action="{page}/reveal"' in client.get(page).get_data(as_text=True)
    unconfirmed = client.post_form(f"{page}/reveal", {}, token_from=page)
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(f"{page}/reveal")
    asked = client.get(f"{page}/reveal").get_data(as_text=True)
    assert "2 of 4 participants have submitted" in asked
    waiting = [o.name for o in team.observers[2:]]
    assert all(f"<li>{name}</li>" in asked for name in waiting)
    assert ann.name not in asked and 'name="confirmed" value="yes"' in asked
    db.session.rollback()
    assert db.session.get(CalibrationSession, session["id"]).is_revealed is False
    done = client.post_form(f"{page}/reveal", {"confirmed": "yes"}, token_from=page)
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.get(CalibrationSession, session["id"]).is_revealed is True
    # Revealed: the confirmation has nothing to ask.
    assert client.get(f"{page}/reveal").status_code == 302
