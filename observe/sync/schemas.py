"""The shape of what devices push, checked before anything is looked up in the database."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from observe.core.validation import MAX_ID, Id, Text, UTCDateTime, printable, text_problem
from observe.rubrics.translations import LANGUAGE

MAX_NOTES = 20_000
MAX_FEEDBACK = 500  # strengths, next step: a few sentences each; the feedback stays one page
MAX_EVIDENCE = 4_000
MAX_BATCH = 200
MAX_DURATION = 8 * 3600
MAX_CONTEXT_FIELDS = 50
MAX_CONTEXT_CHOICES = 100
MAX_CONTEXT_TEXT = 200


class RatingSchema(Schema):
    class Meta:
        unknown = RAISE

    criterion = Text(required=True, validate=validate.Length(min=1, max=100))
    # The rating's level column is a 32-bit integer on PostgreSQL: a level outside it (which no
    # rubric loaded now has, see format.MAX_LEVEL) is refused here, by name, not by the database.
    level = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(
            -MAX_ID, MAX_ID, error=f"is out of range (at most {MAX_ID} either side of 0)"
        ),
    )
    not_observed = fields.Boolean(load_default=False)
    evidence = Text(
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
        and (level is None or (type(level) is int and -MAX_ID <= level <= MAX_ID))
        and type(not_observed) is bool
        and type(evidence) is str
        and len(evidence) <= MAX_EVIDENCE
        and not (not_observed and level is not None)
        # Storable text (see text_problem), inlined: this runs for every rating pushed.
        and (("\x00" not in evidence and evidence.isascii()) or text_problem(evidence) is None)
        and (("\x00" not in criterion and criterion.isascii()) or text_problem(criterion) is None)
    )


class RatingList(fields.List[dict[str, Any]]):
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


class ContextChoices(fields.Field[dict[str, Any]]):
    """A walkthrough's context: field key → one option or a list of options, all text. Which
    keys and options the rubric allows is checked later, against the rubric version."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is not dict:
            raise ValidationError("must be an object of context fields")
        if len(value) > MAX_CONTEXT_FIELDS:
            raise ValidationError(f"at most {MAX_CONTEXT_FIELDS} context fields")
        problems: dict[str, str] = {}
        for key, chosen in value.items():
            name = printable(key)[:100]
            if problem := text_problem(key):
                problems[name] = f"its name {problem}"
            elif not 1 <= len(key) <= 100:
                problems[name] = "a context field's key has 1 to 100 characters"
            elif problem := _choices_problem(chosen):
                problems[name] = problem
        if problems:
            raise ValidationError(problems)
        return value


def _choices_problem(chosen: Any) -> str | None:
    options = chosen if type(chosen) is list else [chosen]
    if len(options) > MAX_CONTEXT_CHOICES:
        return f"at most {MAX_CONTEXT_CHOICES} options"
    for option in options:
        if type(option) is not str:
            return "must be an option (text) or a list of options"
        if len(option) > MAX_CONTEXT_TEXT:
            return f"an option has at most {MAX_CONTEXT_TEXT} characters"
        if problem := text_problem(option):
            return problem
    return None


class VersionSchema(Schema):
    """One saved version of an observation."""

    class Meta:
        unknown = RAISE

    observation_id = fields.UUID(required=True)
    version_id = fields.UUID(required=True)
    base_version_id = fields.UUID(allow_none=True, load_default=None)
    rubric_version_id = Id(required=True)
    school_id = Id(required=True)
    classroom_id = Id(allow_none=True, load_default=None)
    observed_at = UTCDateTime(required=True)
    saved_at = UTCDateTime(required=True)
    duration_seconds = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(0, MAX_DURATION, error="must be between 0 and {max} seconds"),
    )
    state = fields.String(load_default="submitted", validate=validate.OneOf(["draft", "submitted"]))
    context = ContextChoices(load_default=dict)
    ratings = RatingList(load_default=list)
    notes = Text(
        load_default="",
        validate=validate.Length(max=MAX_NOTES, error="must be at most {max} characters"),
    )
    # The observer's feedback for the teacher (the review screen). Optional: app versions from
    # before them do not send them.
    strengths = Text(
        load_default="",
        validate=validate.Length(max=MAX_FEEDBACK, error="must be at most {max} characters"),
    )
    next_step = Text(
        load_default="",
        validate=validate.Length(max=MAX_FEEDBACK, error="must be at most {max} characters"),
    )
    # Set when the walkthrough is a participant's score in a calibration session.
    calibration_session_id = Id(allow_none=True, load_default=None)
    # The language the app showed the form in (docs/rubric-format.md, "Languages"): which
    # text of the rubric the observer saw. Optional: apps from before it do not send it.
    language = Text(
        allow_none=True,
        load_default=None,
        validate=lambda code: _language(code),
    )


def _language(code: str) -> None:
    if not LANGUAGE.fullmatch(code):
        raise ValidationError("must be a language code in lowercase letters, such as en or es")


class PushSchema(Schema):
    """The envelope: which device, and the versions in the order the device saved them."""

    class Meta:
        unknown = RAISE

    device_id = Text(required=True, validate=validate.Length(min=1, max=100))
    app_version = Text(load_default="", validate=validate.Length(max=40))
    # Items are checked one by one (one bad item must not block the rest), so they pass
    # through here as raw JSON.
    versions = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(max=MAX_BATCH, error="at most {max} versions per push"),
    )


PERSISTED = ("yes", "no", "unsupported")


class DeviceSchema(Schema):
    """The app, at every start: which tablet database it holds (docs/sync.md "Eviction")."""

    class Meta:
        unknown = RAISE

    # The random id the tablet's database made for itself (the push envelope's device_id).
    database_id = Text(required=True, validate=validate.Length(min=1, max=100))
    # What the browser answered when asked for persistent storage (navigator.storage.persist).
    persisted = Text(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(PERSISTED, error="must be yes, no or unsupported"),
    )
