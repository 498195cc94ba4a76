"""The shape of what devices push, checked before anything is looked up in the database."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

MAX_NOTES = 20_000
MAX_EVIDENCE = 4_000
MAX_BATCH = 200
MAX_DURATION = 8 * 3600


class RatingSchema(Schema):
    class Meta:
        unknown = RAISE

    criterion = fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = fields.Integer(strict=True, allow_none=True, load_default=None)
    not_observed = fields.Boolean(load_default=False)
    evidence = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_EVIDENCE, error="must be at most {max} characters"),
    )

    @validates_schema
    def level_or_not_observed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["not_observed"] and data["level"] is not None:
            raise ValidationError("give a level or mark it not observed, not both", "level")


_RATING_KEYS = frozenset(("criterion", "level", "not_observed", "evidence"))


def _plainly_valid(rating: Any) -> bool:
    """A rating ``RatingSchema`` would load unchanged apart from its defaults — the shape every
    tablet sends. Anything else (a string for a number, a missing key, too long) is not."""
    if type(rating) is not dict or not rating.keys() <= _RATING_KEYS:
        return False
    criterion = rating.get("criterion")
    level = rating.get("level")
    not_observed = rating.get("not_observed", False)
    evidence = rating.get("evidence", "")
    return (
        type(criterion) is str
        and 1 <= len(criterion) <= 100
        and (level is None or type(level) is int)
        and type(not_observed) is bool
        and type(evidence) is str
        and len(evidence) <= MAX_EVIDENCE
        and not (not_observed and level is not None)
    )


class RatingList(fields.List):
    """A list of ratings, loaded as ``List(Nested(RatingSchema))`` loads it.

    A walkthrough carries dozens of ratings and a push hundreds of walkthroughs; running each
    plainly valid rating through a nested schema costs more than everything else in a push.
    Those are taken as they are (with the schema's defaults); a list with anything else goes
    through the schema, so every error reads exactly as the schema words it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(RatingSchema), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is list and all(_plainly_valid(r) for r in value):
            return [
                {
                    "criterion": r["criterion"],
                    "level": r.get("level"),
                    "not_observed": r.get("not_observed", False),
                    "evidence": r.get("evidence", ""),
                }
                for r in value
            ]
        return super()._deserialize(value, attr, data, **kwargs)


class VersionSchema(Schema):
    """One saved version of an observation."""

    class Meta:
        unknown = RAISE

    observation_id = fields.UUID(required=True)
    version_id = fields.UUID(required=True)
    base_version_id = fields.UUID(allow_none=True, load_default=None)
    rubric_version_id = fields.Integer(strict=True, required=True)
    school_id = fields.Integer(strict=True, required=True)
    classroom_id = fields.Integer(strict=True, allow_none=True, load_default=None)
    observed_at = fields.AwareDateTime(required=True)
    saved_at = fields.AwareDateTime(required=True)
    duration_seconds = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(0, MAX_DURATION, error="must be between 0 and {max} seconds"),
    )
    state = fields.String(load_default="submitted", validate=validate.OneOf(["draft", "submitted"]))
    context = fields.Dict(keys=fields.String(), load_default=dict)
    ratings = RatingList(load_default=list)
    notes = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_NOTES, error="must be at most {max} characters"),
    )
    # Set when the walkthrough is a participant's score in a calibration session.
    calibration_session_id = fields.Integer(strict=True, allow_none=True, load_default=None)


class PushSchema(Schema):
    """The envelope: which device, and the versions in the order the device saved them."""

    class Meta:
        unknown = RAISE

    device_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    app_version = fields.String(load_default="", validate=validate.Length(max=40))
    # Items are checked one by one (one bad item must not block the rest), so they pass
    # through here as raw JSON.
    versions = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(max=MAX_BATCH, error="at most {max} versions per push"),
    )
