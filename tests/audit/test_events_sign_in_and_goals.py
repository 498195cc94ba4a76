"""Events added when the waves met: held sign-ins and equity goals."""

from __future__ import annotations

from tests.reports.test_goals import goal_body


def test_a_held_sign_in_is_recorded_once_per_window(client, create_user, events):
    create_user(email="ann@example.org")
    answers = [
        client.post_form(
            "/sign-in", {"email": "ann@example.org", "password": "wrong password!"}
        ).status_code
        for _ in range(9)
    ]
    assert answers == [401] * 5 + [429] * 4
    [held] = events("sign_in.throttled")
    assert (held.actor_email, held.actor_id) == ("ann@example.org", None)
    assert len(events("sign_in.failed")) == 5


def test_setting_and_removing_a_goal_is_recorded(client, bearer, team, events):
    headers = bearer(team.facilitator)
    refused = client.post("/api/v1/goals", json=goal_body(team, at_least=99), headers=headers)
    assert refused.status_code == 422
    assert events("goal.created") == []
    goal = client.post("/api/v1/goals", json=goal_body(team), headers=headers).get_json()
    [created] = events("goal.created")
    assert (created.object_type, created.object_id) == ("goal", str(goal["id"]))
    assert created.actor_id == team.facilitator.id
    assert created.detail["title"] == "Every student explains their reasoning"
    assert client.delete(f"/api/v1/goals/{goal['id']}", headers=headers).status_code == 200
    [deleted] = events("goal.deleted")
    assert (deleted.object_id, deleted.detail["via"]) == (str(goal["id"]), "api token")
