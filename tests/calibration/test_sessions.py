"""Calibration sessions through the API: creating, blind scoring, the reveal, consensus."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from observe.calibration.models import CalibrationSession, ConsensusScore
from observe.calibration.report import Thresholds, lean
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion, RejectedVersion
from observe.sync.checks import NOTHING_RATED
from tests.calibration.conftest import CRITERIA


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


# ---- creating ---------------------------------------------------------------------------------


def test_a_leader_creates_a_session_for_a_team_from_several_schools(new_session, team):
    session = new_session(anchor_id=team.observers[1].id)
    assert session["state"] == "scoring"
    assert session["facilitator"]["name"] == "Fay Facilitator"
    assert session["anchor"] == {"id": team.observers[1].id, "name": "Ben Boyd"}
    assert [p["name"] for p in session["participants"]] == [
        "Ann Ames",
        "Ben Boyd",
        "Cy Cole",
        "Di Dunn",
    ]
    assert all(not p["submitted"] for p in session["progress"])
    assert session["consensus"] is None


def test_observers_cannot_create_sessions(client, bearer, team):
    response = client.post(
        "/api/v1/calibration/sessions", json={}, headers=bearer(team.observers[0])
    )
    assert response.status_code == 403
    assert "school leaders and district admins" in response.get_json()["error"]["message"]


def test_a_bad_session_names_every_problem_and_creates_nothing(new_session, team, create_classroom):
    elsewhere = create_classroom("SHS-1", school=team.other_school, name="AP Biology")
    error = new_session(
        expect=422,
        classroom_id=elsewhere.id,
        participant_ids=[team.observers[0].id, 99_999],
        anchor_id=team.observers[2].id,
    )["error"]
    assert error["details"] == {
        "classroom_id": "AP Biology is not in Riverside Elementary",
        "participant_ids": "unknown users: 99999",
        "anchor_id": "the anchor rater must be one of the participants",
    }
    assert _count(CalibrationSession) == 0

    error = new_session(expect=422, title="", participant_ids=[team.observers[0].id])["error"]
    assert set(error["details"]) == {"title", "participant_ids"}
    assert "from 2 to 60 participants" in error["details"]["participant_ids"]
    assert _count(CalibrationSession) == 0


def test_people_outside_the_team_do_not_learn_the_session_exists(client, bearer, new_session, team):
    session = new_session()
    response = client.get(
        f"/api/v1/calibration/sessions/{session['id']}", headers=bearer(team.outsider)
    )
    assert response.status_code == 404
    listed = client.get("/api/v1/calibration/sessions", headers=bearer(team.outsider))
    assert listed.get_json()["sessions"] == []
    mine = client.get("/api/v1/calibration/sessions", headers=bearer(team.observers[2]))
    assert [s["id"] for s in mine.get_json()["sessions"]] == [session["id"]]


# ---- reaching the tablets ----------------------------------------------------------------------


def test_participants_get_the_session_by_bootstrap_and_by_pull(client, bearer, new_session, team):
    cy = bearer(team.observers[2])  # works in another school than the lesson's
    before = client.get("/api/v1/bootstrap", headers=cy).get_json()
    assert before["calibration_sessions"] == []

    session = new_session()
    pulled = client.get(f"/api/v1/sync/pull?cursor={before['cursor']}", headers=cy).get_json()
    [change] = [c for c in pulled["changes"] if c["kind"] == "calibration_session"]
    assert change["calibration_session"]["id"] == session["id"]
    assert change["rubric_version"]["id"] == team.version.id

    after = client.get("/api/v1/bootstrap", headers=cy).get_json()
    assert [s["id"] for s in after["calibration_sessions"]] == [session["id"]]
    assert team.version.id in [v["id"] for v in after["rubric_versions"]]

    outsider = client.get(
        f"/api/v1/sync/pull?cursor={before['cursor']}", headers=bearer(team.outsider)
    ).get_json()
    assert not [c for c in outsider["changes"] if c["kind"] == "calibration_session"]


# ---- scoring ----------------------------------------------------------------------------------


def test_a_score_that_rates_nothing_is_refused_like_any_walkthrough(new_session, score, team):
    # A submitted score counts towards the two the reveal needs: one that rates nothing would
    # open the reveal with nothing to compare. A draft may rate nothing yet.
    session = new_session()
    empty = score(team.observers[0], session, {})
    assert (empty["status"], empty["code"]) == ("rejected", "incomplete")
    assert empty["errors"] == [{"field": "ratings", "message": NOTHING_RATED}]
    assert score(team.observers[0], session, {}, state="draft")["status"] == "applied"


def test_a_participant_from_another_school_scores_the_lesson(new_session, score, team):
    session = new_session()
    result = score(team.observers[2], session, {"ct-explain-reasoning": 3})
    assert result["status"] == "applied"
    observation = db.session.get(Observation, result["observation_id"])
    assert observation.calibration_session_id == session["id"]


def test_scores_outside_the_session_rules_are_rejected_with_reasons(
    new_session, score, team, create_classroom
):
    session = new_session()
    other_room = create_classroom("RVE-04", school=team.school, name="Grade 4")
    outsider = score(team.outsider, session, {"ct-explain-reasoning": 3})
    assert outsider["status"] == "rejected"
    assert outsider["errors"] == [
        {
            "field": "calibration_session_id",
            "message": f"you are not a participant of calibration session {session['id']}",
        }
    ]
    wrong_room = score(
        team.observers[0], session, {"ct-explain-reasoning": 3}, classroom_id=other_room.id
    )
    assert wrong_room["errors"] == [
        {
            "field": "classroom_id",
            "message": f"the session's lesson is in classroom {team.classroom.id}",
        }
    ]
    first = score(team.observers[0], session, {"ct-explain-reasoning": 3})
    second = score(team.observers[0], session, {"ct-explain-reasoning": 2})
    assert first["status"] == "applied"
    assert second["status"] == "rejected"
    assert second["errors"][0]["message"] == (
        f"you already scored this session in walkthrough {first['observation_id']}; amend that one"
    )
    assert _count(Observation) == 1
    assert _count(RejectedVersion) == 3


# ---- blind until the reveal ---------------------------------------------------------------------


def test_nobody_sees_anyone_elses_scores_before_the_reveal(
    client, bearer, new_session, score, team, admin
):
    session = new_session()
    ann, ben = team.observers[0], team.observers[1]
    cursor = client.get("/api/v1/bootstrap", headers=bearer(ben)).get_json()["cursor"]
    score(ann, session, {"ct-explain-reasoning": 4}, evidence="SECRET-EVIDENCE")

    for viewer in (ben, team.facilitator, admin):
        headers = bearer(viewer)
        report = client.get(f"/api/v1/calibration/sessions/{session['id']}/report", headers=headers)
        assert report.status_code == 409
        assert report.get_json()["error"]["code"] == "conflict"
        assert "hidden until the facilitator reveals" in report.get_json()["error"]["message"]
        detail = client.get(f"/api/v1/calibration/sessions/{session['id']}", headers=headers)
        assert "SECRET-EVIDENCE" not in detail.get_data(as_text=True)
        progress = {p["user"]["id"]: p["submitted"] for p in detail.get_json()["progress"]}
        assert progress[ann.id] is True and progress[ben.id] is False

    for feed in (
        client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=bearer(ben)),
        client.get("/api/v1/bootstrap", headers=bearer(ben)),
        client.get("/api/v1/calibration/trends", headers=bearer(team.facilitator)),
    ):
        assert "SECRET-EVIDENCE" not in feed.get_data(as_text=True)


def test_the_reveal_needs_the_facilitator_and_two_submitted_scores(
    client, bearer, new_session, score, team
):
    session = new_session()
    url = f"/api/v1/calibration/sessions/{session['id']}/reveal"
    ann, ben = team.observers[0], team.observers[1]
    score(ann, session, {"ct-explain-reasoning": 3})
    score(ben, session, {"ct-explain-reasoning": 2}, state="draft")  # a draft does not count

    assert client.post(url, headers=bearer(ann)).status_code == 403
    too_few = client.post(url, headers=bearer(team.facilitator))
    assert too_few.status_code == 409
    assert "1 participant has submitted" in too_few.get_json()["error"]["message"]
    assert db.session.get(CalibrationSession, session["id"]).state.value == "scoring"

    cy = score(team.observers[2], session, {"ct-explain-reasoning": 3})
    revealed = client.post(url, headers=bearer(team.facilitator))
    assert revealed.status_code == 200, revealed.get_json()
    body = revealed.get_json()
    assert body["state"] == "revealed"
    assert [r["user_id"] for r in body["reveal_record"]] == sorted([ann.id, team.observers[2].id])
    assert {p["user"]["name"]: p["submitted"] for p in body["progress"]} == {
        "Ann Ames": True,
        "Ben Boyd": False,
        "Cy Cole": True,
        "Di Dunn": False,
    }
    again = client.post(url, headers=bearer(team.facilitator))
    assert again.status_code == 409

    # Scoring closed: an amendment, or a late first score, is refused with its own code.
    late = score(ben, session, {"ct-explain-reasoning": 1})
    amended = score(
        team.observers[2],
        session,
        {"ct-explain-reasoning": 4},
        observation_id=cy["observation_id"],
        base_version_id=cy["version_id"],
    )
    for result in (late, amended):
        assert result["status"] == "rejected"
        assert result["code"] == "session_revealed"


# ---- the report -------------------------------------------------------------------------------


SCORES = {  # Ann, Ben, Cy, Di — Di scores high, Ann low; nobody agrees on rigour
    "Ann Ames": {"ct-explain-reasoning": 3, "ct-rigorous-task": 1, "ct-student-questions": 2},
    "Ben Boyd": {"ct-explain-reasoning": 3, "ct-rigorous-task": 2, "ct-student-questions": 2},
    "Cy Cole": {"ct-explain-reasoning": 3, "ct-rigorous-task": 4, "ct-student-questions": None},
    "Di Dunn": {"ct-explain-reasoning": 4, "ct-rigorous-task": 4, "ct-student-questions": 3},
}


def _scored_and_revealed(client, bearer, new_session, score, team, **fields):
    session = new_session(**fields)
    for observer in team.observers:
        score(observer, session, SCORES[observer.name], evidence=f"{observer.name} saw")
    response = client.post(
        f"/api/v1/calibration/sessions/{session['id']}/reveal", headers=bearer(team.facilitator)
    )
    assert response.status_code == 200
    return session


def test_the_report_shows_where_and_how_much_the_team_disagrees(
    client, bearer, new_session, score, team
):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    report = client.get(
        f"/api/v1/calibration/sessions/{session['id']}/report", headers=bearer(team.observers[0])
    ).get_json()
    assert [r["name"] for r in report["raters"]] == ["Ann Ames", "Ben Boyd", "Cy Cole", "Di Dunn"]
    rows = {row["key"]: row for row in report["criteria"]}
    assert list(rows)[:3] == CRITERIA

    reasoning = rows["ct-explain-reasoning"]
    assert (reasoning["percent_exact"], reasoning["percent_within_one"]) == (0.5, 1.0)
    assert reasoning["distribution"] == {"1": 0, "2": 0, "3": 3, "4": 1}
    assert not reasoning["divergent"] and reasoning["flag"] == "tentative"

    rigour = rows["ct-rigorous-task"]  # 1, 2, 4, 4: one pair exact, two within one, of six
    assert (rigour["percent_exact"], rigour["percent_within_one"]) == (0.1667, 0.3333)
    assert rigour["divergent"] and rigour["flag"] == "discuss" and rigour["spread"] == 3
    assert [s["divergent"] for s in rigour["scores"]] == [True, False, False, False]
    assert rigour["scores"][0]["evidence"] == "Ann Ames saw (ct-rigorous-task)"

    questions = rows["ct-student-questions"]  # Cy saw nothing to rate
    assert questions["not_observed"] == 1 and questions["rated"] == 3
    assert questions["divergent"]
    assert [s["divergent"] for s in questions["scores"]] == [False, False, True, False]

    assert report["agenda"][0] == "ct-rigorous-task"
    assert "ct-student-questions" in report["agenda"]
    assert "ct-explain-reasoning" not in report["agenda"]

    observers = {o["name"]: o for o in report["observers"]}
    assert report["reference"] == "the rest of the team"
    assert observers["Di Dunn"]["leaning"] == "lenient"
    assert observers["Di Dunn"]["mean_difference"] == 1.25  # +10 levels over 8 comparisons
    assert observers["Ann Ames"]["mean_difference"] == -1.125
    # Ann's lower scores come from few look-fors and the interval over them includes zero:
    # no clear lean, though the mean alone is beyond -0.25.
    assert observers["Ann Ames"]["leaning"] == "no clear lean"
    low, high = observers["Ann Ames"]["mean_difference_interval"]
    assert low < 0 < high and observers["Ann Ames"]["lookfors"] >= 2
    assert observers["Di Dunn"]["mean_difference_interval"][0] > 0

    overall = report["overall"]
    assert overall["units"] == len(report["criteria"])
    assert overall["krippendorff_alpha_ordinal"] is not None
    low, high = overall["alpha_interval"]
    assert low <= overall["krippendorff_alpha_ordinal"] <= high
    assert "kappa" in report["explanations"]["paradox"]
    assert report["team_sessions"] == 1


def test_the_anchor_rater_is_the_reference(client, bearer, new_session, score, team):
    ben = team.observers[1]
    session = _scored_and_revealed(client, bearer, new_session, score, team, anchor_id=ben.id)
    report = client.get(
        f"/api/v1/calibration/sessions/{session['id']}/report", headers=bearer(team.facilitator)
    ).get_json()
    assert report["raters"][0] == {
        "id": ben.id,
        "name": "Ben Boyd",
        "anchor": True,
        "observation_id": report["raters"][0]["observation_id"],
    }
    assert report["reference"] == "the anchor rater, Ben Boyd"
    observers = {o["name"]: o for o in report["observers"]}
    assert observers["Ben Boyd"]["is_reference"] and observers["Ben Boyd"]["leaning"] is None
    # Di against Ben: 4-3, 4-2, 3-2 → +4 over 3; exact none, within one 2 of 3.
    assert observers["Di Dunn"]["compared"] == 3
    assert observers["Di Dunn"]["mean_difference"] == 1.3333
    assert observers["Di Dunn"]["within_one"] == 0.6667


def test_consensus_is_all_or_nothing_and_becomes_the_reference(
    client, bearer, new_session, score, team
):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    url = f"/api/v1/calibration/sessions/{session['id']}/consensus"
    good = {"criterion": "ct-rigorous-task", "level": 2, "rationale": "Task was procedural."}
    bad = {"criterion": "ct-explain-reasoning", "level": 7}
    response = client.put(url, json={"scores": [good, bad]}, headers=bearer(team.facilitator))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {
        "scores[1].level": "7 is not a level of 'ct-explain-reasoning' (levels: 1, 2, 3, 4)"
    }
    assert _count(ConsensusScore) == 0
    assert (
        client.put(url, json={"scores": [good]}, headers=bearer(team.observers[0])).status_code
        == 403
    )

    saved = client.put(url, json={"scores": [good]}, headers=bearer(team.facilitator))
    assert saved.status_code == 200
    assert saved.get_json()["consensus"] == [
        {
            "criterion": "ct-rigorous-task",
            "level": 2,
            "not_observed": False,
            "rationale": "Task was procedural.",
        }
    ]
    report = client.get(
        f"/api/v1/calibration/sessions/{session['id']}/report", headers=bearer(team.facilitator)
    ).get_json()
    assert report["reference"] == "the team's consensus scores"
    observers = {o["name"]: o for o in report["observers"]}
    assert (
        observers["Ann Ames"]["compared"] == 1 and observers["Ann Ames"]["mean_difference"] == -1.0
    )
    rigour = next(r for r in report["criteria"] if r["key"] == "ct-rigorous-task")
    assert rigour["consensus"]["rationale"] == "Task was procedural."


def test_consensus_waits_for_the_reveal(client, bearer, new_session, team):
    session = new_session()
    response = client.put(
        f"/api/v1/calibration/sessions/{session['id']}/consensus",
        json={"scores": [{"criterion": "ct-rigorous-task", "level": 2}]},
        headers=bearer(team.facilitator),
    )
    assert response.status_code == 409


def test_per_criterion_alpha_comes_from_the_teams_sessions(
    client, bearer, new_session, score, team
):
    first = _scored_and_revealed(client, bearer, new_session, score, team, held_on="2026-09-01")
    shifted = {
        name: {k: (v % 4) + 1 if v else v for k, v in levels.items()}
        for name, levels in SCORES.items()
    }
    second = new_session(held_on="2026-10-01")
    for observer in team.observers:
        score(observer, second, shifted[observer.name])
    client.post(
        f"/api/v1/calibration/sessions/{second['id']}/reveal", headers=bearer(team.facilitator)
    )

    headers = bearer(team.facilitator)
    early = client.get(
        f"/api/v1/calibration/sessions/{first['id']}/report", headers=headers
    ).get_json()
    late = client.get(
        f"/api/v1/calibration/sessions/{second['id']}/report", headers=headers
    ).get_json()
    assert early["team_sessions"] == 1 and late["team_sessions"] == 2
    assert all(row["team_alpha"] is None for row in early["criteria"])
    reasoning = next(r for r in late["criteria"] if r["key"] == "ct-explain-reasoning")
    assert reasoning["team_alpha"] is not None
    assert reasoning["team_ac1"] is not None

    trends = client.get("/api/v1/calibration/trends", headers=headers).get_json()
    [trend] = trends["teams"]
    assert trend["team"] == "Riverside instructional team"
    assert [s["session_id"] for s in trend["sessions"]] == [first["id"], second["id"]]
    [drift] = trends["drift"]
    assert len(drift["observers"]) == 4
    assert all(len(o["sessions"]) == 2 for o in drift["observers"])
    hardest = trends["hardest_criteria"][0]
    assert hardest["criterion"] == "ct-rigorous-task" and hardest["sessions"] == 2
    json.dumps(trends)  # plain JSON throughout


def test_flags_follow_the_thresholds():
    t = Thresholds(alpha_reliable=0.8, alpha_tentative=0.667, within_one=0.8)
    assert t.flag("reliable", 0.9) == "reliable"
    assert t.flag("tentative", 0.9) == "tentative"
    assert t.flag("not reliable", 0.95) == "discuss"
    assert t.flag("reliable", 0.70) == "discuss"  # within one misses its target
    assert t.flag("uncertain", 0.9) == "tentative"  # reliability not established
    assert t.flag(None, 0.9) == "tentative"
    assert t.flag(None, 0.5) == "discuss"
    assert t.flag(None, None) is None  # nobody rated it


def test_alpha_labels_follow_the_interval():
    t = Thresholds(alpha_reliable=0.8, alpha_tentative=0.667, within_one=0.8)
    assert t.alpha_label(None, None) is None
    # The review's case: a team alpha of -0.12 is never "tentative", interval or not.
    assert t.alpha_label(-0.12, None) == "not reliable"
    assert t.alpha_label(-0.12, [-0.4, 0.7]) == "not reliable"
    assert t.flag(t.alpha_label(-0.12, None), 0.9) == "discuss"
    assert t.alpha_label(0.9, [0.82, 0.95]) == "reliable"
    assert t.alpha_label(0.85, [0.7, 0.93]) == "tentative"  # labelled by what all of it says
    assert t.alpha_label(0.75, [0.6, 0.85]) == "uncertain"  # spans the tentative threshold
    assert t.alpha_label(0.5, [0.3, 0.6]) == "not reliable"
    assert t.alpha_label(0.9, None) == "uncertain"  # too few units for an interval


def test_a_lean_on_nine_look_fors_that_chance_explains_is_no_lean():
    # The review's case: lenient on 9 look-fors at p = 0.3. One difference per look-for
    # (against an anchor), mean +0.33 steps.
    differences = [2, 1, 1, 0, 0, 0, 0, -1, 0]
    scipy_stats = pytest.importorskip("scipy.stats")
    expected = scipy_stats.ttest_1samp(differences, 0.0)
    assert 0.25 < expected.pvalue < 0.35
    found = lean([(float(d), 1) for d in differences])
    assert found["label"] == "no clear lean" and found["lookfors"] == 9
    assert found["p"] == pytest.approx(expected.pvalue, rel=1e-9)
    low, high = found["interval"]
    ci = expected.confidence_interval(0.95)
    assert (low, high) == (pytest.approx(ci.low, rel=1e-9), pytest.approx(ci.high, rel=1e-9))
    assert lean([(2.0, 1)] * 5 + [(1.0, 1)] * 4)["label"] == "lenient"
    assert lean([(-1.0, 1)] * 8 + [(-2.0, 1)])["label"] == "severe"
    assert lean([(0.0, 1)] * 19 + [(1.0, 1)])["label"] == "in line"
    assert lean([(0.0, 1)] * 8 + [(1.0, 1)])["label"] == "no clear lean"  # could be +0.37
    assert lean([(3.0, 1)])["label"] == "no clear lean"  # one look-for: no interval
    assert lean([])["label"] is None


def test_the_leniency_interval_covers_the_true_lean():
    """Simulated observers whose differences from the reference are -1, 0, +1 or +2 steps with
    a known mean; several per look-for (against the rest of the team), correlated within a
    look-for. The interval covers the true mean close to 95% of the time."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(11)
    steps, weights = np.array([-1, 0, 1, 2]), np.array([0.2, 0.4, 0.3, 0.1])
    truth = float(steps @ weights)
    covered = trials = 0
    for _ in range(1500):
        per_lookfor = []
        for _ in range(12):
            shift = rng.choice([-1, 0, 0, 1])  # a look-for the whole team reads alike
            these = rng.choice(steps, size=3, p=weights) + shift
            per_lookfor.append((float(these.sum()), 3))
        found = lean(per_lookfor)
        trials += 1
        covered += found["interval"][0] <= truth <= found["interval"][1]
    assert 0.92 <= covered / trials <= 0.975


# ---- what the review of the first version found -----------------------------------------------


def _reveal(client, bearer, team, session):
    response = client.post(
        f"/api/v1/calibration/sessions/{session['id']}/reveal", headers=bearer(team.facilitator)
    )
    assert response.status_code == 200, response.get_json()


def _report(client, bearer, user, session):
    response = client.get(
        f"/api/v1/calibration/sessions/{session['id']}/report", headers=bearer(user)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_level_where_most_saw_nothing_is_marked(client, bearer, new_session, score, team):
    session = new_session()
    for observer, level in zip(team.observers, [None, None, None, 3], strict=True):
        score(observer, session, {"ct-student-questions": level})
    _reveal(client, bearer, team, session)
    row = _report(client, bearer, team.facilitator, session)["criteria"][2]
    assert row["key"] == "ct-student-questions"
    assert [s["divergent"] for s in row["scores"]] == [False, False, False, True]


def test_scores_cannot_be_deleted_after_the_reveal(client, bearer, new_session, score, team):
    session = new_session()
    results = [score(o, session, SCORES[o.name]) for o in team.observers]
    ann = bearer(team.observers[0])
    # Before the reveal a participant may withdraw a score (and score again).
    assert client.delete(f"/api/v1/observations/{results[0]['observation_id']}",
                         headers=ann).status_code == 200  # fmt: skip
    again = score(team.observers[0], session, SCORES["Ann Ames"])
    assert again["status"] == "applied"
    _reveal(client, bearer, team, session)

    refused = client.delete(f"/api/v1/observations/{again['observation_id']}", headers=ann)
    assert refused.status_code == 409
    assert "the team's report rests on it" in refused.get_json()["error"]["message"]
    assert len(_report(client, bearer, team.facilitator, session)["raters"]) == 4


def test_a_team_is_what_the_reader_may_see_and_what_came_before(
    client, bearer, new_session, score, team, create_user
):
    first = new_session(held_on="2026-10-01")
    for observer in team.observers:
        score(observer, first, SCORES[observer.name])
    _reveal(client, bearer, team, first)

    # A leader elsewhere names a backdated session after the team: nothing changes for it.
    stranger = create_user("school-leader", name="Stan Stranger", schools=[team.other_school])
    outsiders = [create_user("observer", schools=[team.other_school]) for _ in range(2)]
    body = {
        "title": "Copycat",
        "team": "Riverside instructional team",
        "rubric_version_id": team.version.id,
        "school_id": team.other_school.id,
        "held_on": "2026-09-01",
        "participant_ids": [o.id for o in outsiders],
    }
    copycat = client.post("/api/v1/calibration/sessions", json=body, headers=bearer(stranger))
    assert copycat.status_code == 201
    copycat = copycat.get_json()
    for outsider in outsiders:
        score(outsider, copycat, {"ct-explain-reasoning": 1})
    client.post(f"/api/v1/calibration/sessions/{copycat['id']}/reveal", headers=bearer(stranger))

    # A later session of the same day is not "before" this one either.
    later = new_session(held_on="2026-10-01", title="Afternoon")
    for observer in team.observers:
        score(observer, later, SCORES[observer.name])
    _reveal(client, bearer, team, later)

    assert _report(client, bearer, team.facilitator, first)["team_sessions"] == 1
    assert _report(client, bearer, team.facilitator, later)["team_sessions"] == 2
    assert _report(client, bearer, stranger, copycat)["team_sessions"] == 1


def test_team_alpha_enters_the_flag_from_five_rated_lessons(
    client, bearer, new_session, score, team
):
    sessions = []
    for day in range(5):
        session = new_session(held_on=f"2026-10-0{day + 1}")
        for i, observer in enumerate(team.observers):
            # Everyone agrees on the level, which changes from lesson to lesson: reliable.
            # ct-rigorous-task is rated in only two lessons.
            levels = {"ct-explain-reasoning": 1 + day % 4}
            if day < 2:
                levels["ct-rigorous-task"] = 2 + (i % 2)
            score(observer, session, levels)
        _reveal(client, bearer, team, session)
        sessions.append(session)
    rows = {
        r["key"]: r for r in _report(client, bearer, team.facilitator, sessions[-1])["criteria"]
    }
    reasoning, rigour = rows["ct-explain-reasoning"], rows["ct-rigorous-task"]
    assert reasoning["team_lessons"] == 5 and reasoning["team_alpha"] == 1.0
    assert reasoning["team_alpha_interval"] is not None
    assert reasoning["flag"] == "reliable"
    assert rigour["team_lessons"] == 2 and rigour["team_alpha_interval"] is None


def test_a_consensus_of_nothing_observed_leaves_the_team_as_reference(
    client, bearer, new_session, score, team
):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    client.put(
        f"/api/v1/calibration/sessions/{session['id']}/consensus",
        json={"scores": [{"criterion": "ct-student-questions", "not_observed": True}]},
        headers=bearer(team.facilitator),
    )
    report = _report(client, bearer, team.facilitator, session)
    assert report["reference"] == "the rest of the team"
    assert all(o["compared"] > 0 for o in report["observers"])


def test_leaders_of_the_lessons_school_outside_the_team_see_nothing(
    client, bearer, new_session, team, create_user
):
    session = new_session()
    principal = create_user("school-leader", name="Pat Principal", schools=[team.school])
    response = client.get(
        f"/api/v1/calibration/sessions/{session['id']}", headers=bearer(principal)
    )
    assert response.status_code == 404


def test_trends_count_the_sessions_below_the_within_one_target(
    client, bearer, new_session, score, team
):
    _scored_and_revealed(client, bearer, new_session, score, team)
    trends = client.get("/api/v1/calibration/trends", headers=bearer(team.facilitator)).get_json()
    by_key = {c["criterion"]: c for c in trends["hardest_criteria"]}
    assert by_key["ct-rigorous-task"]["below_target"] == 1  # within one 33%
    assert by_key["ct-explain-reasoning"]["below_target"] == 0  # within one 100%


def test_versions_outside_sessions_keep_their_stored_shape(new_session, score, team):
    session = new_session()
    rated = {"ct-explain-reasoning": 3}
    plain = score(team.observers[0], session, rated, calibration_session_id=None,
                  classroom_id=team.classroom.id)  # fmt: skip
    stored = db.session.get(ObservationVersion, plain["version_id"])
    assert "calibration_session_id" not in stored.payload


def test_nobody_but_its_author_reads_a_scores_history(
    client, bearer, new_session, score, team, admin
):
    session = new_session()
    result = score(team.observers[0], session, SCORES["Ann Ames"])
    url = f"/api/v1/observations/{result['observation_id']}"
    assert client.get(url, headers=bearer(team.observers[0])).status_code == 200
    for other in (team.facilitator, admin):
        assert client.get(url, headers=bearer(other)).status_code == 404
