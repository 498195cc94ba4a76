"""A calibration team: a facilitator, four observers from two schools, one lesson."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from observe import paths
from observe.accounts.models import User
from observe.core.permissions import Role
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_file

CRITERIA = ["ct-explain-reasoning", "ct-rigorous-task", "ct-student-questions"]


@dataclass
class Team:
    school: School
    other_school: School
    classroom: Classroom
    facilitator: User
    observers: list[User]
    outsider: User
    version: RubricVersion


@pytest.fixture
def team(create_school, create_classroom, create_user) -> Team:
    school = create_school("RVE", "Riverside Elementary")
    other = create_school("SHS", "Southfield High")
    classroom = create_classroom("RVE-03", school=school, name="Grade 3")
    facilitator = create_user(Role.SCHOOL_LEADER, name="Fay Facilitator", schools=[school])
    observers = [
        create_user(Role.OBSERVER, name="Ann Ames", schools=[school]),
        create_user(Role.OBSERVER, name="Ben Boyd", schools=[school]),
        # Calibration teams cross schools: Cy works elsewhere but scores this lesson.
        create_user(Role.OBSERVER, name="Cy Cole", schools=[other]),
        create_user(Role.SCHOOL_LEADER, name="Di Dunn", schools=[school]),
    ]
    outsider = create_user(Role.OBSERVER, name="Olga Outside", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    return Team(school, other, classroom, facilitator, observers, outsider, version)


@pytest.fixture
def new_session(client, bearer, team: Team):
    """Create a session through the API as the facilitator; returns its JSON."""

    def create(expect: int = 201, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Grade 3 number talk",
            "team": "Riverside instructional team",
            "rubric_version_id": team.version.id,
            "school_id": team.school.id,
            "classroom_id": team.classroom.id,
            "lesson_reference": "",
            "held_on": "2026-10-05",
            "participant_ids": [o.id for o in team.observers],
            "anchor_id": None,
            **fields,
        }
        response = client.post(
            "/api/v1/calibration/sessions", json=body, headers=bearer(team.facilitator)
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def score(client, bearer, team: Team):
    """Push one participant's walkthrough of the session's lesson; returns the push result."""

    def push(
        user: User,
        session: dict[str, Any],
        levels: dict[str, int | None],
        *,
        evidence: str = "",
        state: str = "submitted",
        **fields: Any,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        version = {
            "observation_id": str(uuid.uuid4()),
            "version_id": str(uuid.uuid4()),
            "base_version_id": None,
            "rubric_version_id": session["rubric_version_id"],
            "school_id": session["school_id"],
            "classroom_id": session["classroom_id"],
            "observed_at": (now - timedelta(hours=1)).isoformat(),
            "saved_at": (now - timedelta(minutes=5)).isoformat(),
            "state": state,
            "ratings": [
                {
                    "criterion": key,
                    "level": level,
                    "not_observed": level is None,
                    "evidence": evidence and f"{evidence} ({key})",
                }
                for key, level in levels.items()
            ],
            "calibration_session_id": session["id"],
            **fields,
        }
        response = client.post(
            "/api/v1/sync/push",
            json={"device_id": f"tablet-{user.id}", "versions": [version]},
            headers=bearer(user),
        )
        assert response.status_code == 200, response.get_json()
        result = response.get_json()["results"][0]
        result["version"] = version
        return result

    return push
