"""Equity goals: set by leaders, refused whole when wrong, and their progress month by month."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from observe.core.permissions import Role
from observe.extensions import db
from observe.reports.goals import standing
from observe.reports.models import Goal


@pytest.fixture
def visits(push_as, team, create_classroom):
    """September: 3 visits at Riverside (too few to show). October: 12, 9 with a 3 or 4 on
    explaining reasoning. November: 11, none."""
    room = create_classroom("RVE-5", school=team.school, name="Grade 5", course_level="general")
    for day in range(1, 13):
        push_as(team.observers[0], {
            "classroom_id": room.id, "observed_at": f"2026-10-{day:02d}T15:00:00+00:00",
            "ratings": [{"criterion": "ct-explain-reasoning", "level": 4 if day <= 9 else 1}],
        })  # fmt: skip
    for month, days in (("11", 11), ("09", 3)):
        for day in range(1, days + 1):
            push_as(team.observers[0], {
                "classroom_id": room.id, "observed_at": f"2026-{month}-{day:02d}T15:00:00+00:00",
                "ratings": [{"criterion": "ct-explain-reasoning", "level": 2}],
            })  # fmt: skip


def goal_body(team, **fields):
    return {
        "title": "Every student explains their reasoning",
        "rubric_version_id": team.version.id,
        "target_kind": "criterion",
        "target_key": "ct-explain-reasoning",
        "at_least": 3,
        "target_share": 0.7,
        "school_code": "RVE",
        "starts_on": "2026-09-01",
        "deadline": (date.today() + timedelta(days=200)).isoformat(),
        **fields,
    }


def test_a_leader_sets_a_goal_and_reads_its_progress(client, bearer, team, visits):
    headers = bearer(team.facilitator)  # a leader of Riverside
    response = client.post("/api/v1/goals", json=goal_body(team), headers=headers)
    assert response.status_code == 201, response.get_json()
    goal = response.get_json()
    assert goal["target"]["label"].startswith("“Students explain their reasoning")
    # September's 3 visits are not shown. A goal shows no total, so nothing else need be
    # hidden: November, the newest month, is its latest.
    assert goal["months"] == [
        {"month": "2026-09", "observations": None, "share": None, "reason": "too few walkthroughs"},
        {"month": "2026-10", "observations": 12, "share": 0.75, "rated": 12, "classrooms": 1,
         "se": None, "interval": None},
        {"month": "2026-11", "observations": 11, "share": 0.0, "rated": 11, "classrooms": 1,
         "se": None, "interval": None},
    ]  # fmt: skip
    assert goal["latest"]["share"] == 0.0 and goal["met"] is False  # November
    # All of it one classroom: nothing says where the goal stands.
    assert goal["standing"] == "too early to tell"
    listed = client.get("/api/v1/goals", headers=headers).get_json()["goals"]
    assert [g["id"] for g in listed] == [goal["id"]]

    # The summary report shows the goals of its rubric and scope.
    report = client.get("/api/v1/reports/summary", headers=headers).get_json()
    assert [g["title"] for g in report["goals"]] == ["Every student explains their reasoning"]


def test_a_bad_goal_names_every_problem_and_sets_nothing(client, bearer, team, visits):
    body = goal_body(team, target_key="no-such-look-for", at_least=9, school_code="SHS",
                     deadline="2026-09-01")  # fmt: skip
    response = client.post("/api/v1/goals", json=body, headers=bearer(team.facilitator))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {
        "target_key", "at_least", "school_code", "deadline"
    }  # fmt: skip
    bad_share = client.post("/api/v1/goals", json=goal_body(team, target_share=70),
                            headers=bearer(team.facilitator))  # fmt: skip
    assert bad_share.get_json()["error"]["details"] == {
        "target_share": "must be above 0 and at most 1"
    }
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0


def test_who_sets_and_sees_goals(client, bearer, team, visits, admin, create_user):
    observer = client.post("/api/v1/goals", json=goal_body(team),
                           headers=bearer(team.observers[0]))  # fmt: skip
    assert observer.status_code == 403
    district = client.post("/api/v1/goals", json=goal_body(team, school_code=None,
                           target_kind="dimension", target_key="power"),
                           headers=bearer(admin))  # fmt: skip
    assert district.status_code == 201
    leader_district = client.post("/api/v1/goals", json=goal_body(team, school_code=None),
                                  headers=bearer(team.facilitator))  # fmt: skip
    assert leader_district.get_json()["error"]["details"] == {
        "school_code": "a school leader sets goals for one of their schools"
    }
    elsewhere = create_user(Role.SCHOOL_LEADER, schools=[team.other_school])
    client.post("/api/v1/goals", json=goal_body(team), headers=bearer(team.facilitator))
    seen = client.get("/api/v1/goals", headers=bearer(elsewhere)).get_json()["goals"]
    assert [g["school"] for g in seen] == [None]  # the district goal, not Riverside's
    refused = client.delete(f"/api/v1/goals/{district.get_json()['id']}",
                            headers=bearer(team.facilitator))  # fmt: skip
    assert refused.status_code == 403


def test_the_goals_page(client, sign_in, team, visits):
    sign_in(team.facilitator)
    response = client.post_form("/reports/goals", {
        "title": "Reasoning", "rubric_version_id": str(team.version.id),
        "target_kind": "criterion", "target_key": "ct-explain-reasoning", "at_least": "3",
        "target_percent": "80", "school_code": "RVE", "starts_on": "2026-09-01",
        "deadline": (date.today() + timedelta(days=100)).isoformat(),
    }, token_from="/reports/goals")  # fmt: skip
    assert response.status_code == 302
    page = client.get("/reports/goals").get_data(as_text=True)
    assert "80%" in page and "80 points to go" in page  # November, the newest month: 0%
    assert "not shown: too few walkthroughs" in page
    bad = client.post_form("/reports/goals", {"title": "", "target_percent": "x"},
                           token_from="/reports/goals")  # fmt: skip
    assert bad.status_code == 422
    assert "The goal was not set." in bad.get_data(as_text=True)


def test_what_a_goal_is_on_is_picked_by_name_not_typed_as_a_key(client, sign_in, team):
    """Issue 15: the form asked for "a look-for key from the rubric page"; it now offers every
    dimension, competency and look-for by name as the leader types, and sends the key."""
    sign_in(team.facilitator)
    page = client.get("/reports/goals").get_data(as_text=True)
    assert 'list="target-keys"' in page
    offered = dict(re.findall(r'<option value="([^"]+)" label="([^"]+)">', page))
    assert offered["power"] == "Equity dimension: power"
    assert offered["ct-explain-reasoning"].startswith("Look-for: ")
    assert any(label.startswith("Competency: ") for label in offered.values())
    # Only the leader's own school to set a goal for, and not the whole district.
    where = re.search(r'<select id="school_code"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r">([^<]+)</option>", where) == ["Riverside Elementary"]


def test_a_goal_stands_where_its_interval_says():
    target = 0.7
    assert standing(None, target) == "too early to tell"
    assert standing({"share": 0.75, "interval": None}, target) == "too early to tell"
    assert standing({"share": 0.85, "interval": [0.72, 0.93]}, target) == "on track"
    assert standing({"share": 0.70, "interval": [0.70, 0.80]}, target) == "on track"
    assert standing({"share": 0.50, "interval": [0.41, 0.62]}, target) == "behind"
    # 75% looks met, 60% looks short; the intervals straddle the target: neither is known.
    assert standing({"share": 0.75, "interval": [0.55, 0.88]}, target) == "not clear"
    assert standing({"share": 0.60, "interval": [0.45, 0.74]}, target) == "not clear"


def test_a_goal_from_mid_month_hides_that_month_beside_the_trend(client, bearer, team, visits):
    """Review A1: the trend shows October whole (12 walkthroughs); a goal counting from the
    3rd would show 10 — and 12 - 10 = the 2 walkthroughs of October's first two days."""
    headers = bearer(team.facilitator)
    body = goal_body(team, starts_on="2026-10-03")
    assert client.post("/api/v1/goals", json=body, headers=headers).status_code == 201
    report = client.get("/api/v1/reports/summary?from=2026-10-01", headers=headers).get_json()
    october = next(m for m in report["trend"] if m["month"] == "2026-10")
    assert october["observations"] == 12
    goal = report["goals"][0]
    month = next(m for m in goal["months"] if m["month"] == "2026-10")
    assert month["observations"] is None and month["share"] is None
    assert month["reason"] == "hidden so that a smaller figure cannot be worked out"
    assert goal["latest"]["month"] == "2026-11"
    # On its own (the goals page shows no trend) the goal's October is its own figure.
    alone = client.get("/api/v1/goals", headers=headers).get_json()["goals"][0]
    assert next(m for m in alone["months"] if m["month"] == "2026-10")["observations"] == 10


def test_a_closed_goal_shows_no_stored_month_the_response_hides_now(
    app, client, bearer, sign_in, team, visits, monkeypatch
):
    """Review A2: a closed year's goal stored its months under the rules of its closing (here
    a minimum of 3); the summary now hides September (3 walkthroughs) and, as cover, October,
    so the stored months must not show them — nor the October figure that decided the goal."""
    from observe.reports import goals

    headers = bearer(team.facilitator)
    body = goal_body(team, deadline="2026-10-31", target_share=0.5)
    goal_id = client.post("/api/v1/goals", json=body, headers=headers).get_json()["id"]
    goal = db.session.get(Goal, goal_id)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)
    goal.final = goals.figures(goal)  # as closing the year stores it
    db.session.commit()
    assert [m["observations"] for m in goal.final["months"]] == [3, 12]
    assert goal.final["decided_by"]["from_month"] == "2026-10" and goal.final["status"] == "met"
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 10)

    report = client.get("/api/v1/reports/summary?from=2026-09-01", headers=headers).get_json()
    hidden = {m["month"]: m["reason"] for m in report["trend"] if m["suppressed"]}
    assert hidden == {
        "2026-09": "too few walkthroughs",
        "2026-10": "hidden so that a smaller figure cannot be worked out",
    }
    shown = next(g for g in report["goals"] if g["id"] == goal_id)
    assert shown["closed"] is True and shown["status"] == "met"  # the year's result stays
    assert [(m["observations"], m["share"], m["reason"]) for m in shown["months"]] == [
        (None, None, hidden["2026-09"]),
        (None, None, hidden["2026-10"]),
    ]
    assert shown["latest"] is None and shown["met"] is False
    assert shown["decided_by"] is None and shown["decided_by_hidden"] == hidden["2026-10"]
    # The goals page (no trend beside it) masks what today's minimum hides.
    alone = client.get("/api/v1/goals?year=all", headers=headers).get_json()["goals"]
    months = next(g for g in alone if g["id"] == goal_id)["months"]
    assert [m["observations"] for m in months] == [None, 12]
    # The summary page says why the deciding figure is not shown.
    page = sign_in(team.facilitator).get("/reports/summary?from=2026-09-01")
    assert "decided by a month this report cannot show" in page.get_data(as_text=True)
