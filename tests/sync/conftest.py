"""A school, an observer and the sample rubric, and a factory for pushed versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from observe import paths
from observe.accounts.models import Role, User
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_file


@dataclass
class Setting:
    school: School
    other_school: School
    classroom: Classroom
    elsewhere: Classroom  # a classroom in a school the observer does not work in
    observer: User
    version: RubricVersion


@pytest.fixture
def setting(create_school, create_classroom, create_user) -> Setting:
    school = create_school("RVE", "Riverside Elementary")
    other = create_school("SHS", "Southfield High")
    classroom = create_classroom("RVE-03", school=school, name="Grade 3")
    elsewhere = create_classroom("SHS-11", school=other, name="AP US History")
    observer = create_user(Role.OBSERVER, email="coach@example.org", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    return Setting(school, other, classroom, elsewhere, observer, version)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def make_version(setting: Setting):
    """A valid version of a new observation; keyword arguments replace fields."""

    def make(**fields: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        version = {
            "observation_id": new_id(),
            "version_id": new_id(),
            "base_version_id": None,
            "rubric_version_id": setting.version.id,
            "school_id": setting.school.id,
            "classroom_id": setting.classroom.id,
            "observed_at": (now - timedelta(minutes=30)).isoformat(),
            "saved_at": (now - timedelta(minutes=10)).isoformat(),
            "duration_seconds": 600,
            "state": "submitted",
            "context": {"grouping": ["Small groups"]},
            "ratings": [
                {"criterion": "ct-explain-reasoning", "level": 3, "evidence": "Pairs argued."},
                {"criterion": "ct-rigorous-task", "level": None, "not_observed": True},
            ],
            "notes": "Strong opening.",
        }
        version.update(fields)
        return version

    return make


def edit_of(version: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The next version of the same observation, made from ``version``."""
    saved = datetime.fromisoformat(version["saved_at"]) + timedelta(minutes=1)
    return {
        **version,
        "version_id": new_id(),
        "base_version_id": version["version_id"],
        "saved_at": saved.isoformat(),
        **fields,
    }


@pytest.fixture
def push(client, bearer, setting: Setting):
    """POST versions as the observer (by token); returns the parsed JSON response."""
    headers = bearer(setting.observer)

    def do_push(*versions: dict[str, Any], device_id: str = "tablet-1", expect: int = 200):
        response = client.post(
            "/api/v1/sync/push",
            json={"device_id": device_id, "app_version": "1.0.0", "versions": list(versions)},
            headers={**headers, "User-Agent": "TestTablet/1.0"},
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    return do_push
