"""Calibration sessions as JSON: as devices and API clients see them — never anyone's scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observe.accounts.models import User
from observe.calibration.models import CalibrationSession


def person_json(user: User | None) -> dict[str, Any] | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def iso_seconds(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def session_json(session: CalibrationSession) -> dict[str, Any]:
    """A session as devices and API clients see it: never anyone's scores."""
    return {
        "id": session.id,
        "title": session.title,
        "team": session.team,
        "rubric_version_id": session.rubric_version_id,
        "school_id": session.school_id,
        "school_name": session.school.name,
        "classroom_id": session.classroom_id,
        # Named here: a participant from another school has no roster of the lesson's school.
        "classroom_name": session.classroom.name if session.classroom else None,
        "lesson_reference": session.lesson_reference,
        "held_on": session.held_on.isoformat(),
        "state": session.state.value,
        "facilitator": person_json(session.facilitator),
        "anchor": person_json(session.anchor),
        "participants": [person_json(p) for p in session.participants],
        "revealed_at": iso_seconds(session.revealed_at),
    }
