"""The calibration team's fixtures, and a walkthrough pushed as any of its members."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.calibration.conftest import new_session, score, team  # noqa: F401 (fixtures)


@pytest.fixture
def push_as(client, bearer, team):  # noqa: F811 (the fixture imported above)
    tokens: dict[int, dict[str, str]] = {}  # one API token per person, as a tablet keeps one

    def push(user, fields):
        if user.id not in tokens:
            tokens[user.id] = bearer(user)
        now = datetime.now(UTC)
        version = {
            "observation_id": str(uuid.uuid4()),
            "version_id": str(uuid.uuid4()),
            "rubric_version_id": team.version.id,
            "school_id": team.school.id,
            "classroom_id": team.classroom.id,
            "observed_at": (now - timedelta(hours=1)).isoformat(),
            "saved_at": now.isoformat(),
            # A submitted walkthrough rates something (an empty one is refused).
            "ratings": [{"criterion": "ct-explain-reasoning", "level": 3}],
            **fields,
        }
        response = client.post(
            "/api/v1/sync/push",
            json={"device_id": "t", "versions": [version]},
            headers=tokens[user.id],
        )
        assert response.get_json()["results"][0]["status"] == "applied"
        return version["observation_id"]

    return push


@pytest.fixture(autouse=True)
def one_classroom_is_enough(app, monkeypatch):
    """Most report tests are about walkthrough counts on a few classrooms: the classroom and
    cell thresholds are 1 here. Tests of those thresholds (test_suppression*.py) set them."""
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 1)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CELL_RATINGS", 1)
