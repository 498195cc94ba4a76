"""Calibration sessions as JSON: what a client sends to create one or record consensus, and a
session as devices and API clients see it — never anyone's scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load, validate

from observe.accounts.models import User
from observe.calibration.models import CalibrationSession
from observe.core.validation import DATE_RANGE

MAX_PARTICIPANTS = 60
MAX_RATIONALE = 4_000


class SessionSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def strip_text(self, data: Any, **kwargs: Any) -> Any:
        """A title of spaces is no title."""
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    team = fields.String(load_default="", validate=validate.Length(max=120))
    rubric_version_id = fields.Integer(strict=True, required=True)
    school_id = fields.Integer(strict=True, required=True)
    classroom_id = fields.Integer(strict=True, allow_none=True, load_default=None)
    lesson_reference = fields.String(load_default="", validate=validate.Length(max=500))
    held_on = fields.Date(required=True, validate=DATE_RANGE)
    participant_ids = fields.List(
        fields.Integer(strict=True),
        required=True,
        validate=validate.Length(
            min=2,
            max=MAX_PARTICIPANTS,
            error="a session needs from {min} to {max} participants",
        ),
    )
    anchor_id = fields.Integer(strict=True, allow_none=True, load_default=None)


class ConsensusItemSchema(Schema):
    class Meta:
        unknown = RAISE

    criterion = fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = fields.Integer(strict=True, allow_none=True, load_default=None)
    not_observed = fields.Boolean(load_default=False)
    rationale = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_RATIONALE, error="must be at most {max} characters"),
    )


class ConsensusSchema(Schema):
    class Meta:
        unknown = RAISE

    scores = fields.List(
        fields.Nested(ConsensusItemSchema),
        required=True,
        validate=validate.Length(min=1, error="give at least one criterion's score"),
    )


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
