"""What a client sends to set an equity goal."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from observe.core.validation import DATE_RANGE

KINDS = ("criterion", "competency", "dimension")


class GoalSchema(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    rubric_version_id = fields.Integer(strict=True, required=True)
    target_kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    target_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    at_least = fields.Integer(strict=True, required=True)
    target_share = fields.Float(
        required=True,
        validate=validate.Range(0, 1, min_inclusive=False, error="must be above 0 and at most 1"),
    )
    school_code = fields.String(allow_none=True, load_default=None)
    starts_on = fields.Date(allow_none=True, load_default=None, validate=DATE_RANGE)
    # Both default to the current school year's first and last day.
    deadline = fields.Date(allow_none=True, load_default=None, validate=DATE_RANGE)


class CoverageQuerySchema(Schema):
    """The coverage report's filters, as query parameters: the period (district days, both
    ends included) and the schools (codes). Empty parameters are left out before loading."""

    class Meta:
        unknown = EXCLUDE  # a link may carry others (the page's paper size, a cache buster)

    start = fields.Date(data_key="from", load_default=None, validate=DATE_RANGE)
    end = fields.Date(data_key="to", load_default=None, validate=DATE_RANGE)
    school = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)
